//! A direct 3×3 convolution (stride 1, zero padding 1) with its bias and an optional ReLU
//! fused, on NCHW f32 slices.
//!
//! Why direct and not im2col + GEMM: at the U-Net's sizes the im2col copy, the GEMM's own
//! packing and the separate bias and ReLU passes move more memory than the convolution
//! computes on. Here every input value is read from cache where it is used, and each output
//! is written once, activated.
//!
//! How: each image is copied once into a zero-bordered plane per channel, `(H+2)×(W+2)`. An
//! output pixel `(y, x)` then sits at flat index `i = y·(W+2) + x` of a padded grid, and its
//! nine taps at `i + dy·(W+2) + dx` of the bordered input: one flat, contiguous range of
//! positions for every image width, so vectors run along it without edge cases (the two
//! border columns per row are computed and dropped). A register block holds `OB` output
//! channels × `XB` vectors of positions; per input channel and tap it loads `XB` input vectors
//! and broadcasts `OB` weights (packed so that they are adjacent). Positions are processed in
//! tiles that keep their input rows in cache across all output-channel blocks.

use crate::parallel::{for_each_group, parallel_groups};
use crate::vector::{Scalar, Vector};

/// Sizes of one convolution: `batch` images of `c_in × height × width` into `c_out` channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv3x3Shape {
    pub batch: usize,
    pub c_in: usize,
    pub c_out: usize,
    pub height: usize,
    pub width: usize,
}

impl Conv3x3Shape {
    pub fn input_len(&self) -> usize {
        self.batch * self.c_in * self.height * self.width
    }
    pub fn weight_len(&self) -> usize {
        self.c_out * self.c_in * 9
    }
    pub fn output_len(&self) -> usize {
        self.batch * self.c_out * self.height * self.width
    }
}

/// Positions per tile: a tile's bordered input rows (`c_in` × (`TILE` + two padded rows))
/// stay in L2 while every output-channel block passes over them.
const TILE: usize = 512;

/// `out = act(conv3x3(input, weight) + bias)`; `weight` is `[c_out, c_in, 3, 3]`, `bias`
/// `[c_out]`, all row-major.
///
/// # Panics
/// If a slice's length does not match `shape` (callers size them from the same shape).
pub fn conv3x3(
    input: &[f32],
    weight: &[f32],
    bias: &[f32],
    shape: Conv3x3Shape,
    relu: bool,
    out: &mut [f32],
) {
    check_lengths(input, weight, bias, shape, out);
    if shape.output_len() == 0 {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if crate::vector::avx512_chosen() {
        // The same blocks of 16 lanes: half the 32 zmm registers.
        return run::<4>(input, weight, bias, shape, relu, out, 3 * 16, group_avx512);
    }
    #[cfg(target_arch = "x86_64")]
    if crate::vector::avx2_available() {
        // 4 output channels × 3 vectors of 8 positions: 12 accumulators, 3 input vectors and
        // a broadcast weight fill the 16 ymm registers.
        return run::<4>(input, weight, bias, shape, relu, out, 3 * 8, group_avx2);
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        // 4 × 2 vectors of 4: 8 accumulators, 2 inputs, a weight and a product in the 15
        // registers V8 leaves to wasm on x64.
        let group: GroupFn =
            |image, first, out| image.group::<crate::vector::Simd128, 4, 2>(first, out);
        return run::<4>(input, weight, bias, shape, relu, out, 2 * 4, group);
    }
    #[allow(unreachable_code)]
    conv3x3_scalar(input, weight, bias, shape, relu, out)
}

/// The portable form (also the reference the SIMD forms are tested against): the same
/// algorithm on one-lane vectors.
pub fn conv3x3_scalar(
    input: &[f32],
    weight: &[f32],
    bias: &[f32],
    shape: Conv3x3Shape,
    relu: bool,
    out: &mut [f32],
) {
    check_lengths(input, weight, bias, shape, out);
    let group: GroupFn = |image, first, out| image.group::<Scalar, 4, 4>(first, out);
    run::<4>(input, weight, bias, shape, relu, out, 4, group)
}

/// The slices must be exactly as long as `shape` says: the kernels read by pointer.
pub(crate) fn check_lengths(
    input: &[f32],
    weight: &[f32],
    bias: &[f32],
    shape: Conv3x3Shape,
    out: &[f32],
) {
    assert_eq!(input.len(), shape.input_len(), "input length");
    assert_eq!(weight.len(), shape.weight_len(), "weight length");
    assert_eq!(bias.len(), shape.c_out, "bias length");
    assert_eq!(out.len(), shape.output_len(), "output length");
}

/// Computes one group of output channels (from register block `first`) of a bordered image:
/// the instruction-set-specific part, compiled with its target features (a closure would not
/// inherit them from its caller).
type GroupFn = fn(&Image, usize, &mut [f32]);

#[cfg(target_arch = "x86_64")]
fn group_avx2(image: &Image, first: usize, out: &mut [f32]) {
    #[target_feature(enable = "avx2,fma")]
    unsafe fn inner(image: &Image, first: usize, out: &mut [f32]) {
        image.group::<crate::vector::Avx2, 4, 3>(first, out)
    }
    // SAFETY: only chosen after `avx2_available()`.
    unsafe { inner(image, first, out) }
}

#[cfg(target_arch = "x86_64")]
fn group_avx512(image: &Image, first: usize, out: &mut [f32]) {
    #[target_feature(enable = "avx512f")]
    unsafe fn inner(image: &Image, first: usize, out: &mut [f32]) {
        image.group::<crate::vector::Avx512, 4, 3>(first, out)
    }
    // SAFETY: only chosen after `avx512_chosen()`.
    unsafe { inner(image, first, out) }
}

/// Weights as `[c_out / OB (rounded up)][c_in][9][OB]`, missing channels zero, so a block's
/// `OB` broadcasts per tap are adjacent in memory.
fn pack_weights<const OB: usize>(weight: &[f32], c_out: usize, c_in: usize) -> Vec<f32> {
    let blocks = c_out.div_ceil(OB);
    let mut packed = vec![0.0; blocks * c_in * 9 * OB];
    for o in 0..c_out {
        let (block, lane) = (o / OB, o % OB);
        for c in 0..c_in {
            for t in 0..9 {
                packed[((block * c_in + c) * 9 + t) * OB + lane] = weight[(o * c_in + c) * 9 + t];
            }
        }
    }
    packed
}

/// The image copied into zero-bordered planes of `(H+2)×(W+2)`, with a zeroed tail so the
/// last register block may read past the final plane.
fn bordered(image: &[f32], c_in: usize, h: usize, w: usize, tail: usize) -> Vec<f32> {
    let (ph, pw) = (h + 2, w + 2);
    let mut padded = vec![0.0; c_in * ph * pw + tail];
    for c in 0..c_in {
        for y in 0..h {
            let from = (c * h + y) * w;
            let to = c * ph * pw + (y + 1) * pw + 1;
            padded[to..to + w].copy_from_slice(&image[from..from + w]);
        }
    }
    padded
}

#[allow(clippy::too_many_arguments)]
fn run<const OB: usize>(
    input: &[f32],
    weight: &[f32],
    bias: &[f32],
    shape: Conv3x3Shape,
    relu: bool,
    out: &mut [f32],
    step: usize,
    group: GroupFn,
) {
    let Conv3x3Shape {
        batch,
        c_in,
        c_out,
        height: h,
        width: w,
    } = shape;
    let packed = pack_weights::<OB>(weight, c_out, c_in);
    let pw = w + 2;
    // The last block may start at most one step before the last position and reads two rows
    // and two columns beyond it.
    let tail = step + 2 * pw + 2;
    let (image_in, image_out) = (c_in * h * w, c_out * h * w);
    for n in 0..batch {
        let padded = bordered(&input[n * image_in..(n + 1) * image_in], c_in, h, w, tail);
        let image = Image {
            padded: &padded,
            packed: &packed,
            bias,
            c_in,
            h,
            w,
            relu,
        };
        let out = &mut out[n * image_out..(n + 1) * image_out];
        // Output channels are split into groups of whole register blocks, one task each.
        let blocks = c_out.div_ceil(OB);
        let groups = parallel_groups(blocks);
        let group_channels = blocks.div_ceil(groups) * OB;
        for_each_group(out, group_channels * h * w, |g, chunk| {
            group(&image, g * group_channels / OB, chunk);
        });
    }
}

/// One bordered image and what every block of it needs.
struct Image<'a> {
    padded: &'a [f32],
    packed: &'a [f32],
    bias: &'a [f32],
    c_in: usize,
    h: usize,
    w: usize,
    relu: bool,
}

impl Image<'_> {
    /// Computes the output planes in `out` (whole channels, from register block `first`):
    /// tile by tile, every block of the group over each tile while its input is in cache.
    #[inline(always)]
    fn group<V: Vector, const OB: usize, const XB: usize>(&self, first: usize, out: &mut [f32]) {
        let (h, w, pw) = (self.h, self.w, self.w + 2);
        let positions = h * pw;
        let channels = out.len() / (h * w);
        let block_len = self.c_in * 9 * OB;
        // Whole register blocks per tile, so no block is computed twice at a tile's end.
        let step = XB * V::LANES;
        let tile = (TILE / step).max(1) * step;
        for start in (0..positions).step_by(tile) {
            let end = (start + tile).min(positions);
            for local in 0..channels.div_ceil(OB) {
                let block = first + local;
                let weights = &self.packed[block * block_len..(block + 1) * block_len];
                let mut i = start;
                while i < end {
                    // SAFETY: `padded` has c_in bordered planes and a tail covering a block
                    // that starts before `positions`; `weights` holds c_in·9·OB values.
                    let acc = unsafe { micro_kernel::<V, OB, XB>(self, weights, i, block * OB) };
                    self.write::<V, OB, XB>(acc, i, end, local * OB, out);
                    i += step;
                }
            }
        }
    }

    /// Stores a register block for positions `i ..` (below `end`) into channels `channel ..`
    /// of `out` (those that exist), dropping the border columns, after the optional ReLU.
    #[inline(always)]
    fn write<V: Vector, const OB: usize, const XB: usize>(
        &self,
        acc: [[V; XB]; OB],
        i: usize,
        end: usize,
        channel: usize,
        out: &mut [f32],
    ) {
        let (h, w, pw) = (self.h, self.w, self.w + 2);
        let mut lanes = [[0.0f32; LANE_SCRATCH]; OB];
        for (row, lane) in acc.iter().zip(lanes.iter_mut()) {
            for (x, v) in row.iter().enumerate() {
                // SAFETY: XB·LANES ≤ LANE_SCRATCH (asserted in `micro_kernel`).
                unsafe {
                    let v = if self.relu { v.relu() } else { *v };
                    v.store(lane.as_mut_ptr().add(x * V::LANES));
                }
            }
        }
        let count = (XB * V::LANES).min(end - i);
        for (lane, plane) in lanes
            .iter()
            .zip(out[channel * h * w..].chunks_exact_mut(h * w))
        {
            let (mut y, mut x) = (i / pw, i % pw);
            for &value in &lane[..count] {
                if x < w {
                    plane[y * w + x] = value;
                }
                x += 1;
                if x == pw {
                    x = 0;
                    y += 1;
                }
            }
        }
    }
}

/// Values a register block stores before they are scattered to the output.
const LANE_SCRATCH: usize = 64;

/// One register block: `OB` output channels from `channel` at the `XB·LANES` positions from
/// `i`, bias added, before activation.
///
/// # Safety
/// `image.padded` must hold `c_in` bordered planes of `(h+2)×(w+2)` plus a tail of at least
/// `XB·LANES + 2·(w+2) + 2` values; `weights` `c_in·9·OB` values.
#[inline(always)]
unsafe fn micro_kernel<V: Vector, const OB: usize, const XB: usize>(
    image: &Image,
    weights: &[f32],
    i: usize,
    channel: usize,
) -> [[V; XB]; OB] {
    const { assert!(XB * 16 <= LANE_SCRATCH) };
    let pw = image.w + 2;
    let plane = (image.h + 2) * pw;
    let taps = [0, 1, 2, pw, pw + 1, pw + 2, 2 * pw, 2 * pw + 1, 2 * pw + 2];
    let mut acc = [[unsafe { V::splat(0.0) }; XB]; OB];
    for (o, row) in acc.iter_mut().enumerate() {
        let b = image.bias.get(channel + o).copied().unwrap_or(0.0);
        *row = [unsafe { V::splat(b) }; XB];
    }
    debug_assert!(weights.len() >= image.c_in * 9 * OB);
    let base = image.padded.as_ptr();
    let mut wp = weights.as_ptr();
    for c in 0..image.c_in {
        let channel = unsafe { base.add(c * plane + i) };
        for &tap in &taps {
            let src = unsafe { channel.add(tap) };
            let mut x = [unsafe { V::splat(0.0) }; XB];
            for (k, v) in x.iter_mut().enumerate() {
                *v = unsafe { V::load(src.add(k * V::LANES)) };
            }
            for row in acc.iter_mut() {
                let wv = unsafe { V::splat(*wp) };
                wp = unsafe { wp.add(1) };
                for (a, xv) in row.iter_mut().zip(&x) {
                    *a = unsafe { V::mul_add(wv, *xv, *a) };
                }
            }
        }
    }
    acc
}

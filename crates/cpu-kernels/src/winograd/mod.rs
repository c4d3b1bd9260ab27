//! The same 3×3 convolution (stride 1, zero padding 1, bias and optional ReLU fused) by
//! Winograd's minimal filtering (Lavin & Gray, 2016), F(2×2, 3×3) and F(4×4, 3×3), for the
//! wide layers.
//!
//! Why: a direct 3×3 convolution spends 9 multiply-adds per input channel on every output
//! pixel; F(M×M, 3×3) computes an M×M output tile from an (M+2)×(M+2) input tile with
//! (M+2)² products: 4 per pixel for M = 2 (2.25× fewer), 2.25 for M = 4 (4× fewer). The price
//! is three linear transforms (weights, input tiles, output tiles) that cost per channel, not
//! per channel pair, so they vanish once both channel counts are large; below that the direct
//! kernel wins (`crate::burn_op` picks), and larger tiles waste more of a small image's edge.
//! F(2×2)'s constants are 0, ±1 and ½ (its rounding stays that of the direct kernel);
//! F(4×4)'s reach 8 and ⅙, and its rounding error is measured in the tests.
//!
//! How, per image (`tiling.rs` holds each size's constants):
//! 1. Weights: `U = G·g·Gᵀ`, one (M+2)² matrix per (output, input) channel pair, packed as
//!    `[c_out / OB][(M+2)²][c_in][OB]` so a register block's weights per element are adjacent.
//! 2. Input: the image is copied once into zero-bordered planes whose rows are split into M
//!    phases (bordered column `p` at entry `p / M` of phase `p % M`). Tile `(ty, tx)` reads
//!    bordered rows `M·ty .. M·ty+M+2` and columns `M·tx .. M·tx+M+2`, i.e. entries `tx` and
//!    `tx + 1` of the phases: so consecutive tiles are consecutive vector lanes, and
//!    `V = Bᵀ·d·B` is computed for a vector of tiles at once.
//! 3. The (M+2)² products `M[ξ] = U[ξ]·V[ξ]` are small matrix products over input channels,
//!    the same register-blocked micro-kernel as the direct form with one tap instead of nine.
//! 4. Output: `Y = Aᵀ·M·A` (+ bias, ReLU) per vector of tiles, scattered to the tiles' pixels.
//!
//! Tiles are taken a chunk at a time, so their transformed input (`(M+2)² × c_in` values
//! per tile) stays in cache while every output-channel block passes over it.

mod geometry;
mod tiling;

use crate::conv3x3::{Conv3x3Shape, check_lengths};
use crate::parallel::{for_each_group, parallel_groups, planes_per_task};
use crate::vector::{Scalar, Vector};
use geometry::{Corners, Geometry, split_planes};
use tiling::{F2, F4, MAX_ALPHA, MAX_M, Tiling};

/// Transformed input values a chunk of tiles may hold (512 KiB): within the L2 of the machines
/// measured, with room for the weights streamed past it.
const CHUNK_VALUES: usize = 128 * 1024;

/// Elements of the largest transformed tile.
const MAX_ELEMENTS: usize = MAX_ALPHA * MAX_ALPHA;

/// `out = act(conv3x3(input, weight) + bias)` by F(2×2, 3×3); the same contract as
/// [`crate::conv3x3::conv3x3`].
///
/// # Panics
/// If a slice's length does not match `shape`.
pub fn conv3x3_winograd(
    input: &[f32],
    weight: &[f32],
    bias: &[f32],
    shape: Conv3x3Shape,
    relu: bool,
    out: &mut [f32],
) {
    dispatch::<F2, 4, 2>(input, weight, bias, shape, relu, out)
}

/// The same by F(4×4, 3×3): fewer products, more rounding (measured in the tests).
///
/// # Panics
/// If a slice's length does not match `shape`.
pub fn conv3x3_winograd4(
    input: &[f32],
    weight: &[f32],
    bias: &[f32],
    shape: Conv3x3Shape,
    relu: bool,
    out: &mut [f32],
) {
    dispatch::<F4, 6, 4>(input, weight, bias, shape, relu, out)
}

/// F(2×2, 3×3)'s portable form (and the reference the SIMD forms are tested against).
pub fn conv3x3_winograd_scalar(
    input: &[f32],
    weight: &[f32],
    bias: &[f32],
    shape: Conv3x3Shape,
    relu: bool,
    out: &mut [f32],
) {
    scalar::<F2, 4, 2>(input, weight, bias, shape, relu, out)
}

/// F(4×4, 3×3)'s portable form.
pub fn conv3x3_winograd4_scalar(
    input: &[f32],
    weight: &[f32],
    bias: &[f32],
    shape: Conv3x3Shape,
    relu: bool,
    out: &mut [f32],
) {
    scalar::<F4, 6, 4>(input, weight, bias, shape, relu, out)
}

/// The instruction set's form of tiling `T`.
fn dispatch<T: Tiling<A, M>, const A: usize, const M: usize>(
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
        // 4 channels × 3 vectors of 16 tiles.
        return run::<T, A, M, 4>(
            input,
            weight,
            bias,
            shape,
            relu,
            out,
            16,
            group_avx512::<T, A, M>,
        );
    }
    #[cfg(target_arch = "x86_64")]
    if crate::vector::avx2_available() {
        // As the direct kernel: 4 channels × 3 vectors of 8 tiles in 12 ymm accumulators.
        return run::<T, A, M, 4>(
            input,
            weight,
            bias,
            shape,
            relu,
            out,
            8,
            group_avx2::<T, A, M>,
        );
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        let group: GroupFn<T, A, M> =
            |image, first, out| image.group::<crate::vector::Simd128, 4, 2>(first, out);
        return run::<T, A, M, 4>(input, weight, bias, shape, relu, out, 4, group);
    }
    #[allow(unreachable_code)]
    scalar::<T, A, M>(input, weight, bias, shape, relu, out)
}

fn scalar<T: Tiling<A, M>, const A: usize, const M: usize>(
    input: &[f32],
    weight: &[f32],
    bias: &[f32],
    shape: Conv3x3Shape,
    relu: bool,
    out: &mut [f32],
) {
    check_lengths(input, weight, bias, shape, out);
    let group: GroupFn<T, A, M> = |image, first, out| image.group::<Scalar, 4, 4>(first, out);
    run::<T, A, M, 4>(input, weight, bias, shape, relu, out, 1, group)
}

/// Computes one group of output channels (from register block `first`), compiled for its
/// instruction set.
type GroupFn<T, const A: usize, const M: usize> = fn(&Image<T, A, M>, usize, &mut [f32]);

#[cfg(target_arch = "x86_64")]
fn group_avx2<T: Tiling<A, M>, const A: usize, const M: usize>(
    image: &Image<T, A, M>,
    first: usize,
    out: &mut [f32],
) {
    #[target_feature(enable = "avx2,fma")]
    unsafe fn inner<T: Tiling<A, M>, const A: usize, const M: usize>(
        image: &Image<T, A, M>,
        first: usize,
        out: &mut [f32],
    ) {
        image.group::<crate::vector::Avx2, 4, 3>(first, out)
    }
    // SAFETY: only chosen after `avx2_available()`.
    unsafe { inner(image, first, out) }
}

#[cfg(target_arch = "x86_64")]
fn group_avx512<T: Tiling<A, M>, const A: usize, const M: usize>(
    image: &Image<T, A, M>,
    first: usize,
    out: &mut [f32],
) {
    #[target_feature(enable = "avx512f")]
    unsafe fn inner<T: Tiling<A, M>, const A: usize, const M: usize>(
        image: &Image<T, A, M>,
        first: usize,
        out: &mut [f32],
    ) {
        image.group::<crate::vector::Avx512, 4, 3>(first, out)
    }
    // SAFETY: only chosen after `avx512_chosen()`.
    unsafe { inner(image, first, out) }
}

/// `U = G·g·Gᵀ` per channel pair as `[c_out / OB (rounded up)][ALPHA²][c_in][OB]`, missing
/// output channels zero; register blocks shared between threads.
fn transform_weights<T: Tiling<A, M>, const A: usize, const M: usize, const OB: usize>(
    weight: &[f32],
    c_out: usize,
    c_in: usize,
) -> Vec<f32> {
    let elements = A * A;
    let block_len = elements * c_in * OB;
    let blocks = c_out.div_ceil(OB);
    let mut packed = vec![0.0; blocks * block_len];
    let per_task = planes_per_task(blocks, block_len);
    for_each_group(&mut packed, per_task * block_len, |g, chunk| {
        for (k, packed) in chunk.chunks_exact_mut(block_len).enumerate() {
            let block = g * per_task + k;
            for lane in 0..OB.min(c_out - block * OB) {
                let o = block * OB + lane;
                for c in 0..c_in {
                    let g = &weight[(o * c_in + c) * 9..][..9];
                    // G·g: ALPHA rows of three, one column of g at a time.
                    let [c0, c1, c2] =
                        [0, 1, 2].map(|x| T::weight_column([g[x], g[3 + x], g[6 + x]]));
                    for i in 0..A {
                        let row = T::weight_column([c0[i], c1[i], c2[i]]);
                        for (j, &value) in row.iter().enumerate() {
                            packed[((i * A + j) * c_in + c) * OB + lane] = value;
                        }
                    }
                }
            }
        }
    });
    packed
}

#[allow(clippy::too_many_arguments)]
fn run<T: Tiling<A, M>, const A: usize, const M: usize, const OB: usize>(
    input: &[f32],
    weight: &[f32],
    bias: &[f32],
    shape: Conv3x3Shape,
    relu: bool,
    out: &mut [f32],
    lanes: usize,
    group: GroupFn<T, A, M>,
) {
    let Conv3x3Shape {
        batch,
        c_in,
        c_out,
        height: h,
        width: w,
    } = shape;
    let transformed = transform_weights::<T, A, M, OB>(weight, c_out, c_in);
    let geo = Geometry::new(h, w, M, lanes);
    let (image_in, image_out) = (c_in * h * w, c_out * h * w);
    for n in 0..batch {
        let split = split_planes::<M>(&input[n * image_in..(n + 1) * image_in], c_in, &geo);
        let image = Image {
            split: &split,
            transformed: &transformed,
            bias,
            c_in,
            geo,
            relu,
            tiling: std::marker::PhantomData,
        };
        let out = &mut out[n * image_out..(n + 1) * image_out];
        let blocks = c_out.div_ceil(OB);
        let groups = parallel_groups(blocks);
        let group_channels = blocks.div_ceil(groups) * OB;
        for_each_group(out, group_channels * h * w, |g, chunk| {
            group(&image, g * group_channels / OB, chunk);
        });
    }
}

/// One image's split planes and what every block of it needs.
struct Image<'a, T, const A: usize, const M: usize> {
    split: &'a [f32],
    transformed: &'a [f32],
    bias: &'a [f32],
    c_in: usize,
    geo: Geometry,
    relu: bool,
    tiling: std::marker::PhantomData<T>,
}

/// The most values one register block's products per element take (`OB·XB·LANES` ≤ 4·4·16).
const BLOCK_SCRATCH: usize = 256;
/// The most tiles one register block spans (`XB·LANES`).
const BLOCK_TILES: usize = 64;

impl<T: Tiling<A, M>, const A: usize, const M: usize> Image<'_, T, A, M> {
    /// Computes the output planes in `out` (whole channels, from register block `first`),
    /// a chunk of tiles at a time.
    #[inline(always)]
    fn group<V: Vector, const OB: usize, const XB: usize>(&self, first: usize, out: &mut [f32]) {
        const { assert!(OB * XB * V::LANES <= BLOCK_SCRATCH && XB * V::LANES <= BLOCK_TILES) };
        let geo = self.geo;
        let elements = A * A;
        let channels = out.len() / (geo.h * geo.w);
        // Chunks of whole register blocks (so whole vectors, never across a tile row).
        let step = XB * V::LANES;
        let total = geo.tile_rows * geo.tile_stride;
        let chunk = (CHUNK_VALUES / (elements * self.c_in) / step).max(1) * step;
        let stride = chunk.min(total.next_multiple_of(step));
        let mut tiles = vec![0.0; elements * self.c_in * stride];
        let mut products = [[0.0f32; BLOCK_SCRATCH]; MAX_ELEMENTS];
        let block_len = elements * self.c_in * OB;
        for start in (0..total).step_by(stride) {
            let count = stride.min(total - start);
            self.transform_input::<V>(start..start + count, stride, &mut tiles);
            for local in 0..channels.div_ceil(OB) {
                let block = first + local;
                let weights = &self.transformed[block * block_len..][..block_len];
                for t in (0..count).step_by(step) {
                    for (element, product) in products.iter_mut().take(elements).enumerate() {
                        let u = &weights[element * self.c_in * OB..][..self.c_in * OB];
                        let v = &tiles[element * self.c_in * stride + t..];
                        // SAFETY: `v` holds c_in rows of `stride` from `t`, and
                        // `t + step ≤ stride`; `u` holds c_in·OB values.
                        let acc = unsafe { product_block::<V, OB, XB>(u, v, self.c_in, stride) };
                        store_block::<V, OB, XB>(&acc, product);
                    }
                    let tiles = start + t..start + t + step.min(count - t);
                    self.transform_output::<V, OB, XB>(&products, tiles, block * OB, local, out);
                }
            }
        }
    }

    /// `V = Bᵀ·d·B` for the tiles `tiles` (indices `ty · tile_stride + tx`, whole vectors) and
    /// every input channel, into `out[(element · c_in + c) · stride + tile − tiles.start]`:
    /// first down each of the tile's columns, then along each resulting row.
    #[inline(always)]
    fn transform_input<V: Vector>(
        &self,
        tiles: std::ops::Range<usize>,
        stride: usize,
        out: &mut [f32],
    ) {
        let geo = self.geo;
        let zero = unsafe { V::splat(0.0) };
        for c in 0..self.c_in {
            let plane = &self.split[c * geo.plane_len()..][..geo.plane_len()];
            for tile in tiles.clone().step_by(V::LANES) {
                let (ty, tx) = (tile / geo.tile_stride, tile % geo.tile_stride);
                let local = tile - tiles.start;
                // Column s of the tile is entry tx + s / M of phase s % M.
                let mut by_column = [[zero; A]; A];
                for (s, combined) in by_column.iter_mut().enumerate() {
                    let offset = (s % M) * geo.phase + tx + s / M;
                    let mut d = [zero; A];
                    for (r, value) in d.iter_mut().enumerate() {
                        // SAFETY: rows M·ty .. M·ty+A ≤ M·tile_rows + 2 exist; `offset` +
                        // LANES ≤ (M−1)·phase + tile_stride + 1 = row_len.
                        let at = (M * ty + r) * geo.row_len() + offset;
                        *value = unsafe { V::load(plane.as_ptr().add(at)) };
                    }
                    *combined = unsafe { T::input(&d) };
                }
                for i in 0..A {
                    let row = unsafe { T::input(&by_column.map(|column| column[i])) };
                    for (j, value) in row.into_iter().enumerate() {
                        let at = ((i * A + j) * self.c_in + c) * stride + local;
                        debug_assert!(at + V::LANES <= out.len());
                        // SAFETY: `local + LANES ≤ count ≤ stride` (whole vectors).
                        unsafe { value.store(out.as_mut_ptr().add(at)) };
                    }
                }
            }
        }
    }

    /// `Y = Aᵀ·M·A` + bias (and ReLU) for one register block's tiles, written to the M×M
    /// output pixels of each tile inside the image.
    #[inline(always)]
    fn transform_output<V: Vector, const OB: usize, const XB: usize>(
        &self,
        products: &[[f32; BLOCK_SCRATCH]; MAX_ELEMENTS],
        tiles: std::ops::Range<usize>,
        channel: usize,
        local: usize,
        out: &mut [f32],
    ) {
        let geo = self.geo;
        let zero = unsafe { V::splat(0.0) };
        let plane_len = geo.h * geo.w;
        let channels = out.len() / plane_len;
        let corners = Corners::of(tiles.clone(), &geo);
        let mut pixels = [[0.0f32; BLOCK_TILES]; MAX_M * MAX_M];
        for o in 0..OB.min(channels - local * OB) {
            let plane = &mut out[(local * OB + o) * plane_len..][..plane_len];
            let bias = unsafe { V::splat(self.bias.get(channel + o).copied().unwrap_or(0.0)) };
            for x in 0..XB {
                let at = (o * XB + x) * V::LANES;
                // First down every column, then along the M resulting rows.
                let mut by_column = [[zero; M]; A];
                for (j, combined) in by_column.iter_mut().enumerate() {
                    let mut column = [zero; A];
                    for (i, value) in column.iter_mut().enumerate() {
                        // SAFETY: `store_block` wrote OB·XB·LANES values per element.
                        *value = unsafe { V::load(products[i * A + j].as_ptr().add(at)) };
                    }
                    *combined = unsafe { T::output(&column) };
                }
                for a in 0..M {
                    let row = unsafe { T::output(&by_column.map(|column| column[a])) };
                    for (b, value) in row.into_iter().enumerate() {
                        let mut value = unsafe { value.add(bias) };
                        if self.relu {
                            value = unsafe { value.relu() };
                        }
                        // SAFETY: XB·LANES ≤ BLOCK_TILES (asserted in `group`).
                        unsafe { value.store(pixels[a * M + b].as_mut_ptr().add(x * V::LANES)) };
                    }
                }
            }
            for (k, corner) in corners.iter().enumerate() {
                let &Some((at, cols, rows)) = corner else {
                    continue;
                };
                if rows == M && cols == M {
                    // The common case, unrolled: whole rows of the tile.
                    for a in 0..M {
                        let row = &mut plane[at + a * geo.w..][..M];
                        for (b, pixel) in row.iter_mut().enumerate() {
                            *pixel = pixels[a * M + b][k];
                        }
                    }
                } else {
                    for a in 0..rows {
                        for b in 0..cols {
                            plane[at + a * geo.w + b] = pixels[a * M + b][k];
                        }
                    }
                }
            }
        }
    }
}

/// `OB` output channels × `XB` vectors of tiles of one element's product over input channels.
///
/// # Safety
/// `v` must hold `c_in` rows of `stride` values, each with `XB·LANES` values from its start;
/// `u` `c_in·OB` values.
#[inline(always)]
unsafe fn product_block<V: Vector, const OB: usize, const XB: usize>(
    u: &[f32],
    v: &[f32],
    c_in: usize,
    stride: usize,
) -> [[V; XB]; OB] {
    debug_assert!(u.len() >= c_in * OB);
    debug_assert!(v.len() >= (c_in - 1) * stride + XB * V::LANES);
    let mut acc = [[unsafe { V::splat(0.0) }; XB]; OB];
    let (mut up, mut vp) = (u.as_ptr(), v.as_ptr());
    for _ in 0..c_in {
        let mut x = [unsafe { V::splat(0.0) }; XB];
        for (k, value) in x.iter_mut().enumerate() {
            *value = unsafe { V::load(vp.add(k * V::LANES)) };
        }
        for row in acc.iter_mut() {
            let weight = unsafe { V::splat(*up) };
            up = unsafe { up.add(1) };
            for (a, xv) in row.iter_mut().zip(&x) {
                *a = unsafe { V::mul_add(weight, *xv, *a) };
            }
        }
        vp = unsafe { vp.add(stride) };
    }
    acc
}

/// Stores a block's accumulators as `[OB][XB·LANES]`.
#[inline(always)]
fn store_block<V: Vector, const OB: usize, const XB: usize>(
    acc: &[[V; XB]; OB],
    to: &mut [f32; BLOCK_SCRATCH],
) {
    for (o, row) in acc.iter().enumerate() {
        for (x, value) in row.iter().enumerate() {
            // SAFETY: OB·XB·LANES ≤ BLOCK_SCRATCH (asserted in `Image::group`).
            unsafe { value.store(to.as_mut_ptr().add((o * XB + x) * V::LANES)) };
        }
    }
}

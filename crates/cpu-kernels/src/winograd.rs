//! The same 3×3 convolution (stride 1, zero padding 1, bias and optional ReLU fused) by
//! Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, 2016), for the wide layers.
//!
//! Why: a direct 3×3 convolution spends 9 multiply-adds per input channel on every output
//! pixel; F(2×2, 3×3) computes a 2×2 output tile from a 4×4 input tile with 16, i.e. 4 per
//! pixel, 2.25× fewer. The price is three linear transforms (weights, input tiles, output
//! tiles) that cost per channel, not per channel pair, so they vanish once both channel counts
//! are large; below that the direct kernel wins (`crate::burn_op` picks). Its transform
//! constants are 0, ±1 and ½, so the rounding error stays that of a sum of a few more terms
//! (the tests hold it to the direct kernel's bound).
//!
//! How, per image:
//! 1. Weights: `U = G·g·Gᵀ`, one 4×4 matrix per (output, input) channel pair, packed as
//!    `[c_out / OB][16][c_in][OB]` so a register block's weights per element are adjacent.
//! 2. Input: the image is copied once into zero-bordered planes whose rows are split into
//!    even and odd columns. Tile `(ty, tx)` reads bordered rows `2ty .. 2ty+4` and columns
//!    `2tx .. 2tx+4`, i.e. even/odd entries `tx` and `tx + 1`: so consecutive tiles are
//!    consecutive vector lanes, and `V = Bᵀ·d·B` is computed for a vector of tiles at once.
//! 3. The 16 products `M[ξ] = U[ξ]·V[ξ]` are small matrix products over input channels, the
//!    same register-blocked micro-kernel as the direct form with one tap instead of nine.
//! 4. Output: `Y = Aᵀ·M·A` (+ bias, ReLU) per vector of tiles, scattered to the 2×2 pixels.
//!
//! Tiles are taken a chunk at a time, so their transformed input (`16 × c_in` values
//! per tile) stays in cache while every output-channel block passes over it.

use crate::conv3x3::{Conv3x3Shape, check_lengths, for_each_group, parallel_groups};
use crate::vector::{Scalar, Vector};

/// Transformed input values a chunk of tiles may hold (512 KiB): within the L2 of the machines
/// measured, with room for the weights streamed past it.
const CHUNK_VALUES: usize = 128 * 1024;

/// Elements of a 4×4 transformed tile.
const ELEMENTS: usize = 16;

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
    check_lengths(input, weight, bias, shape, out);
    if shape.output_len() == 0 {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if crate::vector::avx2_available() {
        // As the direct kernel: 4 channels × 3 vectors of 8 tiles in 12 ymm accumulators.
        return run::<4>(input, weight, bias, shape, relu, out, 8, group_avx2);
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        let group: GroupFn =
            |image, first, out| image.group::<crate::vector::Simd128, 4, 2>(first, out);
        return run::<4>(input, weight, bias, shape, relu, out, 4, group);
    }
    #[allow(unreachable_code)]
    conv3x3_winograd_scalar(input, weight, bias, shape, relu, out)
}

/// The portable form (and the reference the SIMD forms are tested against).
pub fn conv3x3_winograd_scalar(
    input: &[f32],
    weight: &[f32],
    bias: &[f32],
    shape: Conv3x3Shape,
    relu: bool,
    out: &mut [f32],
) {
    check_lengths(input, weight, bias, shape, out);
    let group: GroupFn = |image, first, out| image.group::<Scalar, 4, 4>(first, out);
    run::<4>(input, weight, bias, shape, relu, out, 1, group)
}

/// Computes one group of output channels (from register block `first`), compiled for its
/// instruction set.
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

/// Where tiles and their split rows lie for one image size and vector width.
#[derive(Clone, Copy)]
struct Geometry {
    h: usize,
    w: usize,
    /// Tile rows and tile columns (`⌈h/2⌉`, `⌈w/2⌉`).
    tile_rows: usize,
    tile_cols: usize,
    /// Tile columns rounded up to whole vectors: the stride of a tile row.
    tile_stride: usize,
    /// Length of a split row's even (and of its odd) half: one more than `tile_stride`, since
    /// tile `tx` also reads entry `tx + 1`.
    half: usize,
}

impl Geometry {
    fn new(h: usize, w: usize, lanes: usize) -> Self {
        let (tile_rows, tile_cols) = (h.div_ceil(2), w.div_ceil(2));
        let tile_stride = tile_cols.next_multiple_of(lanes);
        Geometry {
            h,
            w,
            tile_rows,
            tile_cols,
            tile_stride,
            half: tile_stride + 1,
        }
    }
    /// A split row: `half` even columns, then `half` odd ones.
    fn row_len(&self) -> usize {
        2 * self.half
    }
    /// One channel's split plane: the bordered rows `0 ..= 2·tile_rows + 1`.
    fn plane_len(&self) -> usize {
        (2 * self.tile_rows + 2) * self.row_len()
    }
}

/// `U = G·g·Gᵀ` per channel pair as `[c_out / OB (rounded up)][16][c_in][OB]`, missing output
/// channels zero. With `G = [[1,0,0], [½,½,½], [½,−½,½], [0,0,1]]`.
fn transform_weights<const OB: usize>(weight: &[f32], c_out: usize, c_in: usize) -> Vec<f32> {
    let g_rows = |g: [f32; 3]| {
        [
            g[0],
            (g[0] + g[1] + g[2]) / 2.0,
            (g[0] - g[1] + g[2]) / 2.0,
            g[2],
        ]
    };
    let mut packed = vec![0.0; c_out.div_ceil(OB) * ELEMENTS * c_in * OB];
    for o in 0..c_out {
        let (block, lane) = (o / OB, o % OB);
        for c in 0..c_in {
            let g = &weight[(o * c_in + c) * 9..][..9];
            // G·g: four rows of three, one per column of g at a time.
            let [c0, c1, c2] = [0, 1, 2].map(|x| g_rows([g[x], g[3 + x], g[6 + x]]));
            for i in 0..4 {
                let row = g_rows([c0[i], c1[i], c2[i]]);
                for (j, value) in row.into_iter().enumerate() {
                    let element = i * 4 + j;
                    packed[((block * ELEMENTS + element) * c_in + c) * OB + lane] = value;
                }
            }
        }
    }
    packed
}

/// The image in zero-bordered planes whose rows are split into even and odd columns
/// (bordered column `p` at `p / 2` of its half).
fn split_planes(image: &[f32], c_in: usize, geo: &Geometry) -> Vec<f32> {
    let (h, w) = (geo.h, geo.w);
    let mut split = vec![0.0; c_in * geo.plane_len()];
    for c in 0..c_in {
        for y in 0..h {
            let row = &mut split[c * geo.plane_len() + (y + 1) * geo.row_len()..][..geo.row_len()];
            let (even, odd) = row.split_at_mut(geo.half);
            for (x, &value) in image[(c * h + y) * w..][..w].iter().enumerate() {
                let p = x + 1;
                if p % 2 == 0 {
                    even[p / 2] = value;
                } else {
                    odd[p / 2] = value;
                }
            }
        }
    }
    split
}

#[allow(clippy::too_many_arguments)]
fn run<const OB: usize>(
    input: &[f32],
    weight: &[f32],
    bias: &[f32],
    shape: Conv3x3Shape,
    relu: bool,
    out: &mut [f32],
    lanes: usize,
    group: GroupFn,
) {
    let Conv3x3Shape {
        batch,
        c_in,
        c_out,
        height: h,
        width: w,
    } = shape;
    let transformed = transform_weights::<OB>(weight, c_out, c_in);
    let geo = Geometry::new(h, w, lanes);
    let (image_in, image_out) = (c_in * h * w, c_out * h * w);
    for n in 0..batch {
        let split = split_planes(&input[n * image_in..(n + 1) * image_in], c_in, &geo);
        let image = Image {
            split: &split,
            transformed: &transformed,
            bias,
            c_in,
            geo,
            relu,
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
struct Image<'a> {
    split: &'a [f32],
    transformed: &'a [f32],
    bias: &'a [f32],
    c_in: usize,
    geo: Geometry,
    relu: bool,
}

/// The most values one register block's 16 products take (`OB·XB·LANES` ≤ 4·4·8).
const BLOCK_SCRATCH: usize = 128;

impl Image<'_> {
    /// Computes the output planes in `out` (whole channels, from register block `first`),
    /// a chunk of tiles at a time.
    #[inline(always)]
    fn group<V: Vector, const OB: usize, const XB: usize>(&self, first: usize, out: &mut [f32]) {
        const { assert!(OB * XB * V::LANES <= BLOCK_SCRATCH && XB * V::LANES <= BLOCK_SCRATCH / 4) };
        let geo = self.geo;
        let channels = out.len() / (geo.h * geo.w);
        // Chunks of whole register blocks (so whole vectors, never across a tile row).
        let step = XB * V::LANES;
        let total = geo.tile_rows * geo.tile_stride;
        let chunk = (CHUNK_VALUES / (ELEMENTS * self.c_in) / step).max(1) * step;
        let stride = chunk.min(total.next_multiple_of(step));
        let mut tiles = vec![0.0; ELEMENTS * self.c_in * stride];
        let mut products = [[0.0f32; BLOCK_SCRATCH]; ELEMENTS];
        let block_len = ELEMENTS * self.c_in * OB;
        for start in (0..total).step_by(stride) {
            let count = stride.min(total - start);
            self.transform_input::<V>(start..start + count, stride, &mut tiles);
            for local in 0..channels.div_ceil(OB) {
                let block = first + local;
                let weights = &self.transformed[block * block_len..][..block_len];
                for t in (0..count).step_by(step) {
                    for (element, product) in products.iter_mut().enumerate() {
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
    /// every input channel, into `out[(element · c_in + c) · stride + tile − tiles.start]`.
    /// `Bᵀ = [[1,0,−1,0], [0,1,1,0], [0,−1,1,0], [0,1,0,−1]]`, applied to the four bordered
    /// rows, then to the four columns.
    #[inline(always)]
    fn transform_input<V: Vector>(
        &self,
        tiles: std::ops::Range<usize>,
        stride: usize,
        out: &mut [f32],
    ) {
        let geo = self.geo;
        for c in 0..self.c_in {
            let plane = &self.split[c * geo.plane_len()..][..geo.plane_len()];
            for tile in tiles.clone().step_by(V::LANES) {
                let (ty, tx) = (tile / geo.tile_stride, tile % geo.tile_stride);
                let local = tile - tiles.start;
                // Columns 2tx .. 2tx+4 of a row are even[tx], odd[tx], even[tx+1],
                // odd[tx+1]; first every column's four rows are combined.
                let mut by_column = [[unsafe { V::splat(0.0) }; 4]; 4];
                for (s, combined) in by_column.iter_mut().enumerate() {
                    let offset = (s % 2) * geo.half + tx + s / 2;
                    let mut d = [unsafe { V::splat(0.0) }; 4];
                    for (r, value) in d.iter_mut().enumerate() {
                        // SAFETY: rows 2ty .. 2ty+4 ≤ 2·tile_rows + 2 exist; `offset` +
                        // LANES ≤ half + tile_stride + 1 = row_len.
                        let at = (2 * ty + r) * geo.row_len() + offset;
                        *value = unsafe { V::load(plane.as_ptr().add(at)) };
                    }
                    *combined = unsafe { input_combine(d) };
                }
                for i in 0..4 {
                    let c4 = &by_column;
                    let row = unsafe { input_combine([c4[0][i], c4[1][i], c4[2][i], c4[3][i]]) };
                    for (j, value) in row.into_iter().enumerate() {
                        let at = ((i * 4 + j) * self.c_in + c) * stride + local;
                        debug_assert!(at + V::LANES <= out.len());
                        // SAFETY: `local + LANES ≤ count ≤ stride` (whole vectors).
                        unsafe { value.store(out.as_mut_ptr().add(at)) };
                    }
                }
            }
        }
    }

    /// `Y = Aᵀ·M·A` + bias (and ReLU) for one register block's tiles, written to the 2×2
    /// output pixels of each tile inside the image. `Aᵀ = [[1,1,1,0], [0,1,−1,−1]]`.
    #[inline(always)]
    fn transform_output<V: Vector, const OB: usize, const XB: usize>(
        &self,
        products: &[[f32; BLOCK_SCRATCH]; ELEMENTS],
        tiles: std::ops::Range<usize>,
        channel: usize,
        local: usize,
        out: &mut [f32],
    ) {
        let geo = self.geo;
        let plane_len = geo.h * geo.w;
        let channels = out.len() / plane_len;
        let corners = Corners::of(tiles.clone(), &geo);
        let mut pixels = [[0.0f32; BLOCK_SCRATCH / 4]; 4];
        for o in 0..OB.min(channels - local * OB) {
            let plane = &mut out[(local * OB + o) * plane_len..][..plane_len];
            let bias = unsafe { V::splat(self.bias.get(channel + o).copied().unwrap_or(0.0)) };
            for x in 0..XB {
                let at = (o * XB + x) * V::LANES;
                // First every column's four rows are combined, then the two rows' columns.
                let mut by_row = [[unsafe { V::splat(0.0) }; 2]; 4];
                for (j, combined) in by_row.iter_mut().enumerate() {
                    let mut m = [unsafe { V::splat(0.0) }; 4];
                    for (i, value) in m.iter_mut().enumerate() {
                        // SAFETY: `store_block` wrote OB·XB·LANES values per element.
                        *value = unsafe { V::load(products[i * 4 + j].as_ptr().add(at)) };
                    }
                    *combined = unsafe { output_combine(m) };
                }
                for a in 0..2 {
                    let r4 = &by_row;
                    let row = unsafe { output_combine([r4[0][a], r4[1][a], r4[2][a], r4[3][a]]) };
                    for (b, value) in row.into_iter().enumerate() {
                        let mut value = unsafe { value.add(bias) };
                        if self.relu {
                            value = unsafe { value.relu() };
                        }
                        // SAFETY: XB·LANES ≤ BLOCK_SCRATCH / 4 (asserted in `group`).
                        unsafe { value.store(pixels[a * 2 + b].as_mut_ptr().add(x * V::LANES)) };
                    }
                }
            }
            for (k, corner) in corners.iter().enumerate() {
                let &Some((at, right, below)) = corner else {
                    continue;
                };
                plane[at] = pixels[0][k];
                if right {
                    plane[at + 1] = pixels[1][k];
                }
                if below {
                    plane[at + geo.w] = pixels[2][k];
                    if right {
                        plane[at + geo.w + 1] = pixels[3][k];
                    }
                }
            }
        }
    }
}

/// Where a register block's tiles write: each tile's top-left output pixel and whether its
/// right column and bottom row lie inside the image (`None` for the padding tiles past the
/// last tile column). Found once per block, not per channel: a division per tile would cost
/// as much as its products.
struct Corners {
    corners: [Option<(usize, bool, bool)>; BLOCK_SCRATCH / 4],
    count: usize,
}

impl Corners {
    #[inline(always)]
    fn of(tiles: std::ops::Range<usize>, geo: &Geometry) -> Self {
        let mut corners = [None; BLOCK_SCRATCH / 4];
        let (mut ty, mut tx) = (tiles.start / geo.tile_stride, tiles.start % geo.tile_stride);
        for corner in corners.iter_mut().take(tiles.len()) {
            if tx < geo.tile_cols {
                let (y, x) = (2 * ty, 2 * tx);
                *corner = Some((y * geo.w + x, x + 1 < geo.w, y + 1 < geo.h));
            }
            tx += 1;
            if tx == geo.tile_stride {
                (ty, tx) = (ty + 1, 0);
            }
        }
        Corners {
            corners,
            count: tiles.len(),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Option<(usize, bool, bool)>> {
        self.corners[..self.count].iter()
    }
}

/// `Bᵀ·d` for four values along a column (or `d·B` along a row).
#[inline(always)]
unsafe fn input_combine<V: Vector>(d: [V; 4]) -> [V; 4] {
    unsafe {
        [
            d[0].sub(d[2]),
            d[1].add(d[2]),
            d[2].sub(d[1]),
            d[1].sub(d[3]),
        ]
    }
}

/// `Aᵀ·m` for four values along a column (or `m·A` along a row).
#[inline(always)]
unsafe fn output_combine<V: Vector>(m: [V; 4]) -> [V; 2] {
    unsafe { [m[0].add(m[1]).add(m[2]), m[1].sub(m[2]).sub(m[3])] }
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

//! The weights' gradient of a 3×3 "same" convolution, for training:
//! `∂w[o][c][ky][kx] = Σ_n Σ_(y,x) g[n][o][y][x] · x[n][c][y+ky−1][x+kx−1]` (zero outside).
//!
//! Why: once the forward pass and the input's gradient ran our kernels, burn-flex's weight
//! gradient (im2col copies, then a GEMM) was most of a training step (`perf` of the native
//! benchmark's batch-8 step, BENCHMARKS.md). Here each weight is a dot product of two planes
//! that both sit at the same row stride: the output gradient `g` and the zero-bordered input
//! shifted by the tap. A register block holds `OB` output channels × 9 taps of one input
//! channel as vectors of positions; every loaded `g` vector serves 9 taps and every input
//! vector `OB` channels. Positions are taken a chunk at a time so the `g` and input rows of a
//! chunk stay in cache while every channel pair passes over them.

use crate::conv3x3::Conv3x3Shape;
use crate::parallel::{for_each_group, parallel_groups};
use crate::vector::{Scalar, Vector};

/// Positions of one chunk (per image), a multiple of every vector width.
const CHUNK: usize = 1024;

/// `out` `[c_out, c_in, 3, 3]` = the weights' gradient of a 3×3 convolution (stride 1, zero
/// padding 1) with input `x` `[batch, c_in, h, w]` and output gradient `grad`
/// `[batch, c_out, h, w]`.
///
/// # Panics
/// If a slice's length does not match `shape`.
pub fn conv3x3_weight_grad(x: &[f32], grad: &[f32], shape: Conv3x3Shape, out: &mut [f32]) {
    // Register blocks: with AVX-512's 32 registers two output channels (18 accumulators; three
    // spilled), else one (9 accumulators, the gradient and one input vector).
    #[cfg(target_arch = "x86_64")]
    if crate::vector::avx512_chosen() {
        return run::<2>(x, grad, shape, out, 16, block_avx512);
    }
    #[cfg(target_arch = "x86_64")]
    if crate::vector::avx2_available() {
        return run::<1>(x, grad, shape, out, 8, block_avx2);
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return run::<1>(x, grad, shape, out, 4, |planes, block, c, sums| {
        planes.block::<crate::vector::Simd128, 1>(block, c, sums)
    });
    #[allow(unreachable_code)]
    conv3x3_weight_grad_scalar(x, grad, shape, out)
}

/// The portable form (and the reference the SIMD forms are tested against).
///
/// # Panics
/// If a slice's length does not match `shape`.
pub fn conv3x3_weight_grad_scalar(x: &[f32], grad: &[f32], shape: Conv3x3Shape, out: &mut [f32]) {
    run::<1>(x, grad, shape, out, 1, |planes, block, c, sums| {
        planes.block::<Scalar, 1>(block, c, sums)
    })
}

/// Adds one register block's sums (`OB` output channels from `block·OB`, input channel `c`,
/// over one chunk) into `sums[ob][tap]`, compiled for its instruction set.
type BlockFn = fn(&Chunk, usize, usize, &mut [[f32; 9]]);

#[cfg(target_arch = "x86_64")]
fn block_avx512(planes: &Chunk, block: usize, c: usize, sums: &mut [[f32; 9]]) {
    #[target_feature(enable = "avx512f")]
    unsafe fn inner(planes: &Chunk, block: usize, c: usize, sums: &mut [[f32; 9]]) {
        planes.block::<crate::vector::Avx512, 2>(block, c, sums)
    }
    // SAFETY: only chosen after `avx512_chosen()`.
    unsafe { inner(planes, block, c, sums) }
}

#[cfg(target_arch = "x86_64")]
fn block_avx2(planes: &Chunk, block: usize, c: usize, sums: &mut [[f32; 9]]) {
    #[target_feature(enable = "avx2,fma")]
    unsafe fn inner(planes: &Chunk, block: usize, c: usize, sums: &mut [[f32; 9]]) {
        planes.block::<crate::vector::Avx2, 1>(block, c, sums)
    }
    // SAFETY: only chosen after `avx2_available()`.
    unsafe { inner(planes, block, c, sums) }
}

/// One image's planes, both at the bordered row stride `pw = w + 2`, and the chunk of
/// positions being summed.
struct Chunk<'a> {
    /// `[c_in][plane]`: zero-bordered `(h+2)×pw` planes, each followed by a zero tail.
    bordered: &'a [f32],
    /// `[c_out rounded up to OB][rows]`: position `y·pw + x` holds `g[y][x]` for `x < w`,
    /// zero in the two columns past the row and past the last row.
    rows: &'a [f32],
    plane: usize,
    row_len: usize,
    pw: usize,
    positions: std::ops::Range<usize>,
}

impl Chunk<'_> {
    /// `sums[ob][ky·3 + kx] += Σ_i rows[block·OB + ob][i] · bordered[c][i + ky·pw + kx]` over the
    /// chunk's positions.
    #[inline(always)]
    fn block<V: Vector, const OB: usize>(&self, block: usize, c: usize, sums: &mut [[f32; 9]]) {
        let zero = unsafe { V::splat(0.0) };
        let mut acc = [[zero; 9]; OB];
        let x = &self.bordered[c * self.plane..][..self.plane];
        let taps: [usize; 9] = std::array::from_fn(|t| (t / 3) * self.pw + t % 3);
        let rows: [&[f32]; OB] = std::array::from_fn(|ob| {
            &self.rows[(block * OB + ob) * self.row_len..][..self.row_len]
        });
        for i in self.positions.clone().step_by(V::LANES) {
            let g: [V; OB] = std::array::from_fn(|ob| {
                debug_assert!(i + V::LANES <= rows[ob].len());
                // SAFETY: `positions` ends at a whole vector within `row_len`.
                unsafe { V::load(rows[ob].as_ptr().add(i)) }
            });
            for (t, &offset) in taps.iter().enumerate() {
                debug_assert!(i + offset + V::LANES <= x.len());
                // SAFETY: every plane's tail covers a whole vector past its last tap.
                let v = unsafe { V::load(x.as_ptr().add(i + offset)) };
                for (acc, &g) in acc.iter_mut().zip(&g) {
                    acc[t] = unsafe { V::mul_add(g, v, acc[t]) };
                }
            }
        }
        let mut lanes = [0.0f32; 16];
        for (sums, acc) in sums.iter_mut().zip(&acc) {
            for (sum, value) in sums.iter_mut().zip(acc) {
                // SAFETY: LANES ≤ 16.
                unsafe { value.store(lanes.as_mut_ptr()) };
                *sum += lanes[..V::LANES].iter().sum::<f32>();
            }
        }
    }
}

fn run<const OB: usize>(
    x: &[f32],
    grad: &[f32],
    shape: Conv3x3Shape,
    out: &mut [f32],
    lanes: usize,
    block: BlockFn,
) {
    let Conv3x3Shape {
        batch,
        c_in,
        c_out,
        height: h,
        width: w,
    } = shape;
    assert_eq!(x.len(), shape.input_len(), "input length");
    assert_eq!(grad.len(), shape.output_len(), "gradient length");
    assert_eq!(out.len(), shape.weight_len(), "weight gradient length");
    out.fill(0.0);
    if batch * h * w == 0 || out.is_empty() {
        return;
    }
    let pw = w + 2;
    let row_len = (h * pw).next_multiple_of(lanes);
    // Reads reach position `row_len − 1 + 2·pw + 2`.
    let plane = (row_len + 2 * pw + 2).max((h + 2) * pw);
    let blocks = c_out.div_ceil(OB);
    let per_task = blocks.div_ceil(parallel_groups(blocks));
    let images: Vec<(Vec<f32>, Vec<f32>)> = (0..batch)
        .map(|n| {
            let x = &x[n * c_in * h * w..][..c_in * h * w];
            let grad = &grad[n * c_out * h * w..][..c_out * h * w];
            let rows = gradient_rows(grad, blocks * OB, h, w, row_len);
            (bordered(x, c_in, h, w, plane), rows)
        })
        .collect();
    // `[block][ob][c][tap]`, summed over images and chunks; each task owns its blocks' sums
    // and passes over every image (one task per thread for the whole layer).
    let mut sums = vec![0.0f32; blocks * OB * c_in * 9];
    for_each_group(&mut sums, per_task * OB * c_in * 9, |task, sums| {
        for (bordered, rows) in &images {
            for start in (0..row_len).step_by(CHUNK) {
                let chunk = Chunk {
                    bordered,
                    rows,
                    plane,
                    row_len,
                    pw,
                    positions: start..(start + CHUNK).min(row_len),
                };
                for (k, sums) in sums.chunks_mut(OB * c_in * 9).enumerate() {
                    for c in 0..c_in {
                        let mut taps = [[0.0f32; 9]; OB];
                        block(&chunk, task * per_task + k, c, &mut taps);
                        for (ob, taps) in taps.iter().enumerate() {
                            let sum = &mut sums[(ob * c_in + c) * 9..][..9];
                            sum.iter_mut().zip(taps).for_each(|(s, t)| *s += t);
                        }
                    }
                }
            }
        }
    });
    // Output channel `o` is row `o` of the sums: blocks of OB consecutive channels.
    out.copy_from_slice(&sums[..out.len()]);
}

/// The image in zero-bordered planes of `plane` values each (`(h+2)×(w+2)` and a zero tail).
fn bordered(image: &[f32], c_in: usize, h: usize, w: usize, plane: usize) -> Vec<f32> {
    let pw = w + 2;
    let mut out = vec![0.0; c_in * plane];
    for (c, to) in out.chunks_exact_mut(plane).enumerate() {
        for y in 0..h {
            to[(y + 1) * pw + 1..][..w].copy_from_slice(&image[(c * h + y) * w..][..w]);
        }
    }
    out
}

/// The output gradient at the bordered row stride: `channels` rows (past `c_out`: zeros) of
/// `row_len` values, `g[y][x]` at `y·(w+2) + x`.
fn gradient_rows(grad: &[f32], channels: usize, h: usize, w: usize, row_len: usize) -> Vec<f32> {
    let pw = w + 2;
    let c_out = grad.len() / (h * w);
    let mut out = vec![0.0; channels * row_len];
    for (o, to) in out.chunks_exact_mut(row_len).take(c_out).enumerate() {
        for y in 0..h {
            to[y * pw..][..w].copy_from_slice(&grad[(o * h + y) * w..][..w]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fcomb::tests::values;

    /// The definition, in f64.
    fn reference(x: &[f32], g: &[f32], s: Conv3x3Shape) -> Vec<f64> {
        let (h, w) = (s.height as isize, s.width as isize);
        let mut out = vec![0.0; s.c_out * s.c_in * 9];
        for n in 0..s.batch {
            for o in 0..s.c_out {
                for c in 0..s.c_in {
                    for t in 0..9 {
                        let (ky, kx) = (t as isize / 3 - 1, t as isize % 3 - 1);
                        let mut sum = 0.0;
                        for y in 0..h {
                            for xx in 0..w {
                                let (sy, sx) = (y + ky, xx + kx);
                                if sy < 0 || sx < 0 || sy >= h || sx >= w {
                                    continue;
                                }
                                let gi = ((n * s.c_out + o) as isize * h + y) * w + xx;
                                let xi = ((n * s.c_in + c) as isize * h + sy) * w + sx;
                                sum += g[gi as usize] as f64 * x[xi as usize] as f64;
                            }
                        }
                        out[(o * s.c_in + c) * 9 + t] += sum;
                    }
                }
            }
        }
        out
    }

    #[test]
    fn every_form_matches_the_definition() {
        let shapes = [
            (1, 1, 1, 1, 1),
            (2, 3, 4, 5, 7),
            (1, 5, 7, 9, 17),
            (3, 2, 8, 33, 12),
            (1, 4, 3, 40, 40),
        ];
        for (seed, &(batch, c_in, c_out, height, width)) in shapes.iter().enumerate() {
            let shape = Conv3x3Shape {
                batch,
                c_in,
                c_out,
                height,
                width,
            };
            let x = values(batch * c_in * height * width, seed as u64 + 1);
            let g = values(batch * c_out * height * width, seed as u64 + 50);
            let want = reference(&x, &g, shape);
            let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            let mut forms: Vec<(&str, Vec<f32>)> = Vec::new();
            let mut out = vec![f32::NAN; want.len()];
            conv3x3_weight_grad_scalar(&x, &g, shape, &mut out);
            forms.push(("scalar", out.clone()));
            #[cfg(target_arch = "x86_64")]
            for avx512 in [true, false] {
                crate::set_avx512(avx512);
                conv3x3_weight_grad(&x, &g, shape, &mut out);
                forms.push((if avx512 { "AVX-512" } else { "AVX2" }, out.clone()));
            }
            #[cfg(target_arch = "x86_64")]
            crate::set_avx512(true);
            for (name, got) in forms {
                let worst = got
                    .iter()
                    .zip(&want)
                    .map(|(a, b)| (*a as f64 - b).abs())
                    .fold(0.0, f64::max);
                assert!(
                    worst / scale < 1e-5,
                    "{shape:?} {name}: relative error {}",
                    worst / scale
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "gradient length")]
    fn every_form_refuses_a_short_gradient() {
        let shape = Conv3x3Shape {
            batch: 1,
            c_in: 2,
            c_out: 3,
            height: 4,
            width: 4,
        };
        let mut out = vec![0.0; 3 * 2 * 9];
        conv3x3_weight_grad_scalar(&[0.0; 32], &[0.0; 47], shape, &mut out);
    }
}

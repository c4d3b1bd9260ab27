//! The U-Net's resampling between levels: 2×2 average pooling on the way down, and on the way
//! up ×2 bilinear upsampling written straight into the decoder's concatenation with the skip.
//!
//! Why: burn-flex's `avg_pool2d` and `interpolate` are generic (any kernel, stride, padding,
//! scale), computing every output's source window and weights per pixel, in f64 for
//! `interpolate`; a `perf` profile of the native encode found them among its largest costs
//! (BENCHMARKS.md has the figures). Both operations here have fixed weights — ¼
//! for the pool; ¾ and ¼ for an exact doubling with half-pixel centres (PyTorch's
//! `align_corners = false`): `out[2i] = ¾·x[i] + ¼·x[i−1]`, `out[2i+1] = ¾·x[i] + ¼·x[i+1]`,
//! the neighbour clamped at the border — so they are plain loops the compiler vectorises.
//! Fusing the concatenation saves a pass over the decoder's widest maps.

use crate::parallel::{for_each_group, planes_per_task};

/// `[batch, planes, h, w]` → `[batch, planes, h / 2, w / 2]`: the mean of each 2×2 block (an
/// odd last row or column is dropped, as burn's and PyTorch's pooling without padding do).
///
/// # Panics
/// If `input` is not `batch · planes · h · w` values or `out` not the pooled size.
pub fn avg_pool2x2(input: &[f32], [batch, planes, h, w]: [usize; 4], out: &mut [f32]) {
    let (ho, wo) = (h / 2, w / 2);
    assert_eq!(input.len(), batch * planes * h * w, "input length");
    assert_eq!(out.len(), batch * planes * ho * wo, "output length");
    if out.is_empty() {
        return;
    }
    let per_task = planes_per_task(batch * planes, ho * wo);
    for_each_group(out, per_task * ho * wo, |g, chunk| {
        for (k, pooled) in chunk.chunks_exact_mut(ho * wo).enumerate() {
            let plane = &input[(g * per_task + k) * h * w..][..h * w];
            pool_plane(plane, w, wo, pooled);
        }
    });
}

fn pool_plane(plane: &[f32], w: usize, wo: usize, out: &mut [f32]) {
    for (i, row) in out.chunks_exact_mut(wo).enumerate() {
        let top = &plane[2 * i * w..][..2 * wo];
        let bottom = &plane[(2 * i + 1) * w..][..2 * wo];
        for ((o, t), b) in row
            .iter_mut()
            .zip(top.chunks_exact(2))
            .zip(bottom.chunks_exact(2))
        {
            *o = (t[0] + t[1] + b[0] + b[1]) * 0.25;
        }
    }
}

/// The decoder's join: `x` `[batch, cx, h, w]` upsampled ×2 bilinearly (half-pixel centres)
/// and `skip` `[batch, cs, 2h, 2w]` after it along the channels, into `out`
/// `[batch, cx + cs, 2h, 2w]`.
///
/// # Panics
/// If a slice's length does not match the sizes.
pub fn upsample2x_concat(
    x: &[f32],
    skip: &[f32],
    [batch, cx, cs, h, w]: [usize; 5],
    out: &mut [f32],
) {
    let plane = 4 * h * w;
    assert_eq!(x.len(), batch * cx * h * w, "input length");
    assert_eq!(skip.len(), batch * cs * plane, "skip length");
    assert_eq!(out.len(), batch * (cx + cs) * plane, "output length");
    if out.is_empty() {
        return;
    }
    let channels = cx + cs;
    let per_task = planes_per_task(batch * channels, plane);
    for_each_group(out, per_task * plane, |g, chunk| {
        let mut rows = vec![0.0f32; 2 * w];
        for (k, doubled) in chunk.chunks_exact_mut(plane).enumerate() {
            let index = g * per_task + k;
            let (n, c) = (index / channels, index % channels);
            if c < cx {
                let source = &x[(n * cx + c) * h * w..][..h * w];
                upsample_plane(source, h, w, &mut rows, doubled);
            } else {
                doubled.copy_from_slice(&skip[(n * cs + c - cx) * plane..][..plane]);
            }
        }
    });
}

/// One plane doubled: each source row gives two output rows (blended with the row above, then
/// the row below), each blended along itself into twice its width. `rows` is scratch of `2w`.
fn upsample_plane(x: &[f32], h: usize, w: usize, rows: &mut [f32], out: &mut [f32]) {
    let (above, below) = rows.split_at_mut(w);
    for i in 0..h {
        let centre = &x[i * w..][..w];
        let up = &x[i.saturating_sub(1) * w..][..w];
        let down = &x[(i + 1).min(h - 1) * w..][..w];
        for (((a, b), &c), (&u, &d)) in above
            .iter_mut()
            .zip(below.iter_mut())
            .zip(centre)
            .zip(up.iter().zip(down))
        {
            *a = 0.75 * c + 0.25 * u;
            *b = 0.75 * c + 0.25 * d;
        }
        let (even, odd) = out[4 * i * w..][..4 * w].split_at_mut(2 * w);
        double_row(above, even);
        double_row(below, odd);
    }
}

/// `row` (`w` values) blended along itself into `out` (`2w`).
fn double_row(row: &[f32], out: &mut [f32]) {
    let w = row.len();
    if w == 1 {
        out.fill(row[0]);
        return;
    }
    out[0] = row[0];
    out[1] = 0.75 * row[0] + 0.25 * row[1];
    for (pair, window) in out[2..2 * w - 2].chunks_exact_mut(2).zip(row.windows(3)) {
        pair[0] = 0.75 * window[1] + 0.25 * window[0];
        pair[1] = 0.75 * window[1] + 0.25 * window[2];
    }
    out[2 * w - 2] = 0.75 * row[w - 1] + 0.25 * row[w - 2];
    out[2 * w - 1] = row[w - 1];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fcomb::tests::values;

    /// Bilinear interpolation at half-pixel centres, from its definition, in f64.
    fn reference_upsample(x: &[f32], h: usize, w: usize) -> Vec<f64> {
        let source = |o: usize, n: usize| {
            let s = ((o as f64 + 0.5) / 2.0 - 0.5).max(0.0);
            let i0 = (s.floor() as usize).min(n - 1);
            let i1 = (i0 + 1).min(n - 1);
            (i0, i1, s - i0 as f64)
        };
        let mut out = Vec::with_capacity(4 * h * w);
        for oy in 0..2 * h {
            let (y0, y1, fy) = source(oy, h);
            for ox in 0..2 * w {
                let (x0, x1, fx) = source(ox, w);
                let at = |y: usize, col: usize| x[y * w + col] as f64;
                let top = at(y0, x0) * (1.0 - fx) + at(y0, x1) * fx;
                let bottom = at(y1, x0) * (1.0 - fx) + at(y1, x1) * fx;
                out.push(top * (1.0 - fy) + bottom * fy);
            }
        }
        out
    }

    #[test]
    fn upsampling_matches_the_definition_and_the_skip_follows_unchanged() {
        for [batch, cx, cs, h, w] in [
            [1, 1, 0, 1, 1],
            [2, 3, 2, 1, 4],
            [1, 5, 3, 7, 5],
            [2, 9, 4, 8, 8],
        ] {
            let x = values(batch * cx * h * w, 1);
            let skip = values(batch * cs * 4 * h * w, 2);
            let mut out = vec![f32::NAN; batch * (cx + cs) * 4 * h * w];
            upsample2x_concat(&x, &skip, [batch, cx, cs, h, w], &mut out);
            let plane = 4 * h * w;
            for n in 0..batch {
                for c in 0..cx + cs {
                    let got = &out[(n * (cx + cs) + c) * plane..][..plane];
                    if c < cx {
                        let want = reference_upsample(&x[(n * cx + c) * h * w..][..h * w], h, w);
                        for (g, e) in got.iter().zip(&want) {
                            assert!((*g as f64 - e).abs() < 1e-5, "{g} vs {e} at {h}×{w}");
                        }
                    } else {
                        assert_eq!(got, &skip[(n * cs + c - cx) * plane..][..plane]);
                    }
                }
            }
        }
    }

    #[test]
    fn pooling_averages_each_block_and_drops_an_odd_edge() {
        for [batch, planes, h, w] in [[1, 1, 2, 2], [2, 3, 5, 7], [1, 40, 16, 16], [1, 2, 1, 4]] {
            let x = values(batch * planes * h * w, 3);
            let (ho, wo) = (h / 2, w / 2);
            let mut out = vec![f32::NAN; batch * planes * ho * wo];
            avg_pool2x2(&x, [batch, planes, h, w], &mut out);
            for p in 0..batch * planes {
                for i in 0..ho {
                    for j in 0..wo {
                        let at = |y: usize, col: usize| x[(p * h + y) * w + col];
                        let want = (at(2 * i, 2 * j)
                            + at(2 * i, 2 * j + 1)
                            + at(2 * i + 1, 2 * j)
                            + at(2 * i + 1, 2 * j + 1))
                            / 4.0;
                        assert_eq!(out[(p * ho + i) * wo + j], want);
                    }
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "skip length")]
    fn a_skip_of_the_wrong_size_is_refused() {
        let mut out = vec![0.0; 2 * 16];
        upsample2x_concat(&[0.0; 4], &[0.0; 15], [1, 1, 1, 2, 2], &mut out);
    }
}

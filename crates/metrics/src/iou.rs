//! Foreground IoU with the empty-mask conventions of docs/CONVENTIONS.md, Metrics, and pairwise IoU matrices.
//!
//! IoU = |A ∩ B| / |A ∪ B| on the foreground class, and d = 1 − IoU. Kohl et al. (2018) leave
//! the empty-mask case implicit and later papers disagree; docs/CONVENTIONS.md (Metrics) pins:
//!
//! * both masks empty → IoU = 1, d = 0 (two annotators agreeing that there is no lesion agree
//!   perfectly; without this rule GED would punish a model for correctly predicting "nothing");
//! * exactly one mask empty → IoU = 0, d = 1 (which already follows from the formula).
//!
//! d is the Jaccard distance, a metric, so it is symmetric with d(A, A) = 0.

use super::Mask;
use super::error::{MetricsError, Result};

/// IoU from counts: `intersection / union` with `union = a + b − intersection`, and 1 when the
/// union is empty (both masks empty). Requires `intersection ≤ min(count_a, count_b)`.
#[inline]
pub fn iou_from_counts(count_a: usize, count_b: usize, intersection: usize) -> f64 {
    let union = count_a + count_b - intersection;
    if union == 0 {
        1.0
    } else {
        intersection as f64 / union as f64
    }
}

/// Foreground IoU of two masks (both empty → 1). Errors when their shapes differ.
pub fn iou(a: &Mask, b: &Mask) -> Result<f64> {
    if a.shape() != b.shape() {
        return Err(MetricsError::ShapeMismatch {
            expected: a.shape(),
            got: b.shape(),
        });
    }
    Ok(iou_from_counts(
        a.foreground_count(),
        b.foreground_count(),
        a.intersection_count(b),
    ))
}

/// The distance d = 1 − IoU used by GED and diversity (both empty → 0, one empty → 1).
pub fn iou_distance(a: &Mask, b: &Mask) -> Result<f64> {
    iou(a, b).map(|v| 1.0 - v)
}

/// IoU of every pair (row mask, column mask), row-major.
///
/// Foreground counts are computed once per mask and each intersection once per pair (once per
/// unordered pair for [`IouMatrix::within`]), which keeps GED₁₀₀ on 128×128 masks well under a
/// millisecond of popcounts.
#[derive(Clone, Debug, PartialEq)]
pub struct IouMatrix {
    rows: usize,
    cols: usize,
    iou: Vec<f64>,
}

impl IouMatrix {
    /// IoU of each mask of `rows` with each mask of `cols` (`rows.len() × cols.len()`).
    ///
    /// Either set may be empty (giving an empty matrix); all masks must share one shape.
    pub fn between(rows: &[Mask], cols: &[Mask]) -> Result<Self> {
        check_shapes(rows.iter().chain(cols))?;
        let col_counts: Vec<usize> = cols.iter().map(Mask::foreground_count).collect();
        let mut iou = Vec::with_capacity(rows.len() * cols.len());
        for a in rows {
            let count_a = a.foreground_count();
            for (b, &count_b) in cols.iter().zip(&col_counts) {
                iou.push(iou_from_counts(count_a, count_b, a.intersection_count(b)));
            }
        }
        Ok(Self {
            rows: rows.len(),
            cols: cols.len(),
            iou,
        })
    }

    /// The symmetric IoU matrix of one set with itself (diagonal 1), each pair computed once.
    pub fn within(masks: &[Mask]) -> Result<Self> {
        check_shapes(masks.iter())?;
        let n = masks.len();
        let counts: Vec<usize> = masks.iter().map(Mask::foreground_count).collect();
        let mut iou = vec![1.0; n * n];
        for i in 0..n {
            for j in i + 1..n {
                let v =
                    iou_from_counts(counts[i], counts[j], masks[i].intersection_count(&masks[j]));
                iou[i * n + j] = v;
                iou[j * n + i] = v;
            }
        }
        Ok(Self {
            rows: n,
            cols: n,
            iou,
        })
    }

    /// Number of rows (masks of the first set).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (masks of the second set).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// IoU of row mask `i` and column mask `j`.
    pub fn iou(&self, i: usize, j: usize) -> f64 {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) out of bounds"
        );
        self.iou[i * self.cols + j]
    }

    /// d = 1 − IoU of row mask `i` and column mask `j`.
    pub fn distance(&self, i: usize, j: usize) -> f64 {
        1.0 - self.iou(i, j)
    }

    /// Row `i` of IoUs.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.iou[i * self.cols..(i + 1) * self.cols]
    }

    /// All IoUs, row-major.
    pub fn as_slice(&self) -> &[f64] {
        &self.iou
    }

    /// `E[d]` over the full matrix, diagonal included, with row weights `row_w` and column weights
    /// `col_w` (each summing to 1; `None` = uniform). NaN for an empty matrix; panics when a
    /// weight slice is shorter than its dimension.
    pub fn mean_distance(&self, row_w: Option<&[f64]>, col_w: Option<&[f64]>) -> f64 {
        let uniform_row = 1.0 / self.rows as f64;
        let uniform_col = 1.0 / self.cols as f64;
        let mut total = 0.0;
        for i in 0..self.rows {
            let wi = row_w.map_or(uniform_row, |w| w[i]);
            let mut row_sum = 0.0;
            for (j, v) in self.row(i).iter().enumerate() {
                row_sum += col_w.map_or(uniform_col, |w| w[j]) * (1.0 - v);
            }
            total += wi * row_sum;
        }
        total
    }
}

fn check_shapes<'a>(mut masks: impl Iterator<Item = &'a Mask>) -> Result<()> {
    if let Some(first) = masks.next() {
        for mask in masks {
            if mask.shape() != first.shape() {
                return Err(MetricsError::ShapeMismatch {
                    expected: first.shape(),
                    got: mask.shape(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(bits: &str) -> Mask {
        Mask::parse_bits(4, 1, bits).unwrap()
    }

    #[test]
    fn empty_mask_conventions() {
        assert_eq!(iou(&m("0000"), &m("0000")).unwrap(), 1.0);
        assert_eq!(iou_distance(&m("0000"), &m("0000")).unwrap(), 0.0);
        assert_eq!(iou(&m("0000"), &m("0110")).unwrap(), 0.0);
        assert_eq!(iou_distance(&m("0110"), &m("0000")).unwrap(), 1.0);
    }

    #[test]
    fn hand_values() {
        assert_eq!(iou(&m("1100"), &m("0110")).unwrap(), 1.0 / 3.0);
        assert_eq!(iou(&m("1111"), &m("0100")).unwrap(), 0.25);
        assert_eq!(iou(&m("1010"), &m("0101")).unwrap(), 0.0);
        assert_eq!(iou(&m("1010"), &m("1010")).unwrap(), 1.0);
    }

    #[test]
    fn matrices_match_pairwise_iou() {
        let a = [m("1100"), m("0000"), m("0111")];
        let b = [m("0110"), m("0000")];
        let between = IouMatrix::between(&a, &b).unwrap();
        let within = IouMatrix::within(&a).unwrap();
        for (i, x) in a.iter().enumerate() {
            for (j, y) in b.iter().enumerate() {
                assert_eq!(between.iou(i, j), iou(x, y).unwrap());
            }
            for (j, y) in a.iter().enumerate() {
                assert_eq!(within.iou(i, j), iou(x, y).unwrap());
            }
        }
        assert!(IouMatrix::between(&a, &[Mask::empty(2, 2)]).is_err());
        assert!(iou(&a[0], &Mask::empty(2, 2)).is_err());
    }
}

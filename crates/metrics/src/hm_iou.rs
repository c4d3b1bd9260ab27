//! Hungarian-matched IoU (HM-IoU, Kohl et al. 2019, "A Hierarchical Probabilistic U-Net").
//!
//! The m annotations are tiled (repeated) until there is a slot for every one of the n samples,
//! the samples are matched one-to-one to slots maximising the total IoU (Hungarian algorithm),
//! and HM-IoU is the mean IoU of the n matched pairs. It rewards a sample set that covers every
//! annotation in proportion, which GED alone does not show directly.
//!
//! **Tiling rule (exact).** The annotation list is repeated k = ⌈n/m⌉ times: slot s (0 ≤ s < k·m)
//! holds annotation s mod m. When m divides n this is the usual tiling to exactly n slots (each
//! annotation n/m times). Otherwise there are k·m − n > 0 spare slots and the assignment is
//! rectangular (n samples into k·m slots, each slot used at most once): every annotation may be
//! matched up to k times and the value does not depend on the order of the annotations — cutting
//! the tiled list at n instead would drop the last annotations' extra copies arbitrarily. For
//! n < m (k = 1) each sample gets a distinct annotation.
//!
//! **Solver.** `pathfinding`'s Kuhn–Munkres needs an integer (`Ord`) weight, so each IoU is
//! scaled by 2⁴⁰ and rounded to `i64`. The rounding can only change which of several assignments
//! within n·2⁻⁴⁰ of the optimum total is chosen; the reported mean is recomputed from the exact
//! `f64` IoUs of the chosen pairs, so it is within 2⁻⁴⁰ ≈ 1e-12 of the true optimum mean (and
//! i64 cannot overflow for any n below 2²²).

use pathfinding::prelude::{Matrix, kuhn_munkres};
use serde::{Deserialize, Serialize};

use super::Mask;
use super::error::{MetricsError, Result, same_shape};
use super::iou::IouMatrix;

/// Fixed-point scale of the IoUs handed to the integer Hungarian solver.
const SCALE: f64 = (1u64 << 40) as f64;

/// HM-IoU and the matching that achieves it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HmIou {
    /// Mean IoU of the matched (sample, annotation) pairs.
    pub value: f64,
    /// For each sample, the index of the annotation it was matched to.
    pub assignment: Vec<usize>,
}

/// HM-IoU of `samples` against `annotations` (tiling rule in the module doc).
pub fn hm_iou(samples: &[Mask], annotations: &[Mask]) -> Result<HmIou> {
    same_shape(samples, "samples", annotations, "annotations")?;
    hm_iou_from_matrix(&IouMatrix::between(samples, annotations)?)
}

/// HM-IoU from a precomputed samples × annotations IoU matrix.
pub fn hm_iou_from_matrix(cross: &IouMatrix) -> Result<HmIou> {
    let (n, m) = (cross.rows(), cross.cols());
    if n == 0 {
        return Err(MetricsError::EmptySet("samples"));
    }
    if m == 0 {
        return Err(MetricsError::EmptySet("annotations"));
    }
    let slots = n.div_ceil(m) * m;
    let mut weights = Vec::with_capacity(n * slots);
    for i in 0..n {
        let row = cross.row(i);
        weights.extend((0..slots).map(|s| (row[s % m] * SCALE).round() as i64));
    }
    let weights = Matrix::from_vec(n, slots, weights).expect("n × slots weights");
    let (_, slot_of_sample) = kuhn_munkres(&weights);
    let assignment: Vec<usize> = slot_of_sample.iter().map(|s| s % m).collect();
    let total: f64 = assignment
        .iter()
        .enumerate()
        .map(|(i, &j)| cross.iou(i, j))
        .sum();
    Ok(HmIou {
        value: total / n as f64,
        assignment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(bits: &str) -> Mask {
        Mask::parse_bits(4, 1, bits).unwrap()
    }

    #[test]
    fn hand_case() {
        // Annotations A = 1100, B = 0011; samples 1100, 1110, 0011, 0001.
        // IoU rows: [1, 0], [2/3, 1/4], [0, 1], [0, 1/2]. Tiled to 4 slots (A, B, A, B):
        // best is 1100→A, 1110→A, 0011→B, 0001→B: (1 + 2/3 + 1 + 1/2) / 4 = 19/24.
        let annotations = [m("1100"), m("0011")];
        let samples = [m("1100"), m("1110"), m("0011"), m("0001")];
        let hm = hm_iou(&samples, &annotations).unwrap();
        assert!((hm.value - 19.0 / 24.0).abs() < 1e-15);
        assert_eq!(hm.assignment, [0, 0, 1, 1]);
    }

    #[test]
    fn tiling_is_order_free_when_m_does_not_divide_n() {
        // n = 3, m = 2: four slots (A, B, A, B). Two samples equal to B can both use B.
        let a = m("1100");
        let b = m("0011");
        let samples = [m("0011"), m("0011"), m("1100")];
        let ab = hm_iou(&samples, &[a.clone(), b.clone()]).unwrap();
        let ba = hm_iou(&samples, &[b, a]).unwrap();
        assert_eq!(ab.value, 1.0);
        assert_eq!(ba.value, 1.0);
    }

    #[test]
    fn fewer_samples_than_annotations() {
        let annotations = [m("1000"), m("0100"), m("0010")];
        let hm = hm_iou(&[m("0100"), m("0100")], &annotations).unwrap();
        // Distinct annotations: one sample gets IoU 1, the other 0.
        assert_eq!(hm.value, 0.5);
        assert!(hm_iou(&[], &annotations).is_err());
    }
}

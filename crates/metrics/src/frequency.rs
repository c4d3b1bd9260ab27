//! Per-hypothesis frequency error: does the model draw each mode as often as it should?
//!
//! On synthetic data the ground-truth distribution is a finite set of hypotheses hₖ with known
//! probabilities pₖ. Each sample is assigned to the hypothesis with the highest IoU (ties → the
//! lower index, so the rule is deterministic), the share of samples per hypothesis is compared
//! with pₖ, and the mean absolute error over hypotheses summarises it. GED mixes mode coverage
//! with per-mask quality; this isolates the former, which is what a probabilistic segmenter
//! should get right (Kohl et al. 2018 compare sampled and true mode frequencies in the same way
//! on Cityscapes with stochastically flipped classes).

use serde::{Deserialize, Serialize};

use super::Mask;
use super::error::{Result, normalised_weights, same_shape};
use super::iou::IouMatrix;

/// Predicted shares against true probabilities, per hypothesis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HypothesisFrequencies {
    /// For each sample, the index of its nearest hypothesis.
    pub assignment: Vec<usize>,
    /// Number of samples assigned to each hypothesis.
    pub counts: Vec<usize>,
    /// counts / n.
    pub shares: Vec<f64>,
    /// The true probabilities, normalised to sum to 1.
    pub probabilities: Vec<f64>,
    /// |share − probability| per hypothesis.
    pub abs_errors: Vec<f64>,
    /// Mean of `abs_errors` over the hypotheses.
    pub mean_abs_error: f64,
}

/// Assigns each sample to its nearest hypothesis by IoU and compares shares with
/// `probabilities` (relative weights, normalised to sum to 1).
pub fn hypothesis_frequencies(
    samples: &[Mask],
    hypotheses: &[Mask],
    probabilities: &[f64],
) -> Result<HypothesisFrequencies> {
    same_shape(samples, "samples", hypotheses, "hypotheses")?;
    let probabilities = normalised_weights(probabilities, hypotheses.len())?;
    let cross = IouMatrix::between(samples, hypotheses)?;
    let assignment: Vec<usize> = (0..samples.len())
        .map(|i| {
            let row = cross.row(i);
            // Strict `>` keeps the first (lowest-index) maximum.
            (1..row.len()).fold(0, |best, k| if row[k] > row[best] { k } else { best })
        })
        .collect();
    let mut counts = vec![0usize; hypotheses.len()];
    for &k in &assignment {
        counts[k] += 1;
    }
    let n = samples.len() as f64;
    let shares: Vec<f64> = counts.iter().map(|&c| c as f64 / n).collect();
    let abs_errors: Vec<f64> = shares
        .iter()
        .zip(&probabilities)
        .map(|(s, p)| (s - p).abs())
        .collect();
    let mean_abs_error = abs_errors.iter().sum::<f64>() / abs_errors.len() as f64;
    Ok(HypothesisFrequencies {
        assignment,
        counts,
        shares,
        probabilities,
        abs_errors,
        mean_abs_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_case() {
        let m = |b: &str| Mask::parse_bits(4, 1, b).unwrap();
        let hypotheses = [m("1100"), m("0011"), m("1100")];
        // 1110 → h0 (IoU 2/3); 0001 → h1; 1100 ties h0 and h2 → h0; 0000 → all IoU 0 → h0.
        let samples = [m("1110"), m("0001"), m("1100"), m("0000")];
        let f = hypothesis_frequencies(&samples, &hypotheses, &[2.0, 1.0, 1.0]).unwrap();
        assert_eq!(f.assignment, [0, 1, 0, 0]);
        assert_eq!(f.counts, [3, 1, 0]);
        assert_eq!(f.shares, [0.75, 0.25, 0.0]);
        assert_eq!(f.probabilities, [0.5, 0.25, 0.25]);
        assert_eq!(f.abs_errors, [0.25, 0.0, 0.25]);
        assert!((f.mean_abs_error - 1.0 / 6.0).abs() < 1e-15);
        assert!(hypothesis_frequencies(&samples, &hypotheses, &[1.0]).is_err());
    }
}

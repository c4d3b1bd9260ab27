//! Simulated raters: annotations drawn from a case's hypothesis distribution.
//!
//! LIDC gives four radiologists' masks per nodule; training here sees the same: four masks per
//! case, each drawn independently from the exact distribution. Independent draws keep the
//! training signal unbiased (the expected share of each hypothesis among the raters is its
//! probability), while evaluation uses the exact distribution itself.

use super::case::Case;
use crate::rng::SeededRng;
use metrics::Mask;

/// Indices into `case.hypotheses` of `n` independent rater draws.
pub fn draw_rater_indices(case: &Case, n: usize, rng: &mut SeededRng) -> Vec<usize> {
    (0..n)
        .map(|_| {
            let u = rng.uniform();
            let mut cumulative = 0.0;
            for (k, h) in case.hypotheses.iter().enumerate() {
                cumulative += h.probability;
                if u < cumulative {
                    return k;
                }
            }
            // Rounding can leave the cumulative sum a hair under 1.
            case.hypotheses.len() - 1
        })
        .collect()
}

/// `n` rater masks drawn independently from the case's hypotheses (LIDC has `n = 4`).
pub fn draw_raters(case: &Case, n: usize, rng: &mut SeededRng) -> Vec<Mask> {
    draw_rater_indices(case, n, rng)
        .into_iter()
        .map(|k| case.hypotheses[k].mask.clone())
        .collect()
}

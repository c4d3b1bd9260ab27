//! Generalised energy distance (Kohl et al., NeurIPS 2018, eq. 5) and sample diversity.
//!
//! With d = 1 − IoU (the Jaccard distance, empty-mask rules in `iou.rs`):
//!
//! GED² = 2·E[d(ŷ, y)] − E[d(ŷ, ŷ′)] − E[d(y, y′)]
//!
//! where ŷ, ŷ′ are independent draws from the n model samples and y, y′ from the m annotations.
//! As pinned in docs/CONVENTIONS.md (Metrics), every expectation is the mean over the FULL pairwise matrix (n×m,
//! n×n, m×m), diagonals included: this is the V-statistic the reference evaluations compute
//! (and it is exactly 0 when the two sets are identical, which the U-statistic without the
//! diagonals is not). The diagonal terms are zero, so E[d(ŷ, ŷ′)] = (n−1)/n × the off-diagonal
//! mean; keep n fixed when comparing numbers and report it (GED₁₆, GED₁₀₀).
//!
//! **Which number is "GED".** Kohl et al. define D²_GED (their eq. 5) and report D²_GED, and
//! follow-ups commonly quote that same squared quantity as "GED". We do the same: the headline
//! value, labelled "GED" in our reports and compared against published numbers, is
//! [`Ged::squared`] (GED²). [`Ged::distance`] (the square root, clamped at 0) exists for plots
//! that want a distance, and must be labelled "√GED²" where shown.
//!
//! **Weights.** When the annotation distribution is known exactly (synthetic benchmarks with
//! hypotheses yᵢ of probability pᵢ), pass the pᵢ as weights: E over y becomes Σ pⱼ·d(·, yⱼ) and E
//! over y, y′ becomes Σ pⱼpₖ·d(yⱼ, yₖ). Weights are relative and normalised to sum to 1, so
//! integer weights give the same value (up to rounding) as duplicating each annotation that often.

use serde::{Deserialize, Serialize};

use super::Mask;
use super::error::{Result, normalised_weights, same_shape};
use super::iou::IouMatrix;

/// GED² and its three terms.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ged {
    /// GED² = 2·cross − samples − annotations: the number reported as "GED" (module doc).
    pub squared: f64,
    /// E[d(ŷ, y)] over samples × annotations.
    pub cross: f64,
    /// E[d(ŷ, ŷ′)] over sample pairs, diagonal included: the diversity of the samples.
    pub samples: f64,
    /// E[d(y, y′)] over annotation pairs, diagonal included (weighted by pⱼpₖ when weighted).
    pub annotations: f64,
    /// Number of samples n (report it: GED₁₆, GED₁₀₀).
    pub n: usize,
    /// Number of annotations m.
    pub m: usize,
}

impl Ged {
    /// √max(GED², 0): a distance for plots. Not the headline number (see the module doc).
    pub fn distance(&self) -> f64 {
        self.squared.max(0.0).sqrt()
    }
}

impl std::fmt::Display for Ged {
    /// `GED²₁₀₀ = 0.2345 (cross 0.4, samples 0.3, annotations 0.2; m = 4)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "GED²_{} = {:.4} (cross {:.4}, samples {:.4}, annotations {:.4}; m = {})",
            self.n, self.squared, self.cross, self.samples, self.annotations, self.m
        )
    }
}

/// GED² of `samples` (n model samples) against `annotations` (m equally likely annotations).
pub fn ged(samples: &[Mask], annotations: &[Mask]) -> Result<Ged> {
    same_shape(samples, "samples", annotations, "annotations")?;
    ged_from_matrices(
        &IouMatrix::between(samples, annotations)?,
        &IouMatrix::within(samples)?,
        &IouMatrix::within(annotations)?,
        None,
    )
}

/// GED² against annotations with probabilities (or relative frequencies) `weights`.
pub fn ged_weighted(samples: &[Mask], annotations: &[Mask], weights: &[f64]) -> Result<Ged> {
    same_shape(samples, "samples", annotations, "annotations")?;
    ged_from_matrices(
        &IouMatrix::between(samples, annotations)?,
        &IouMatrix::within(samples)?,
        &IouMatrix::within(annotations)?,
        Some(weights),
    )
}

/// GED² from precomputed IoU matrices: `cross` is samples × annotations, `samples` and
/// `annotations` are the within-set matrices. Lets a caller that also needs HM-IoU or diversity
/// compute each intersection once.
pub fn ged_from_matrices(
    cross: &IouMatrix,
    samples: &IouMatrix,
    annotations: &IouMatrix,
    weights: Option<&[f64]>,
) -> Result<Ged> {
    let (n, m) = (cross.rows(), cross.cols());
    if n == 0 {
        return Err(super::MetricsError::EmptySet("samples"));
    }
    if m == 0 {
        return Err(super::MetricsError::EmptySet("annotations"));
    }
    assert_eq!(
        (
            samples.rows(),
            samples.cols(),
            annotations.rows(),
            annotations.cols()
        ),
        (n, n, m, m),
        "IoU matrices of inconsistent sizes"
    );
    let weights = weights.map(|w| normalised_weights(w, m)).transpose()?;
    let w = weights.as_deref();
    let cross_term = cross.mean_distance(None, w);
    let sample_term = samples.mean_distance(None, None);
    let annotation_term = annotations.mean_distance(w, w);
    Ok(Ged {
        squared: 2.0 * cross_term - sample_term - annotation_term,
        cross: cross_term,
        samples: sample_term,
        annotations: annotation_term,
        n,
        m,
    })
}

/// Diversity of the samples: E[d(ŷ, ŷ′)] over the full n×n matrix, diagonal included — the same
/// number as [`Ged::samples`], so the two always agree. One sample gives 0.
pub fn diversity(samples: &[Mask]) -> Result<f64> {
    if samples.is_empty() {
        return Err(super::MetricsError::EmptySet("samples"));
    }
    Ok(IouMatrix::within(samples)?.mean_distance(None, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(bits: &str) -> Mask {
        Mask::parse_bits(4, 1, bits).unwrap()
    }

    #[test]
    fn hand_computed() {
        // Samples {1100, 0000}, annotations {0110}.
        // cross: d(1100, 0110) = 2/3, d(0000, 0110) = 1 → mean 5/6.
        // samples: [[0, 1], [1, 0]] → 1/2. annotations: 0.
        let g = ged(&[m("1100"), m("0000")], &[m("0110")]).unwrap();
        assert!((g.cross - 5.0 / 6.0).abs() < 1e-15);
        assert_eq!(g.samples, 0.5);
        assert_eq!(g.annotations, 0.0);
        assert!((g.squared - (5.0 / 3.0 - 0.5)).abs() < 1e-15);
        assert!((g.distance() - (7.0f64 / 6.0).sqrt()).abs() < 1e-15);
        assert_eq!(diversity(&[m("1100"), m("0000")]).unwrap(), g.samples);
    }

    #[test]
    fn all_empty_is_zero() {
        let g = ged(&vec![m("0000"); 3], &vec![m("0000"); 2]).unwrap();
        assert_eq!(
            (g.squared, g.cross, g.samples, g.annotations),
            (0.0, 0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn errors() {
        assert!(ged(&[], &[m("0000")]).is_err());
        assert!(ged(&[m("0000")], &[]).is_err());
        assert!(ged_weighted(&[m("0000")], &[m("0000")], &[1.0, 2.0]).is_err());
        assert!(ged_weighted(&[m("0000")], &[m("0000")], &[-1.0]).is_err());
        assert!(ged_weighted(&[m("0000")], &[m("0000")], &[0.0]).is_err());
        assert!(ged(&[m("0000")], &[Mask::empty(2, 2)]).is_err());
        assert!(diversity(&[]).is_err());
    }
}

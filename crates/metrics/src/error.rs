//! The one error type of the metrics: every public function validates its inputs (shapes, set
//! sizes, weights) and answers with a [`MetricsError`] instead of panicking, because the masks and
//! weights often come from users (uploaded annotations, typed-in hypothesis probabilities).

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// The pixel data given to a [`Mask`](super::Mask) constructor has the wrong length.
    #[error("mask data has {got} values, expected {expected} ({width}×{height})")]
    DataLength {
        /// Width of the mask that was asked for.
        width: usize,
        /// Height of the mask that was asked for.
        height: usize,
        /// `width · height`.
        expected: usize,
        /// Length of the data that was given.
        got: usize,
    },
    /// Two masks that must be compared pixel by pixel have different sizes.
    #[error("masks differ in shape: {expected:?} vs {got:?} (width, height)")]
    ShapeMismatch {
        /// (width, height) of the first mask of the comparison.
        expected: (usize, usize),
        /// (width, height) of the offending mask.
        got: (usize, usize),
    },
    /// A set that an expectation is taken over has no element.
    #[error("the set of {0} is empty")]
    EmptySet(&'static str),
    /// The number of weights does not match the number of masks.
    #[error("{weights} weights given for {masks} masks")]
    WeightCount {
        /// Number of weights given.
        weights: usize,
        /// Number of masks they should weigh.
        masks: usize,
    },
    /// A weight is negative or not finite, or all weights are zero.
    #[error("weights must be finite and non-negative with a positive sum")]
    InvalidWeights,
    /// A bit string (see [`Mask::parse_bits`](super::Mask::parse_bits)) holds something other
    /// than `0`, `1` or white space.
    #[error("invalid character {0:?} in a mask bit string")]
    InvalidBit(char),
}

/// Result alias of the metrics module.
pub type Result<T> = std::result::Result<T, MetricsError>;

/// Checks that `masks` is not empty and that all masks have the same shape; returns that shape.
pub(crate) fn common_shape(masks: &[super::Mask], what: &'static str) -> Result<(usize, usize)> {
    let first = masks.first().ok_or(MetricsError::EmptySet(what))?;
    let shape = first.shape();
    for mask in &masks[1..] {
        if mask.shape() != shape {
            return Err(MetricsError::ShapeMismatch {
                expected: shape,
                got: mask.shape(),
            });
        }
    }
    Ok(shape)
}

/// Checks that two non-empty sets share one mask shape.
pub(crate) fn same_shape(
    a: &[super::Mask],
    what_a: &'static str,
    b: &[super::Mask],
    what_b: &'static str,
) -> Result<(usize, usize)> {
    let shape_a = common_shape(a, what_a)?;
    let shape_b = common_shape(b, what_b)?;
    if shape_a != shape_b {
        return Err(MetricsError::ShapeMismatch {
            expected: shape_a,
            got: shape_b,
        });
    }
    Ok(shape_a)
}

/// Validates weights for `masks` masks and scales them to sum to 1.
///
/// Weights are relative (e.g. annotator counts or unnormalised probabilities), so only their
/// ratios matter; this is what makes "weighted" and "duplicated-unweighted" sets agree exactly.
pub(crate) fn normalised_weights(weights: &[f64], masks: usize) -> Result<Vec<f64>> {
    if weights.len() != masks {
        return Err(MetricsError::WeightCount {
            weights: weights.len(),
            masks,
        });
    }
    if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
        return Err(MetricsError::InvalidWeights);
    }
    let total: f64 = weights.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return Err(MetricsError::InvalidWeights);
    }
    Ok(weights.iter().map(|w| w / total).collect())
}

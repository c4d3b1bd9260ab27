//! Per-pixel uncertainty of a set of masks (docs/CONVENTIONS.md, Metrics: "uncertainty overlay").
//!
//! For each pixel, p is the foreground frequency over the masks (the model's samples, or the
//! annotations, optionally weighted by their probabilities). Each pixel is then a Bernoulli(p)
//! variable, summarised by
//!
//! * its variance p(1 − p) ∈ [0, 1/4] — the map whose correlation between samples and
//!   annotations is the NCC of [`ncc`](super::ncc), and
//! * its binary entropy H(p) = −p·log₂p − (1−p)·log₂(1−p) ∈ [0, 1] bits, with 0·log 0 = 0.
//!
//! Maps are `f64`, row-major, `width · height` long, so the metrics stay exact to 1e-12; the
//! viewer converts to whatever it draws.

use serde::{Deserialize, Serialize};

use super::Mask;
use super::error::{Result, common_shape, normalised_weights};

/// Variance p(1 − p) of a Bernoulli(p) pixel.
pub fn bernoulli_variance(p: f64) -> f64 {
    p * (1.0 - p)
}

/// Binary entropy in bits, with 0·log 0 = 0 (so H(0) = H(1) = 0 and H(½) = 1).
pub fn binary_entropy(p: f64) -> f64 {
    let term = |q: f64| if q > 0.0 { -q * q.log2() } else { 0.0 };
    term(p) + term(1.0 - p)
}

/// Per-pixel foreground frequency of a set of masks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UncertaintyMap {
    width: usize,
    height: usize,
    frequency: Vec<f64>,
}

impl UncertaintyMap {
    /// Frequencies over equally likely masks (e.g. n model samples): p = count / n.
    pub fn from_masks(masks: &[Mask]) -> Result<Self> {
        let (width, height) = common_shape(masks, "masks")?;
        let mut counts = vec![0u32; width * height];
        for mask in masks {
            for i in mask.foreground_indices() {
                counts[i] += 1;
            }
        }
        let n = masks.len() as f64;
        Ok(Self {
            width,
            height,
            frequency: counts.into_iter().map(|c| f64::from(c) / n).collect(),
        })
    }

    /// Frequencies over masks with probabilities (relative weights, normalised to sum to 1):
    /// p = Σⱼ wⱼ·yⱼ. Integer weights equal duplicating masks.
    pub fn from_weighted_masks(masks: &[Mask], weights: &[f64]) -> Result<Self> {
        let (width, height) = common_shape(masks, "masks")?;
        let weights = normalised_weights(weights, masks.len())?;
        let mut frequency = vec![0.0; width * height];
        for (mask, w) in masks.iter().zip(weights) {
            for i in mask.foreground_indices() {
                frequency[i] += w;
            }
        }
        // Rounding can leave Σw = 1 + ε; keep p a probability.
        for p in &mut frequency {
            *p = p.min(1.0);
        }
        Ok(Self {
            width,
            height,
            frequency,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Foreground frequency p per pixel, row-major.
    pub fn frequency(&self) -> &[f64] {
        &self.frequency
    }

    /// Bernoulli variance p(1 − p) per pixel.
    pub fn variance(&self) -> Vec<f64> {
        self.frequency
            .iter()
            .map(|&p| bernoulli_variance(p))
            .collect()
    }

    /// Binary entropy H(p) in bits per pixel.
    pub fn entropy(&self) -> Vec<f64> {
        self.frequency.iter().map(|&p| binary_entropy(p)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_values() {
        assert_eq!(binary_entropy(0.0), 0.0);
        assert_eq!(binary_entropy(1.0), 0.0);
        assert_eq!(binary_entropy(0.5), 1.0);
        // H(1/4) = 2 − (3/4)·log₂3.
        assert!((binary_entropy(0.25) - (2.0 - 0.75 * 3f64.log2())).abs() < 1e-15);
        assert_eq!(binary_entropy(0.25), binary_entropy(0.75));
        assert_eq!(bernoulli_variance(0.5), 0.25);
        assert_eq!(bernoulli_variance(1.0), 0.0);
    }

    #[test]
    fn frequencies() {
        let masks = ["1100", "1000", "1010", "0000"].map(|b| Mask::parse_bits(2, 2, b).unwrap());
        let map = UncertaintyMap::from_masks(&masks).unwrap();
        assert_eq!(map.frequency(), [0.75, 0.25, 0.25, 0.0]);
        assert_eq!(map.variance(), [0.1875, 0.1875, 0.1875, 0.0]);
        let h = map.entropy();
        assert!((h[0] - binary_entropy(0.25)).abs() < 1e-15 && h[3] == 0.0);
        let weighted = UncertaintyMap::from_weighted_masks(&masks, &[2.0, 0.0, 1.0, 1.0]).unwrap();
        assert_eq!(weighted.frequency(), [0.75, 0.5, 0.25, 0.0]);
        assert!(UncertaintyMap::from_masks(&[]).is_err());
        assert!(UncertaintyMap::from_weighted_masks(&masks, &[1.0]).is_err());
    }
}

//! What the page shows after the model has looked at a crop: host-side results only (masks,
//! latents, maps, timings), so components can draw them without touching a tensor.

use imaging::Prepared;
use metrics::{HypothesisFrequencies, Mask, UncertaintyMap, hypothesis_frequencies};
use probunet::{GridCell, HostPrior};

/// One draw from the prior and the mask it decodes to.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The probabilistic U-Net's latent; `None` for the hierarchical model, whose latents are
    /// maps at several scales rather than one short vector worth showing.
    pub z: Option<Vec<f32>>,
    pub mask: Mask,
}

impl Sample {
    /// The probabilistic U-Net's samples: each latent with the mask it decoded to.
    pub fn from_latents(zs: Vec<Vec<f32>>, masks: Vec<Mask>) -> Vec<Sample> {
        zs.into_iter()
            .zip(masks)
            .map(|(z, mask)| Sample { z: Some(z), mask })
            .collect()
    }
}

/// The model's distribution of segmentations for one crop.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// The model's input (intensities in \[0, 1\]) and where it sits in the slice.
    pub crop: Prepared,
    /// The probabilistic U-Net's prior for this crop (`None` for the hierarchical model).
    pub prior: Option<HostPrior>,
    pub samples: Vec<Sample>,
    /// The mask at the prior mean: the model's single most typical answer.
    pub mean: Mask,
    pub uncertainty: UncertaintyMap,
    /// Seed of the samples' latents.
    pub seed: u64,
    /// Encoder (+ prior) once per crop; 0 when the encoding was reused.
    pub encode_ms: f64,
    /// The encoding was made elsewhere ([`crate::Host::encode_elsewhere`]), where the samples
    /// were decoded too while it was held there.
    pub encoded_elsewhere: bool,
    /// Every sample and the mean: fcomb, or the hierarchical model's decoder.
    pub sample_ms: f64,
}

impl Analysis {
    /// Per-pixel binary entropy of the foreground frequency, in bits (0 … 1).
    pub fn entropy(&self) -> Vec<f64> {
        self.uncertainty.entropy()
    }

    /// Whether at least two samples differ: the model sees ambiguity here.
    pub fn samples_differ(&self) -> bool {
        self.samples
            .windows(2)
            .any(|pair| pair[0].mask != pair[1].mask)
    }

    /// Number of distinct masks among the samples.
    pub fn distinct_masks(&self) -> usize {
        distinct_count(self.samples.iter().map(|s| &s.mask))
    }

    /// Predicted share of each true hypothesis (samples assigned to the nearest by IoU), given
    /// the hypotheses' masks in this crop and their true probabilities.
    pub fn frequencies(
        &self,
        hypotheses: &[Mask],
        probabilities: &[f64],
    ) -> Option<HypothesisFrequencies> {
        let samples: Vec<Mask> = self.samples.iter().map(|s| s.mask.clone()).collect();
        hypothesis_frequencies(&samples, hypotheses, probabilities).ok()
    }
}

/// Number of distinct masks in `masks`.
pub fn distinct_count<'a>(masks: impl IntoIterator<Item = &'a Mask>) -> usize {
    let mut seen: Vec<&Mask> = Vec::new();
    for mask in masks {
        if !seen.contains(&mask) {
            seen.push(mask);
        }
    }
    seen.len()
}

/// The latent map: masks decoded on a grid over two latent dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct LatentMap {
    pub x_dim: usize,
    pub y_dim: usize,
    /// Half-width of the grid in units of the prior's σ.
    pub extent: f32,
    /// Cells per side.
    pub cells: usize,
    pub grid: Vec<GridCell>,
    pub masks: Vec<Mask>,
    pub decode_ms: f64,
}

/// The hierarchical model's explorer: for each latent scale (coarsest first), masks with only
/// that scale drawn and every other at its prior mean, showing which scale carries which
/// ambiguity.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleRows {
    /// `rows[scale]`: that scale's masks.
    pub rows: Vec<Vec<Mask>>,
    /// Side of each scale's latent map in pixels at the model's input side, coarsest first.
    pub latent_sides: Vec<usize>,
    pub decode_ms: f64,
}

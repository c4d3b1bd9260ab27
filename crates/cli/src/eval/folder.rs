//! Evaluation on a multi-rater folder (e.g. the real LIDC fixture): the raters are the
//! annotation distribution, each with weight 1/m, since the true one is unknown.
//!
//! GED₁₆/GED₁₀₀ against the raters (unweighted `ged`, d(∅,∅) = 0), HM-IoU₁₆ and HM-IoU₃₂ with
//! the raters tiled to 16/32 slots, diversity next to the raters' own E[d(y,y′)], the share of
//! empty samples, and the noise floor: n draws made uniformly from the raters themselves.
//! Slices are grouped by how many raters drew the lesion; "subset B" (all four) is where the
//! seed paper's model is known to sample empty masks although every expert drew one.

use anyhow::Result;
use metrics::{Mask, ged, hm_iou, iou};
use probunet::SeededRng;
use serde::Serialize;

use super::SAMPLES;
use super::metric::Metric;
use super::summary::Row;
use crate::dataset::MultiRaterSlice;
use crate::segmenter::Segmenter;

/// Everything measured on one slice.
#[derive(Debug, Clone, Serialize)]
pub struct SliceResult {
    pub name: String,
    pub raters: usize,
    pub ged16: f64,
    pub ged100: f64,
    pub ged16_floor: f64,
    pub ged100_floor: f64,
    pub hm_iou16: f64,
    pub hm_iou32: f64,
    pub hm_iou16_floor: f64,
    /// Share of the 100 samples with no foreground pixel.
    pub empty_share: f64,
    pub diversity: f64,
    pub rater_diversity: f64,
    /// Mean foreground pixels of the samples and of the raters (is the lesion found at all?).
    pub sample_foreground: f64,
    pub rater_foreground: f64,
    /// Mean IoU of each rater's mask with the model's reconstruction of it from the
    /// posterior mean (IoU(∅,∅) = 1): what the latent space can express.
    pub reconstruction_iou: f64,
}

impl SliceResult {
    pub fn row(&self) -> Row {
        vec![
            (Metric::Ged16, self.ged16),
            (Metric::Ged16Floor, self.ged16_floor),
            (Metric::Ged100, self.ged100),
            (Metric::Ged100Floor, self.ged100_floor),
            (Metric::HmIou16, self.hm_iou16),
            (Metric::HmIou32, self.hm_iou32),
            (Metric::HmIou16Floor, self.hm_iou16_floor),
            (Metric::EmptyShare, self.empty_share),
            (Metric::Diversity, self.diversity),
            (Metric::RaterDiversity, self.rater_diversity),
            (Metric::SampleForeground, self.sample_foreground),
            (Metric::RaterForeground, self.rater_foreground),
            (Metric::ReconstructionIou, self.reconstruction_iou),
        ]
    }
}

/// The group a slice is reported in: by how many raters drew the lesion.
pub fn group_of(slice: &MultiRaterSlice) -> String {
    match (slice.raters_with_lesion(), slice.raters.len()) {
        (k, n) if k == n && n >= 4 => "B: all drew".into(),
        (0, _) => "none drew".into(),
        _ => "some drew".into(),
    }
}

/// Evaluates `model` on one slice of `size × size`.
pub fn evaluate_slice(
    model: &Segmenter,
    slice: &MultiRaterSlice,
    size: usize,
    rng: &mut SeededRng,
    floor_rng: &mut SeededRng,
) -> Result<SliceResult> {
    let encoded = model.encode(&slice.image, size);
    let samples = model.samples(&encoded, SAMPLES, rng)?;
    let raters = &slice.raters;
    let reconstructions = model.reconstruct(&encoded, raters)?;
    let reconstruction_iou = reconstructions
        .iter()
        .zip(raters)
        .map(|(r, y)| iou(r, y))
        .sum::<Result<f64, _>>()?
        / raters.len().max(1) as f64;
    let draws = |n: usize, rng: &mut SeededRng| -> Vec<Mask> {
        (0..n)
            .map(|_| raters[(rng.next_u64() % raters.len() as u64) as usize].clone())
            .collect()
    };
    let true16 = draws(16, floor_rng);
    let true100 = draws(SAMPLES, floor_rng);
    let g100 = ged(&samples, raters)?;
    let mean_fg =
        |ms: &[Mask]| ms.iter().map(|m| m.foreground_count() as f64).sum::<f64>() / ms.len() as f64;
    Ok(SliceResult {
        name: slice.name.clone(),
        raters: raters.len(),
        ged16: ged(&samples[..16], raters)?.squared,
        ged100: g100.squared,
        ged16_floor: ged(&true16, raters)?.squared,
        ged100_floor: ged(&true100, raters)?.squared,
        hm_iou16: hm_iou(&samples[..16], raters)?.value,
        hm_iou32: hm_iou(&samples[..32], raters)?.value,
        empty_share: samples.iter().filter(|m| m.foreground_count() == 0).count() as f64
            / samples.len() as f64,
        hm_iou16_floor: hm_iou(&true16, raters)?.value,
        diversity: g100.samples,
        rater_diversity: g100.annotations,
        sample_foreground: mean_fg(&samples),
        rater_foreground: mean_fg(raters),
        reconstruction_iou,
    })
}

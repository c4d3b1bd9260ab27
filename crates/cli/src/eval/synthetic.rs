//! Evaluation on held-out synthetic cases against their EXACT annotation distribution.
//!
//! Per case: encode once, draw 100 prior samples (the first model reruns only fcomb, the
//! hierarchical one its decoder); the first 16 of them (independent draws) are the 16-sample
//! set. Against the weighted hypotheses:
//!
//! * GED₁₆, GED₁₀₀: `ged_weighted` (GED², docs/CONVENTIONS.md, Metrics).
//! * HM-IoU₁₆: the hypotheses tiled by probability into 20 slots (every probability is a
//!   multiple of 0.05, so slot counts are exact), 16 samples matched one-to-one to slots.
//! * Diversity: E[d(ŷ,ŷ′)] of the 100 samples, next to the true distribution's E[d(y,y′)].
//! * Frequency error: each of the 100 samples assigned to its nearest hypothesis by IoU,
//!   |share − probability| averaged over the case's hypotheses.
//! * Rare produced: share of rare (10–20 %) hypotheses that got at least one of the 100 samples
//!   assigned to them AND overlapping them with IoU ≥ 0.5 (so a garbage mask that happens to be
//!   nearest to a rare hypothesis does not count as producing it).
//! * Noise floor: the same metrics for n draws from the true distribution itself, i.e. what a
//!   perfect model would score with the same sample counts.
//! * Decoder ceiling: GED₁₀₀ and frequency error of 100 latents drawn from the mixture of the
//!   case's posteriors, Σ_k p_k q(z|x,y_k), with exact shares — what the model would score if its
//!   prior were perfect (for the hierarchical model, each draw runs one hypothesis' posterior
//!   chain down the prior's decoder). The gap between the prior's row and this one is the prior's fault;
//!   the gap between this one and the floor is the decoder's (U-Net + fcomb cannot draw some
//!   hypothesis from its own posterior's z).

use anyhow::Result;
use metrics::{Mask, ged_weighted, hm_iou, hypothesis_frequencies, iou};
use probunet::SeededRng;
use serde::Serialize;
use synth::{Case, draw_rater_indices};

use super::SAMPLES;
use super::metric::Metric;
use super::summary::Row;
use crate::segmenter::Segmenter;

/// Slots the hypotheses are tiled into for HM-IoU (probabilities are multiples of 1/20).
const SLOTS: usize = 20;
/// Seed offset of the decoder-ceiling draws (their own stream, so adding them left the prior's
/// samples and the floor draws as they were).
const CEILING_SEED: u64 = 0xCE11_0000;
/// IoU a sample needs with a rare hypothesis (besides being nearest to it) to count as producing it.
const RARE_MIN_IOU: f64 = 0.5;

/// Everything measured on one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub seed: u64,
    pub kind: String,
    pub labels: Vec<String>,
    pub probabilities: Vec<f64>,
    /// Shares of the 100 samples per hypothesis.
    pub shares: Vec<f64>,
    pub ged16: f64,
    pub ged100: f64,
    pub ged16_floor: f64,
    pub ged100_floor: f64,
    pub hm_iou16: f64,
    pub hm_iou16_floor: f64,
    pub diversity: f64,
    pub true_diversity: f64,
    pub freq_error: f64,
    pub freq_error_floor: f64,
    /// GED₁₀₀ and frequency error with latents from the exact posterior mixture.
    pub ged100_ceiling: f64,
    pub freq_error_ceiling: f64,
    pub rare_hypotheses: usize,
    pub rare_produced: usize,
    /// Share of the 100 samples with no foreground at all.
    pub empty_share: f64,
}

impl CaseResult {
    /// The numbers that enter the table, in column order.
    pub fn row(&self) -> Row {
        let rare = if self.rare_hypotheses == 0 {
            f64::NAN
        } else {
            self.rare_produced as f64 / self.rare_hypotheses as f64
        };
        vec![
            (Metric::Ged16, self.ged16),
            (Metric::Ged16Floor, self.ged16_floor),
            (Metric::Ged100, self.ged100),
            (Metric::Ged100Floor, self.ged100_floor),
            (Metric::HmIou16, self.hm_iou16),
            (Metric::HmIou16Floor, self.hm_iou16_floor),
            (Metric::Diversity, self.diversity),
            (Metric::TrueDiversity, self.true_diversity),
            (Metric::FreqError, self.freq_error),
            (Metric::FreqErrorFloor, self.freq_error_floor),
            (Metric::RareProduced, rare),
            (Metric::Ged100Ceiling, self.ged100_ceiling),
            (Metric::FreqErrorCeiling, self.freq_error_ceiling),
        ]
    }
}

/// Evaluates `model` (either kind) on `case` (samples drawn with `rng`, floor draws with
/// `floor_rng`).
pub fn evaluate_case(
    model: &Segmenter,
    case: &Case,
    rng: &mut SeededRng,
    floor_rng: &mut SeededRng,
) -> Result<CaseResult> {
    let size = case.width;
    let hyps = case.masks();
    let probs = case.probabilities();
    let encoded = model.encode(&case.image, size);
    let samples = model.samples(&encoded, SAMPLES, rng)?;
    let mut ceiling_rng = SeededRng::new(CEILING_SEED ^ case.seed);
    let ceiling = model.posterior_mixture(&encoded, &hyps, &probs, SAMPLES, &mut ceiling_rng)?;
    let ceiling_ged = ged_weighted(&ceiling, &hyps, &probs)?;
    let ceiling_freq = hypothesis_frequencies(&ceiling, &hyps, &probs)?;
    let tiled = tile_by_probability(&hyps, &probs);
    let draws = |n: usize, rng: &mut SeededRng| -> Vec<Mask> {
        draw_rater_indices(case, n, rng)
            .into_iter()
            .map(|k| hyps[k].clone())
            .collect()
    };
    let true16 = draws(16, floor_rng);
    let true100 = draws(SAMPLES, floor_rng);
    let g16 = ged_weighted(&samples[..16], &hyps, &probs)?;
    let g100 = ged_weighted(&samples, &hyps, &probs)?;
    let freq = hypothesis_frequencies(&samples, &hyps, &probs)?;
    let freq_floor = hypothesis_frequencies(&true100, &hyps, &probs)?;
    let rare: Vec<usize> = (0..hyps.len())
        .filter(|&k| case.hypotheses[k].is_rare())
        .collect();
    Ok(CaseResult {
        seed: case.seed,
        kind: case.kind.name().to_string(),
        labels: case.hypotheses.iter().map(|h| h.label.clone()).collect(),
        probabilities: probs.clone(),
        shares: freq.shares.clone(),
        ged16: g16.squared,
        ged100: g100.squared,
        ged16_floor: ged_weighted(&true16, &hyps, &probs)?.squared,
        ged100_floor: ged_weighted(&true100, &hyps, &probs)?.squared,
        hm_iou16: hm_iou(&samples[..16], &tiled)?.value,
        hm_iou16_floor: hm_iou(&true16, &tiled)?.value,
        diversity: g100.samples,
        true_diversity: g100.annotations,
        freq_error: freq.mean_abs_error,
        freq_error_floor: freq_floor.mean_abs_error,
        ged100_ceiling: ceiling_ged.squared,
        freq_error_ceiling: ceiling_freq.mean_abs_error,
        rare_hypotheses: rare.len(),
        rare_produced: rare
            .iter()
            .filter(|&&k| {
                let produced = |(s, &a): (&Mask, &usize)| {
                    a == k && iou(s, &hyps[k]).is_ok_and(|v| v >= RARE_MIN_IOU)
                };
                samples.iter().zip(&freq.assignment).any(produced)
            })
            .count(),
        empty_share: samples.iter().filter(|m| m.is_empty()).count() as f64 / samples.len() as f64,
    })
}

/// Each hypothesis repeated round(p · 20) times (at least once).
fn tile_by_probability(hyps: &[Mask], probs: &[f64]) -> Vec<Mask> {
    hyps.iter()
        .zip(probs)
        .flat_map(|(h, &p)| {
            std::iter::repeat_n(h.clone(), ((p * SLOTS as f64).round() as usize).max(1))
        })
        .collect()
}

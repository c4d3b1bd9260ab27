//! Fitting the prior net on the energy distance: the straight-through gradient brings both
//! hypotheses back after the prior collapsed, and both gradient estimators lower the
//! objective and move the shares the annotations' way when those are skewed.

use burn::tensor::{Tensor, TensorData};
use probunet::prior_fit::{
    PriorFitConfig, PriorFitValues, PriorFitter, PriorGradient, RaterBatch, sample_terms,
};
use probunet::{ProbUNet, SeededRng, argmax_masks};

use crate::common::*;
use crate::train::{N, S, ambiguous_case, overfit_model, prior_sample_matches};

/// The ambiguous image with the given annotations (masks A/B of [`ambiguous_case`] by index).
fn batch_annotated(raters: &[usize]) -> RaterBatch {
    let (img, a, b) = ambiguous_case();
    let d = device();
    let masks = [a, b];
    let raters_data: Vec<f32> = raters
        .iter()
        .flat_map(|&r| masks[r].iter().map(|&v| v as f32))
        .collect();
    RaterBatch {
        images: Tensor::from_data(TensorData::new(img, [1, 1, S, S]), &d),
        raters: Tensor::from_data(TensorData::new(raters_data, [1, raters.len(), S, S]), &d),
    }
}

/// Fits `steps` steps at learning rate `lr`: the fitted model and the first and last values.
fn fit(
    model: ProbUNet,
    config: PriorFitConfig,
    batch: &RaterBatch,
    steps: usize,
    lr: f64,
) -> (ProbUNet, PriorFitValues, PriorFitValues) {
    let mut fitter = PriorFitter::new(model, config);
    let first = fitter.step(batch, lr);
    let mut last = first;
    for _ in 1..steps {
        last = fitter.step(batch, lr);
    }
    (fitter.inference_model(), first, last)
}

#[test]
fn fitting_the_prior_restores_both_masks_after_the_prior_collapsed() {
    // σ × 0.05: nearly every draw sits at the prior mean, i.e. one hypothesis (or a blend).
    let collapsed = overfit_model().widen_prior(0.05);
    let (a0, b0) = prior_sample_matches(&collapsed);
    let batch = batch_annotated(&[0, 1]);
    // At lr 1e-2 the fit's path depends on the CPU's float rounding: on an AVX-512 machine this
    // very setting (seed 0, 100 steps) put all draws on B, as did one other of 12 runs (seeds
    // 0–2, 100/200 steps, σ × 0.05 and × 0.2). At 3e-3 and 200 steps, seeds 0–2 at σ × 0.05
    // came out balanced: A 57–61, B 61–75 of 256.
    let (fitted, first, values) = fit(collapsed, PriorFitConfig::new(), &batch, 200, 3e-3);
    let (a1, b1) = prior_sample_matches(&fitted);
    eprintln!(
        "collapsed prior: A {a0}, B {b0}; fitted: A {a1}, B {b1} of {N}; {first:?} → {values:?}"
    );
    assert!(
        a0.min(b0) < N / 20,
        "the collapse left both masks: A {a0}, B {b0}"
    );
    // Two annotations with equal weight: each hypothesis should get about half of the draws
    // (measured: A 61, B 61 of 256, the rest between them; 0 and 0 before).
    assert!(a1.min(b1) >= N / 6, "after fitting: A {a1}, B {b1} of {N}");
    assert!(
        values.objective < 0.7 * first.objective,
        "{first:?} → {values:?}"
    );
}

/// D of [`N`] fresh prior samples of `model` against the annotations of `batch` (a far less
/// noisy estimate than one fitting step's 16 samples).
fn objective_of(model: &ProbUNet, batch: &RaterBatch) -> f32 {
    let encoded = model.encode(batch.images.clone());
    let logits = model.sample_n(&encoded, N, &mut SeededRng::new(9)).logits;
    let samples = argmax_masks(logits).float().reshape([1, N, S * S]);
    let k = batch.raters.dims()[1];
    let annotations = batch.raters.clone().reshape([1, k, S * S]);
    sample_terms(samples, annotations).into_scalar::<f32>()
}

#[test]
fn both_gradients_lower_the_objective_on_skewed_annotations() {
    // Three annotations of A to one of B (the overfit model draws them about equally often).
    let batch = batch_annotated(&[0, 0, 0, 1]);
    let model = overfit_model();
    let (a0, b0) = prior_sample_matches(&model);
    let before = objective_of(&model, &batch);
    for gradient in [PriorGradient::StraightThrough, PriorGradient::ScoreFunction] {
        let config = PriorFitConfig::new().with_gradient(gradient);
        let (fitted, _, _) = fit(model.clone(), config, &batch, 60, 1e-3);
        let (a1, b1) = prior_sample_matches(&fitted);
        let after = objective_of(&fitted, &batch);
        eprintln!("{gradient:?}: D {before:.4} → {after:.4}; A {a0} → {a1}, B {b0} → {b1} of {N}");
        // Measured: D 0.53 → 0.36 (straight-through) and → 0.37 (score function), A 71 → 150
        // and → 124; a wrong sign raises D and lowers A. (B falls to 6–8, not to a quarter: the
        // frozen decoder draws blends of A and B between their regions, and at this prior's
        // optimum trading B's draws for A's costs D less than the blends a wider prior brings.)
        assert!(after < before - 0.02, "{gradient:?}: D {before} → {after}");
        assert!(a1 > a0 + N / 10, "{gradient:?}: A {a0} → {a1}");
    }
}

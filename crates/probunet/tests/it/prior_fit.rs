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
    assert!(
        a0.min(b0) < N / 20,
        "the collapse left both masks: A {a0}, B {b0}"
    );
    // The straight-through fit's path depends on the CPU's float rounding: at lr 3e-3 and 200
    // steps, seeds 0–2 came out balanced on one machine (A 57–61, B 61–75 of 256) and put every
    // draw on B on another (a 2-core x86 without AVX-512; seeds 0–2), which lowers D too
    // (0.98 → 0.78). At lr 1e-3 that machine gave A 54/33/56, B 98/95/122, and a later 2-core
    // machine A 41/40/52, B 73/72/71. So the claim is about the fit, not one path: over three
    // fitting seeds, most restore both masks from under a twentieth of the draws to at least
    // an eighth each (two equal annotations want half).
    let mut restored = Vec::new();
    for seed in 0..3 {
        let config = PriorFitConfig::new().with_seed(seed);
        let (fitted, first, values) = fit(collapsed.clone(), config, &batch, 200, 1e-3);
        let (a1, b1) = prior_sample_matches(&fitted);
        eprintln!(
            "seed {seed}: collapsed prior A {a0}, B {b0}; fitted A {a1}, B {b1} of {N}; \
             {first:?} → {values:?}"
        );
        assert!(
            values.objective < 0.9 * first.objective,
            "seed {seed}: {first:?} → {values:?}"
        );
        restored.push(a1.min(b1) >= N / 8);
    }
    let count = restored.iter().filter(|&&r| r).count();
    assert!(
        count >= 2,
        "both masks restored in {count} of 3 fits: {restored:?}"
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

//! One optimisation step of `probunet train` — the probabilistic model or its deterministic
//! baseline (`probunet::train` describes both) — and the checks that keep a diverged run from
//! overwriting good weights.

use anyhow::Result;
use probunet::{LossConfig, LossValues, ProbUNet, Trainer, TrainerConfig, parameter_values};

use super::source::{HostBatch, noise_rng};
use crate::model_io::to_vec;

/// The run's trainer: `model` as built or resumed; the baseline's latent weights are zeroed.
pub fn trainer(
    model: ProbUNet,
    deterministic: bool,
    loss: LossConfig,
    grad_clip: Option<f32>,
) -> Trainer {
    let config = TrainerConfig::new()
        .with_loss(loss)
        .with_grad_clip(grad_clip)
        .with_deterministic(deterministic);
    Trainer::new(model, config)
}

/// One Adam step on `batch` at learning rate `lr`. ε comes from the run's per-step noise
/// stream, so a resumed run draws what an uninterrupted one would have.
pub fn step(trainer: &mut Trainer, batch: &HostBatch, lr: f64, seed: u64) -> LossValues {
    let tensors = batch.tensors(&trainer.model().device());
    let mut rng = noise_rng(seed, batch.step);
    trainer
        .step_with(&tensors, batch.step, lr, &mut rng)
        .values()
}

/// Whether fcomb ignores z (all latent weights zero): the deterministic baseline.
pub fn ignores_latent(model: &ProbUNet) -> Result<bool> {
    let m = model.config().latent_dim;
    let w = model.fcomb.layers[0].weight.val();
    let c_in = w.dims()[1];
    Ok(to_vec(w.narrow(1, c_in - m, m))?.iter().all(|&v| v == 0.0))
}

/// Whether every parameter of `model` is finite (checked before any checkpoint is written).
pub fn all_finite(model: &ProbUNet) -> bool {
    parameter_values(model).is_ok_and(|values| values.iter().all(|v| v.is_finite()))
}

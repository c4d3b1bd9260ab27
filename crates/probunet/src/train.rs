//! Training the probabilistic U-Net, or its deterministic baseline: the objective that the
//! [`Learner`] loop drives (burn-train does not run in the browser). The same code runs natively
//! and in wasm, on any backend.
//!
//! ```text
//! let mut trainer = Trainer::new(ProbUNet::new_seeded(&cfg, 0, &device), TrainerConfig::new());
//! for batch in batches {
//!     let loss = trainer.step(&batch).values();
//! }
//! let model = trainer.into_model(); // plain (no autodiff) model for sampling
//! ```
//!
//! **The deterministic baseline** is the same network with the latent switched off: fcomb's
//! weights on the z channels (`W_z`, see [`crate::fcomb`]) are zeroed and z ≡ 0 while training
//! on the cross-entropy alone (β = 0, no posterior, no prior). The gradient of `W_z` is z·δ = 0,
//! so Adam never moves it off zero: the saved model is an ordinary [`ProbUNet`] whose samples
//! are all identical whatever z the prior draws. The U-Net, fcomb's hidden layers and the data
//! are exactly those of the probabilistic model, so the comparison isolates the latent.

use burn::config::Config;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Int, Tensor, TensorData};

use crate::init::SeededRng;
use crate::learner::Learner;
use crate::loss::{LossConfig, LossParts, weighted_ce_per_image};
use crate::model::ProbUNet;

/// Optimisation settings.
#[derive(Config, Debug)]
pub struct TrainerConfig {
    /// Adam learning rate (the paper's LIDC runs used 1e-4).
    #[config(default = 1e-4)]
    pub learning_rate: f64,
    /// The objective.
    #[config(default = "LossConfig::new()")]
    pub loss: LossConfig,
    /// Seed of the host RNG that draws the reparameterisation noise ε.
    #[config(default = 0)]
    pub seed: u64,
    /// Clip each gradient's L2 norm to this.
    #[config(default = "None")]
    pub grad_clip: Option<f32>,
    /// Train the deterministic baseline (latent weights zeroed, cross-entropy alone).
    #[config(default = false)]
    pub deterministic: bool,
}

/// A batch of images with one annotation each.
#[derive(Debug, Clone)]
pub struct Batch {
    /// `[B, in_channels, H, W]`.
    pub images: Tensor<4>,
    /// `[B, H, W]` class indices.
    pub masks: Tensor<3, Int>,
}

/// Owns a model in training mode (autodiff on), its Adam state and the noise RNG.
pub struct Trainer {
    learner: Learner<ProbUNet>,
    config: TrainerConfig,
    rng: SeededRng,
}

impl Trainer {
    /// Puts `model` into training mode (gradients tracked) and creates a fresh Adam; the
    /// baseline's latent weights are zeroed here.
    pub fn new(model: ProbUNet, config: TrainerConfig) -> Self {
        let model = if config.deterministic {
            zero_latent_weights(model)
        } else {
            model
        };
        Self {
            learner: Learner::new(model.train(), config.grad_clip),
            rng: SeededRng::new(config.seed),
            config,
        }
    }

    /// One optimisation step on `batch` at the configured learning rate, ε from the trainer's
    /// own RNG; returns the loss parts (detached) of this step.
    pub fn step(&mut self, batch: &Batch) -> LossParts {
        let (step, lr) = (self.steps_done(), self.config.learning_rate);
        let Self {
            learner,
            config,
            rng,
        } = self;
        optimise(learner, config, batch, step, lr, rng)
    }

    /// One optimisation step with everything a schedule or a resumed run fixes from outside:
    /// optimisation step `step` (for the β warm-up), learning rate `lr`, ε from `rng`.
    pub fn step_with(
        &mut self,
        batch: &Batch,
        step: usize,
        lr: f64,
        rng: &mut SeededRng,
    ) -> LossParts {
        optimise(&mut self.learner, &self.config, batch, step, lr, rng)
    }

    /// Steps taken so far.
    pub fn steps_done(&self) -> usize {
        self.learner.steps_done()
    }

    /// The model being trained (autodiff on).
    pub fn model(&self) -> &ProbUNet {
        self.learner.model()
    }

    /// A copy of the current weights for inference (no autodiff).
    pub fn inference_model(&self) -> ProbUNet {
        self.learner.inference_model()
    }

    /// The learner, whose Adam state a checkpoint keeps ([`Learner::optimizer_state`]).
    pub fn learner(&self) -> &Learner<ProbUNet> {
        &self.learner
    }

    /// The learner, to resume its Adam state ([`Learner::resume_optimizer`]).
    pub fn learner_mut(&mut self) -> &mut Learner<ProbUNet> {
        &mut self.learner
    }

    /// Ends training, returning the model for inference.
    pub fn into_model(self) -> ProbUNet {
        self.inference_model()
    }

    /// Changes the learning rate of [`Trainer::step`] from the next step on.
    pub fn set_learning_rate(&mut self, learning_rate: f64) {
        self.config.learning_rate = learning_rate;
    }
}

/// One step of `learner` on the objective `config` names.
fn optimise(
    learner: &mut Learner<ProbUNet>,
    config: &TrainerConfig,
    batch: &Batch,
    step: usize,
    lr: f64,
    rng: &mut SeededRng,
) -> LossParts {
    learner.step(lr, |model| {
        if config.deterministic {
            baseline_gradients(model, batch, &config.loss)
        } else {
            gradients(model, batch, &config.loss, step, rng)
        }
    })
}

/// The batch on the model's device.
fn on_device(model: &ProbUNet, batch: &Batch) -> (Tensor<4>, Tensor<3, Int>) {
    let device = model.device();
    (
        batch.images.clone().to_device(&device),
        batch.masks.clone().to_device(&device),
    )
}

/// Forward through the posterior with ε from `rng`, loss at optimisation step `step`, and its
/// gradients; returns them with the detached loss parts.
fn gradients(
    model: &ProbUNet,
    batch: &Batch,
    loss: &LossConfig,
    step: usize,
    rng: &mut SeededRng,
) -> (GradientsParams, LossParts) {
    let (images, masks) = on_device(model, batch);
    let b = images.dims()[0];
    let m = model.config().latent_dim;
    let eps = Tensor::from_data(
        TensorData::new(rng.normals(b * m, 1.0), [b, m]),
        &model.device(),
    );
    let out = model.forward_train(images, masks.clone(), eps);
    let parts = loss.loss(&out, masks, step);
    let grads = GradientsParams::from_grads(parts.total.backward(), model);
    (grads, parts.detach())
}

/// The baseline's objective: CE of fcomb(features, z = 0), summed over pixels, mean over the
/// batch.
fn baseline_gradients(
    model: &ProbUNet,
    batch: &Batch,
    loss: &LossConfig,
) -> (GradientsParams, LossParts) {
    let (images, masks) = on_device(model, batch);
    let b = images.dims()[0];
    let z = Tensor::<2>::zeros([b, model.config().latent_dim], &model.device());
    let projection = model.fcomb.project(model.unet.forward(images));
    let logits = model.fcomb.forward_projected(projection, z);
    let ce = weighted_ce_per_image(logits, masks, loss.foreground_weight).mean();
    let grads = GradientsParams::from_grads(ce.backward(), model);
    let ce = ce.detach();
    let parts = LossParts {
        total: ce.clone(),
        kl: ce.zeros_like(),
        ce,
        beta: 0.0,
    };
    (grads, parts)
}

/// Zeroes fcomb's first-layer weights on the latent channels (the last `latent_dim` inputs):
/// the deterministic baseline.
pub fn zero_latent_weights(mut model: ProbUNet) -> ProbUNet {
    let m = model.config().latent_dim;
    let first = &mut model.fcomb.layers[0];
    first.weight = first.weight.clone().map(|w| {
        let [p, c_in, kh, kw] = w.dims();
        let keep: Vec<f32> = (0..c_in)
            .map(|c| if c < c_in - m { 1.0 } else { 0.0 })
            .collect();
        let keep = Tensor::<4>::from_data(TensorData::new(keep, [1, c_in, 1, 1]), &w.device());
        w * keep.expand([p, c_in, kh, kw])
    });
    model
}

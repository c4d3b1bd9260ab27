//! A hand-written training loop step (burn-train does not run in the browser): posterior path,
//! loss, backward, Adam. The same code runs natively and in wasm, on any backend.
//!
//! ```text
//! let mut trainer = Trainer::new(ProbUNet::new_seeded(&cfg, 0, &device), TrainerConfig::new());
//! for batch in batches {
//!     let loss = trainer.step(&batch).values();
//! }
//! let model = trainer.into_model(); // plain (no autodiff) model for sampling
//! ```

use burn::config::Config;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Int, Tensor, TensorData};

use crate::init::SeededRng;
use crate::loss::{LossConfig, LossParts};
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
}

/// A batch of images with one annotation each.
#[derive(Debug, Clone)]
pub struct Batch {
    /// `[B, in_channels, H, W]`.
    pub images: Tensor<4>,
    /// `[B, H, W]` class indices.
    pub masks: Tensor<3, Int>,
}

/// Adam with its defaults, each gradient's L2 norm clipped to `grad_clip` if given.
pub fn adam(grad_clip: Option<f32>) -> ModuleOptimizer {
    AdamConfig::new()
        .with_grad_clipping(grad_clip.map(burn::optim::grad_clipping::GradientClippingConfig::Norm))
        .init()
}

/// Owns a model in training mode (autodiff on) and its Adam state.
pub struct Trainer {
    /// `None` only transiently inside [`Trainer::step`].
    model: Option<ProbUNet>,
    optim: ModuleOptimizer,
    config: TrainerConfig,
    rng: SeededRng,
    step: usize,
}

impl Trainer {
    /// Puts `model` into training mode (gradients tracked) and creates a fresh Adam.
    pub fn new(model: ProbUNet, config: TrainerConfig) -> Self {
        Self {
            model: Some(model.train()),
            optim: AdamConfig::new().init(),
            rng: SeededRng::new(config.seed),
            config,
            step: 0,
        }
    }

    /// One optimisation step on `batch`; returns the loss parts (detached) of this step.
    pub fn step(&mut self, batch: &Batch) -> LossParts {
        let model = self.model.take().expect("model present between steps");
        let (model, parts) = train_step(
            model,
            &mut self.optim,
            batch,
            &self.config.loss,
            self.step,
            self.config.learning_rate,
            &mut self.rng,
        );
        self.model = Some(model);
        self.step += 1;
        parts
    }

    /// Steps taken so far (the β warm-up counts these).
    pub fn steps_done(&self) -> usize {
        self.step
    }

    /// The model being trained (autodiff on).
    pub fn model(&self) -> &ProbUNet {
        self.model.as_ref().expect("model present between steps")
    }

    /// A copy of the current weights for inference (no autodiff).
    pub fn inference_model(&self) -> ProbUNet {
        self.model().valid()
    }

    /// Ends training, returning the model for inference.
    pub fn into_model(self) -> ProbUNet {
        self.inference_model()
    }

    /// Changes the learning rate from the next step on.
    pub fn set_learning_rate(&mut self, learning_rate: f64) {
        self.config.learning_rate = learning_rate;
    }
}

/// The bare step for callers who keep model and optimiser themselves: forward through the
/// posterior with ε from `rng`, loss at optimisation step `step` (for the β warm-up), backward,
/// one Adam update with learning rate `lr`. `model` must be in training mode
/// ([`Module::train`]). Returns the updated model and the detached loss parts.
pub fn train_step(
    model: ProbUNet,
    optim: &mut ModuleOptimizer,
    batch: &Batch,
    loss: &LossConfig,
    step: usize,
    lr: f64,
    rng: &mut SeededRng,
) -> (ProbUNet, LossParts) {
    let (grads, parts) = gradients(&model, batch, loss, step, rng);
    let model = optim.step(lr, model, grads);
    (model, parts)
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
    let device = model.device();
    let images = batch.images.clone().to_device(&device);
    let masks = batch.masks.clone().to_device(&device);
    let b = images.dims()[0];
    let m = model.config().latent_dim;
    let eps = Tensor::from_data(TensorData::new(rng.normals(b * m, 1.0), [b, m]), &device);

    let out = model.forward_train(images, masks.clone(), eps);
    let parts = loss.loss(&out, masks, step);
    let grads = GradientsParams::from_grads(parts.total.backward(), model);
    let detached = LossParts {
        total: parts.total.detach(),
        ce: parts.ce.detach(),
        kl: parts.kl.detach(),
        beta: parts.beta,
    };
    (grads, detached)
}

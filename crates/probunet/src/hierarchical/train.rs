//! The hierarchical model's training step: posterior latents, teacher-forced prior decoder,
//! GECO objective, backward, Adam. Runs natively and in wasm, on any backend.

use burn::module::Module;
use burn::optim::GradientsParams;

use super::geco::{GecoConfig, GecoState, GecoValues};
use super::model::{HierarchicalProbUNet, normal_like};
use crate::init::SeededRng;
use crate::learner::Learner;
use crate::train::Batch;

/// Owns a model in training mode, its Adam state and GECO's state.
pub struct HpuTrainer {
    learner: Learner<HierarchicalProbUNet>,
    geco: GecoConfig,
    state: GecoState,
}

impl HpuTrainer {
    /// Puts `model` into training mode with a fresh Adam (gradient norm clipped to
    /// `grad_clip` if given) and GECO at its initial λ.
    pub fn new(model: HierarchicalProbUNet, geco: GecoConfig, grad_clip: Option<f32>) -> Self {
        Self {
            learner: Learner::new(model.train(), grad_clip),
            state: geco.init(),
            geco,
        }
    }

    /// Continues from a saved GECO state (λ and the moving average) when resuming.
    pub fn with_state(mut self, state: GecoState) -> Self {
        self.state = state;
        self
    }

    /// One Adam step at learning rate `lr`; posterior noise and the top-k draw from `rng`.
    pub fn step(&mut self, batch: &Batch, lr: f64, rng: &mut SeededRng) -> GecoValues {
        let (geco, state) = (&self.geco, &mut self.state);
        self.learner.step(lr, |model| {
            let device = model.device();
            let images = batch.images.clone().to_device(&device);
            let masks = batch.masks.clone().to_device(&device);
            let [b, _, side, _] = images.dims();
            let eps = model
                .latent_shapes(b, side)
                .into_iter()
                .map(|shape| normal_like(shape, rng, &device))
                .collect();
            let out = model.forward_train(images, masks.clone(), eps);
            let parts = geco.loss(&out, masks, state, rng);
            let grads = GradientsParams::from_grads(parts.total.backward(), model);
            (grads, parts.values)
        })
    }

    /// GECO's state after the steps so far (saved with checkpoints).
    pub fn state(&self) -> GecoState {
        self.state
    }

    /// The model being trained (autodiff on).
    pub fn model(&self) -> &HierarchicalProbUNet {
        self.learner.model()
    }

    /// A copy of the current weights for inference (no autodiff).
    pub fn inference_model(&self) -> HierarchicalProbUNet {
        self.learner.inference_model()
    }

    /// The learner, whose Adam state a checkpoint keeps ([`Learner::optimizer_state`]).
    pub fn learner(&self) -> &Learner<HierarchicalProbUNet> {
        &self.learner
    }

    /// The learner, to resume its Adam state ([`Learner::resume_optimizer`]).
    pub fn learner_mut(&mut self) -> &mut Learner<HierarchicalProbUNet> {
        &mut self.learner
    }
}

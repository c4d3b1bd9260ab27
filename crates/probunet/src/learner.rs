//! The one training loop every objective drives: a model in training mode and its Adam state.
//!
//! Training the probabilistic U-Net (and its deterministic baseline), fine-tuning it in the
//! page, fitting its prior net and training the hierarchical model differ only in how they
//! compute gradients from a batch. Each supplies that as a closure to [`Learner::step`]; the
//! learner owns the model between steps, applies Adam and counts the steps.

use burn::module::Module;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, OptimizerRecord};
use burn::tensor::Bytes;

/// Adam's state could not be serialised or read back.
#[derive(Debug, thiserror::Error)]
#[error("Adam's state: {0}")]
pub struct OptimizerStateError(String);

/// Adam with its defaults, each gradient's L2 norm clipped to `grad_clip` if given.
fn adam(grad_clip: Option<f32>) -> ModuleOptimizer {
    AdamConfig::new()
        .with_grad_clipping(grad_clip.map(GradientClippingConfig::Norm))
        .init()
}

/// A model being optimised and its optimiser state.
pub struct Learner<M: Module> {
    /// `None` only transiently inside [`Learner::step`].
    model: Option<M>,
    optim: ModuleOptimizer,
    steps: usize,
}

impl<M: Module> Learner<M> {
    /// Starts from `model` as given: the caller puts it in training mode ([`Module::train`])
    /// and freezes ([`Module::no_grad`]) what must not move. Adam starts fresh
    /// ([`Learner::resume_optimizer`] continues a saved state).
    pub fn new(model: M, grad_clip: Option<f32>) -> Self {
        Self {
            model: Some(model),
            optim: adam(grad_clip),
            steps: 0,
        }
    }

    /// One step: `objective` computes the gradients (and whatever it reports) from the current
    /// model, then Adam updates the model at learning rate `lr`.
    pub fn step<V>(&mut self, lr: f64, objective: impl FnOnce(&M) -> (GradientsParams, V)) -> V {
        let model = self.model.take().expect("model present between steps");
        let (grads, reported) = objective(&model);
        self.model = Some(self.optim.step(lr, model, grads));
        self.steps += 1;
        reported
    }

    /// Steps taken since this learner started.
    pub fn steps_done(&self) -> usize {
        self.steps
    }

    /// The model being trained (autodiff on).
    pub fn model(&self) -> &M {
        self.model.as_ref().expect("model present between steps")
    }

    /// A copy of the current weights for inference (no autodiff).
    pub fn inference_model(&self) -> M {
        self.model().valid()
    }

    /// Adam's moments and step counts as bytes (burnpack), for a checkpoint beside the weights.
    ///
    /// Why: Adam restarted on resumed weights takes its first steps with zero moments, so a run
    /// resumed without its state is not the run it continues. The state is keyed by each
    /// parameter's id, which the weights file keeps.
    pub fn optimizer_state(&self) -> Result<Vec<u8>, OptimizerStateError> {
        let bytes = self
            .optim
            .into_bytes()
            .map_err(|e| OptimizerStateError(format!("{e:?}")))?;
        Ok(bytes.to_vec())
    }

    /// Continues from the Adam state [`Learner::optimizer_state`] wrote for these weights.
    /// Parameters the state does not name (weights saved by another run) start afresh.
    pub fn resume_optimizer(&mut self, state: &[u8]) -> Result<(), OptimizerStateError> {
        let record = OptimizerRecord::from_bytes(Bytes::from_bytes_vec(state.to_vec()))
            .map_err(|e| OptimizerStateError(format!("{e:?}")))?;
        // `load_record` takes the optimiser by value; its configuration (clipping) stays.
        let optim = std::mem::replace(&mut self.optim, adam(None));
        self.optim = optim.load_record(record);
        Ok(())
    }
}

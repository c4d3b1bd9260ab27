//! One optimisation step, for the probabilistic model or the deterministic baseline, and the
//! checks that keep a diverged run from overwriting good weights.
//!
//! **The deterministic baseline** is the same network with the latent switched off: fcomb's
//! weights on the z channels (`W_z`, see `probunet::fcomb`) are zeroed and z ≡ 0 while training
//! on the cross-entropy alone (β = 0, no posterior, no prior). The gradient of `W_z` is z·δ = 0,
//! so Adam never moves it off zero: the saved model is an ordinary `ProbUNet` file whose samples
//! are all identical whatever z the prior draws. The U-Net, fcomb's hidden layers and the data
//! are exactly those of the probabilistic model, so the comparison isolates the latent, and
//! `eval`, `sample` and the web page use it without special cases.

use anyhow::Result;
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Int, Tensor, TensorData};
use probunet::loss::weighted_ce_per_image;
use probunet::train::{Batch, adam, train_step};
use probunet::{LossConfig, ProbUNet};

use super::source::{HostBatch, noise_rng};
use crate::model_io::to_vec;

/// Loss values of one step, read back to the host.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepLoss {
    pub total: f32,
    pub ce: f32,
    pub kl: f32,
    pub beta: f32,
}

impl StepLoss {
    /// Whether every part is a finite number.
    pub fn is_finite(&self) -> bool {
        self.total.is_finite() && self.ce.is_finite() && self.kl.is_finite()
    }
}

/// The model in training mode with its Adam state.
pub struct Learner {
    model: Option<ProbUNet>,
    optim: ModuleOptimizer,
    loss: LossConfig,
    deterministic: bool,
    seed: u64,
}

impl Learner {
    /// `model` (plain, as built or loaded); the baseline gets its latent weights zeroed here.
    pub fn new(
        model: ProbUNet,
        deterministic: bool,
        loss: LossConfig,
        grad_clip: Option<f32>,
        seed: u64,
    ) -> Self {
        let model = if deterministic {
            zero_latent_weights(model)
        } else {
            model
        };
        Self {
            model: Some(model.train()),
            optim: adam(grad_clip),
            loss,
            deterministic,
            seed,
        }
    }

    /// One Adam step on `batch` at learning rate `lr`.
    pub fn step(&mut self, batch: &HostBatch, lr: f64) -> StepLoss {
        let model = self.model.take().expect("model present between steps");
        let Batch { images, masks } = batch.tensors(&model.device());
        let (model, loss) = if self.deterministic {
            self.deterministic_step(model, images, masks, lr)
        } else {
            let mut rng = noise_rng(self.seed, batch.step);
            let (model, parts) = train_step(
                model,
                &mut self.optim,
                &Batch { images, masks },
                &self.loss,
                batch.step,
                lr,
                &mut rng,
            );
            let v = parts.values();
            (
                model,
                StepLoss {
                    total: v.total,
                    ce: v.ce,
                    kl: v.kl,
                    beta: v.beta,
                },
            )
        };
        self.model = Some(model);
        loss
    }

    /// CE of fcomb(features, z = 0), summed over pixels, mean over the batch; Adam on it.
    fn deterministic_step(
        &mut self,
        model: ProbUNet,
        images: Tensor<4>,
        masks: Tensor<3, Int>,
        lr: f64,
    ) -> (ProbUNet, StepLoss) {
        let b = images.dims()[0];
        let m = model.config().latent_dim;
        let z = Tensor::<2>::zeros([b, m], &model.device());
        let projection = model.fcomb.project(model.unet.forward(images));
        let logits = model.fcomb.forward_projected(projection, z);
        let ce = weighted_ce_per_image(logits, masks, self.loss.foreground_weight).mean();
        let grads = GradientsParams::from_grads(ce.backward(), &model);
        let model = self.optim.step(lr, model, grads);
        let ce = ce.detach().into_scalar::<f32>();
        (
            model,
            StepLoss {
                total: ce,
                ce,
                kl: 0.0,
                beta: 0.0,
            },
        )
    }

    /// A copy of the current weights without autodiff, for saving and sampling.
    pub fn inference_model(&self) -> ProbUNet {
        self.model
            .as_ref()
            .expect("model present between steps")
            .valid()
    }
}

/// Zeroes fcomb's first-layer weights on the latent channels (the last `latent_dim` inputs).
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

/// Whether fcomb ignores z (all latent weights zero): the deterministic baseline.
pub fn ignores_latent(model: &ProbUNet) -> Result<bool> {
    let m = model.config().latent_dim;
    let w = model.fcomb.layers[0].weight.val();
    let c_in = w.dims()[1];
    Ok(to_vec(w.narrow(1, c_in - m, m))?.iter().all(|&v| v == 0.0))
}

/// Whether every parameter of `model` is finite (checked before any checkpoint is written).
pub fn all_finite(model: &ProbUNet) -> bool {
    struct Finite(bool);
    impl ModuleVisitor for Finite {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if self.0 {
                self.0 = to_vec(param.val()).is_ok_and(|v| v.iter().all(|x| x.is_finite()));
            }
        }
    }
    let mut visitor = Finite(true);
    model.visit(&mut visitor);
    visitor.0
}

//! Fitting the prior net to a trained decoder by the energy distance of its samples.
//!
//! Why: training fits p(z|x) only through KL(q(z|x,y) ‖ p(z|x)), which — for a diagonal
//! Gaussian prior and a case whose annotations' posteriors lie apart — makes the prior cover
//! them by moments, not by how much of its mass lands in the region of latent space the decoder
//! turns into each hypothesis. `probunet eval`'s decoder ceiling showed the gap on the
//! 5,600-step model: latents from the exact mixture of the posteriors gave a frequency error of
//! 0.035, prior draws 0.121 (0.077 calibrated). [`crate::calibration`] narrows it with one global factor on σ;
//! this fits the prior net itself, per image, to what its samples decode to.
//!
//! The objective, per image with n prior samples S and the K annotations Y of that image
//! (d = 1 − IoU, DESIGN.md §3):
//!
//! ```text
//! D = 2·mean d(S_i, Y_k) − mean_{i≠j} d(S_i, S_j)
//! ```
//!
//! which is the squared generalized energy distance minus the annotations' own term (a
//! constant). With the Tanimoto kernel IoU (positive definite), GED is the squared MMD between
//! the two distributions, so this is a proper scoring rule: in expectation over annotations
//! drawn from the true distribution it is lowest when the samples follow that distribution.
//! Four raters per case are enough, no exact hypothesis shares are needed.
//!
//! Only the prior net learns; the U-Net, the posterior and fcomb are frozen (the decoder the
//! ceiling measured stays as it is) — unless [`PriorFitConfig::train_fcomb`] lets fcomb learn
//! from the same objective, so that a decoder head that draws some hypotheses as blends of two
//! can sharpen them (its training so far only ever saw posterior latents). Masks are hard in
//! the forward pass, so D is the samples' GED term (up to [`IOU_SMOOTHING`]), and the gradient
//! reaches z through the soft foreground probability (the straight-through estimator, Bengio
//! et al., 2013): pixels near a sample's decision boundary tell the prior which way to move.

use burn::config::Config;
use burn::module::Module;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::Tensor;
use burn::tensor::activation::sigmoid;

use crate::init::SeededRng;
use crate::model::{Encoded, ProbUNet};

/// Smoothing of the IoU in [`jaccard_distances`], in pixels: two empty masks are at distance
/// 0, an empty and a non-empty one at ~1 (exactly `1 − 1/(|A| + 1)`), and no gradient exceeds
/// one per pixel (a tiny ε would make the gradient at two empty masks ~1/ε). It is the IoU of the
/// masks with one extra pixel set in all of them, so still a positive definite kernel and the
/// objective still proper.
pub const IOU_SMOOTHING: f32 = 1.0;

/// Settings of [`PriorFitter`].
#[derive(Config, Debug)]
pub struct PriorFitConfig {
    /// Prior samples per image and step (the energy distance's self term needs at least 2).
    #[config(default = 16)]
    pub samples: usize,
    /// Clip each gradient to this L2 norm.
    #[config(default = "None")]
    pub grad_clip: Option<f32>,
    /// Seed of the latent noise.
    #[config(default = 0)]
    pub seed: u64,
    /// Train fcomb (the decoder head) on the same objective too, not only the prior net.
    #[config(default = false)]
    pub train_fcomb: bool,
}

/// A batch of images with all their annotations.
#[derive(Debug, Clone)]
pub struct RaterBatch {
    /// `[B, in_channels, H, W]`.
    pub images: Tensor<4>,
    /// `[B, K, H, W]`, 1 on foreground, 0 elsewhere: K annotations per image.
    pub raters: Tensor<4>,
}

/// The values of one fitting step (host floats).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriorFitValues {
    /// The objective D, mean over the batch (what is differentiated).
    pub objective: f32,
    /// D minus the annotations' own term mean_{k≠l} d(Y_k, Y_l): the batch's mean GED
    /// estimate between samples and annotations.
    pub ged: f32,
}

/// Owns a model whose prior net (and, with [`PriorFitConfig::train_fcomb`], fcomb) trains, and
/// their Adam state.
pub struct PriorFitter {
    /// `None` only transiently inside [`PriorFitter::step`].
    model: Option<ProbUNet>,
    optim: ModuleOptimizer,
    config: PriorFitConfig,
    rng: SeededRng,
}

impl PriorFitter {
    /// Puts `model` into training mode with every part but the prior (and fcomb, if
    /// `config.train_fcomb`) frozen.
    ///
    /// # Panics
    /// If `config.samples` < 2 or the model does not have two classes.
    pub fn new(model: ProbUNet, config: PriorFitConfig) -> Self {
        assert!(
            config.samples >= 2,
            "the energy distance needs at least 2 samples per image"
        );
        assert_eq!(
            model.config().num_classes,
            2,
            "prior fitting compares binary masks"
        );
        let mut model = model.train();
        model.unet = model.unet.no_grad();
        model.posterior = model.posterior.no_grad();
        if !config.train_fcomb {
            model.fcomb = model.fcomb.no_grad();
        }
        let optim = AdamConfig::new()
            .with_grad_clipping(config.grad_clip.map(GradientClippingConfig::Norm))
            .init();
        Self {
            model: Some(model),
            optim,
            rng: SeededRng::new(config.seed),
            config,
        }
    }

    /// One Adam step of the trained parts on `batch` at learning rate `lr`.
    pub fn step(&mut self, batch: &RaterBatch, lr: f64) -> PriorFitValues {
        let model = self.model.take().expect("model present between steps");
        let device = model.device();
        let images = batch.images.clone().to_device(&device);
        let raters = batch.raters.clone().to_device(&device);
        let [b, k, h, w] = raters.dims();
        let n = self.config.samples;

        let features = model.unet.forward(images.clone());
        let encoded = Encoded {
            projection: model.fcomb.project(features.clone()),
            features,
            prior: model.prior.forward(images),
        };
        // One fcomb call per image (its n latents share the projection).
        let z = model.draw_prior(&encoded, n, &mut self.rng);
        let logits = Tensor::cat(
            (0..b)
                .map(|i| {
                    model.fcomb.forward_projected(
                        encoded.projection.clone().narrow(0, i, 1),
                        z.clone().narrow(0, i * n, n),
                    )
                })
                .collect(),
            0,
        );
        let margin = logits.clone().narrow(1, 1, 1) - logits.narrow(1, 0, 1);
        let soft = sigmoid(margin.clone());
        let hard = margin.greater_elem(0.0).float();
        let masks = (soft.clone() + (hard - soft).detach()).reshape([b, n, h * w]);
        let raters = raters.reshape([b, k, h * w]);

        let objective = sample_terms(masks, raters.clone()).mean();
        let annotation_term = off_diagonal_mean(jaccard_distances(raters.clone(), raters));
        // Frozen parts get no gradients, so the optimiser leaves them as they are.
        let grads = GradientsParams::from_grads(objective.backward(), &model);
        let values = PriorFitValues {
            objective: objective.clone().into_scalar::<f32>(),
            ged: (objective.detach() - annotation_term.mean()).into_scalar::<f32>(),
        };
        self.model = Some(self.optim.step(lr, model, grads));
        values
    }

    /// A copy of the current weights for inference (no autodiff).
    pub fn inference_model(&self) -> ProbUNet {
        self.model
            .as_ref()
            .expect("model present between steps")
            .valid()
    }
}

/// 2·mean d(S, Y) − mean_{i≠j} d(S_i, S_j) per image: samples `[B, n, P]`, annotations
/// `[B, K, P]` (P pixels, values in \[0, 1\]) → `[B]`.
pub fn sample_terms(samples: Tensor<3>, annotations: Tensor<3>) -> Tensor<1> {
    let cross = jaccard_distances(samples.clone(), annotations)
        .mean_dim(2)
        .mean_dim(1)
        .flatten::<1>(0, 2);
    cross * 2.0 - off_diagonal_mean(jaccard_distances(samples.clone(), samples))
}

/// 1 − (|A∩B| + s)/(|A∪B| + s) between every row of `a` `[B, n, P]` and of `b` `[B, m, P]`
/// (soft counts; s = [`IOU_SMOOTHING`]) → `[B, n, m]`.
pub fn jaccard_distances(a: Tensor<3>, b: Tensor<3>) -> Tensor<3> {
    let intersection = a.clone().matmul(b.clone().swap_dims(1, 2));
    let size_a = a.sum_dim(2);
    let size_b = b.sum_dim(2).swap_dims(1, 2);
    let union = size_a + size_b - intersection.clone();
    (intersection + IOU_SMOOTHING)
        .div(union + IOU_SMOOTHING)
        .neg()
        + 1.0
}

/// Mean of each `[n, n]` matrix's off-diagonal entries, `[B, n, n]` → `[B]` (n ≥ 2).
fn off_diagonal_mean(d: Tensor<3>) -> Tensor<1> {
    let [b, n, _] = d.dims();
    let diagonal = Tensor::<2>::eye(n, &d.device())
        .unsqueeze_dim::<3>(0)
        .expand([b, n, n]);
    let off = d * (diagonal.neg() + 1.0);
    off.sum_dim(2).sum_dim(1).flatten::<1>(0, 2) / (n * (n - 1)) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProbUNetConfig;
    use burn::tensor::{Device, TensorData};

    fn masks(rows: &[&[f32]], device: &Device) -> Tensor<3> {
        let p = rows[0].len();
        let data: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        Tensor::from_data(TensorData::new(data, [1, rows.len(), p]), device)
    }

    #[test]
    fn distances_follow_the_empty_mask_rules_up_to_the_smoothing() {
        let device = Device::flex();
        let a = masks(&[&[1.0, 1.0, 0.0, 0.0], &[0.0; 4]], &device);
        let b = masks(&[&[0.0, 1.0, 1.0, 0.0], &[0.0; 4]], &device);
        let d = jaccard_distances(a, b)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        // {0,1} vs {1,2}: 1 − 2/4; vs empty: 1 − 1/3; empty vs {1,2}: 1 − 1/3; empty vs empty: 0.
        let expected = [0.5, 2.0 / 3.0, 2.0 / 3.0, 0.0];
        for (got, want) in d.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{d:?}");
        }
    }

    #[test]
    fn the_objective_is_lowest_when_samples_match_the_annotations() {
        let device = Device::flex();
        let left: &[f32] = &[1.0, 1.0, 0.0, 0.0];
        let right: &[f32] = &[0.0, 0.0, 1.0, 1.0];
        let annotations = || masks(&[left, right, left, right], &device);
        let score = |rows: &[&[f32]]| -> f32 {
            sample_terms(masks(rows, &device), annotations()).into_scalar::<f32>()
        };
        let matched = score(&[left, right, left, right]);
        let collapsed = score(&[left, left, left, left]);
        let skewed = score(&[left, left, left, right]);
        assert!(
            matched < skewed && skewed < collapsed,
            "{matched} {skewed} {collapsed}"
        );
    }

    /// A tiny model before and after a few fitting steps on one image with two annotations
    /// (the left and the right half).
    fn fit_a_few_steps(train_fcomb: bool) -> (ProbUNet, ProbUNet, Tensor<4>) {
        let device = Device::flex();
        let model = ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 1, &device);
        let side = 16;
        let images = Tensor::<4>::from_data(
            TensorData::new(
                SeededRng::new(2).normals(side * side, 1.0),
                [1, 1, side, side],
            ),
            &device,
        );
        let raters: Vec<f32> = (0..2)
            .flat_map(|r| {
                (0..side * side).map(move |i| f32::from((i % side < side / 2) == (r == 0)))
            })
            .collect();
        let batch = RaterBatch {
            images: images.clone(),
            raters: Tensor::from_data(TensorData::new(raters, [1, 2, side, side]), &device),
        };
        let config = PriorFitConfig::new()
            .with_samples(8)
            .with_train_fcomb(train_fcomb);
        let mut fitter = PriorFitter::new(model.clone(), config);
        for _ in 0..5 {
            let values = fitter.step(&batch, 1e-2);
            assert!(values.objective.is_finite() && values.ged.is_finite());
        }
        (model, fitter.inference_model(), images)
    }

    fn same<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> bool {
        (a - b).abs().max().into_scalar::<f32>() == 0.0
    }

    /// Fits a few steps and checks that the U-Net and the posterior stay, the prior moves, and
    /// fcomb's first and last layers move exactly when `train_fcomb`.
    fn check_what_moves(train_fcomb: bool) {
        let (before, after, images) = fit_a_few_steps(train_fcomb);
        let weights = |m: &ProbUNet| {
            let last = m.fcomb.layers.len() - 1;
            [
                m.posterior.head.weight.val(),
                m.prior.head.weight.val(),
                m.fcomb.layers[0].weight.val(),
                m.fcomb.layers[last].weight.val(),
            ]
        };
        let kept: Vec<bool> = weights(&before)
            .into_iter()
            .zip(weights(&after))
            .map(|(b, a)| same(a, b))
            .collect();
        assert_eq!(kept, [true, false, !train_fcomb, !train_fcomb]);
        assert!(same(
            after.unet.forward(images.clone()),
            before.unet.forward(images)
        ));
    }

    #[test]
    fn fitting_moves_the_prior_net_alone() {
        check_what_moves(false);
    }

    #[test]
    fn with_train_fcomb_the_decoder_head_moves_too() {
        check_what_moves(true);
    }
}

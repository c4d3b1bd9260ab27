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
//! (d = 1 − IoU, docs/CONVENTIONS.md, Metrics):
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
//! the forward pass, so D is the samples' GED term (up to [`IOU_SMOOTHING`]). D is piecewise
//! constant in z, so its gradient is estimated, two ways ([`PriorGradient`]): through the soft
//! foreground probability (the straight-through estimator, Bengio et al., 2013: pixels near a
//! sample's decision boundary tell the prior which way to move; biased, but it works from any
//! start), or by the score function (Williams, 1992; unbiased: it moves the prior's mass between
//! the hypotheses' regions by how much each sample raised D, which is what sets the shares).

use burn::config::Config;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use burn::tensor::activation::sigmoid;

use crate::init::SeededRng;
use crate::learner::Learner;
use crate::model::ProbUNet;

mod energy;
mod mixture;

use energy::off_diagonal_mean;
pub use energy::{IOU_SMOOTHING, jaccard_distances, sample_terms, score_weights};
use mixture::mixture_terms;

/// How the objective's gradient reaches the prior net.
#[derive(Config, Debug, PartialEq, Eq, Copy)]
pub enum PriorGradient {
    /// Through the samples: z = μ + σε feeds fcomb and the hard masks pass the gradient of
    /// their soft foreground probability. Moves every sample towards the annotations near it,
    /// even when all samples decode to the same mask (so it can undo a collapsed prior), but it
    /// is the gradient of a soft surrogate, not of D: it does not see how much of the prior's
    /// mass falls on each side of the decoder's boundaries between hypotheses.
    StraightThrough,
    /// The score-function (REINFORCE) estimator, E[Σ w_i ∇ log p(z_i|x)] with
    /// [`score_weights`]: the unbiased gradient of D over hard masks itself, which moves mass
    /// between the regions that decode to each hypothesis. Gives nothing while all samples
    /// decode alike; fcomb, when trained, still learns through the straight-through path. On
    /// the shipped weights it lowered GED further and left the hypothesis shares no better
    /// (README, "The shipped model"): their error is the Gaussian prior's, not the estimator's.
    ScoreFunction,
}

impl PriorGradient {
    /// Samples per image the estimator needs: the energy distance's self term needs 2, the
    /// score function's leave-one-out baseline of the pairs 3.
    pub fn min_samples(self) -> usize {
        match self {
            PriorGradient::StraightThrough => 2,
            PriorGradient::ScoreFunction => 3,
        }
    }
}

/// What the prior net is fitted to.
#[derive(Config, Debug, PartialEq, Eq, Copy)]
pub enum PriorObjective {
    /// The energy distance between the decoded samples and the annotations (this module's
    /// docs): fits what the samples look like, through the frozen decoder.
    EnergyDistance,
    /// The reverse KL divergence to the mixture of the annotations' posteriors
    /// ([`mixture`](self::mixture)'s docs), blended with training's forward KL by
    /// [`PriorFitConfig::forward_kl_weight`]: fits where the prior's mass lies in latent space,
    /// without the decoder.
    PosteriorMixture,
}

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
    /// The prior net's gradient estimator.
    #[config(default = "PriorGradient::StraightThrough")]
    pub gradient: PriorGradient,
    /// What the prior is fitted to.
    #[config(default = "PriorObjective::EnergyDistance")]
    pub objective: PriorObjective,
    /// With [`PriorObjective::PosteriorMixture`]: the weight of training's forward term
    /// mean_k KL(q_k ‖ p) added to the reverse one (0: the reverse divergence alone).
    #[config(default = 0.0)]
    pub forward_kl_weight: f32,
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
    /// The objective, mean over the batch (what is differentiated).
    pub objective: f32,
    /// The batch's mean GED estimate between samples and annotations (the energy distance's
    /// objective minus the annotations' own term mean_{k≠l} d(Y_k, Y_l)); `None` where the
    /// objective decodes no samples.
    pub ged: Option<f32>,
}

/// Owns a model whose prior net (and, with [`PriorFitConfig::train_fcomb`], fcomb) trains, and
/// their Adam state.
pub struct PriorFitter {
    learner: Learner<ProbUNet>,
    config: PriorFitConfig,
    rng: SeededRng,
}

impl PriorFitter {
    /// Puts `model` into training mode with every part but the prior (and fcomb, if
    /// `config.train_fcomb`) frozen.
    ///
    /// # Panics
    /// If `config.samples` < 2 (< 3 for [`PriorGradient::ScoreFunction`]), the model does
    /// not have two classes, or fcomb is to train on an objective that never decodes.
    pub fn new(model: ProbUNet, config: PriorFitConfig) -> Self {
        assert!(
            !(config.train_fcomb && config.objective == PriorObjective::PosteriorMixture),
            "the posterior-mixture objective does not decode, so fcomb cannot learn from it"
        );

        let least = config.gradient.min_samples();
        assert!(
            config.samples >= least,
            "{:?} needs at least {least} samples per image",
            config.gradient
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
        Self {
            learner: Learner::new(model, config.grad_clip),
            rng: SeededRng::new(config.seed),
            config,
        }
    }

    /// One Adam step of the trained parts on `batch` at learning rate `lr`.
    pub fn step(&mut self, batch: &RaterBatch, lr: f64) -> PriorFitValues {
        let (config, rng) = (&self.config, &mut self.rng);
        self.learner
            .step(lr, |model| Self::gradients(model, batch, config, rng))
    }

    /// The energy distance between the prior's samples and the raters, and the gradients of
    /// the trained parts.
    fn gradients(
        model: &ProbUNet,
        batch: &RaterBatch,
        config: &PriorFitConfig,
        rng: &mut SeededRng,
    ) -> (GradientsParams, PriorFitValues) {
        let device = model.device();
        let images = batch.images.clone().to_device(&device);
        let raters = batch.raters.clone().to_device(&device);
        let [b, k, h, w] = raters.dims();
        let n = config.samples;
        if config.objective == PriorObjective::PosteriorMixture {
            let terms = mixture_terms(model, images, raters, n, rng);
            let objective = terms.reverse + terms.forward * config.forward_kl_weight;
            let grads = GradientsParams::from_grads(objective.backward(), model);
            let values = PriorFitValues {
                objective: objective.into_scalar::<f32>(),
                ged: None,
            };
            return (grads, values);
        }

        let encoded = model.encode(images);
        // One fcomb call per image (its n latents share the projection).
        let mut z = model.draw_prior(&encoded, n, rng);
        let score_function = config.gradient == PriorGradient::ScoreFunction;
        if score_function {
            z = z.detach();
        }
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

        let objective = sample_terms(masks.clone(), raters.clone()).mean();
        let annotation_term = off_diagonal_mean(jaccard_distances(raters.clone(), raters.clone()));
        let differentiated = if score_function {
            let weights = score_weights(masks.detach(), raters);
            let m = z.dims()[1];
            let log_p = encoded.prior.log_density(z.reshape([b, n, m]));
            objective.clone() + (weights * log_p).sum_dim(1).mean()
        } else {
            objective.clone()
        };
        // Frozen parts get no gradients, so the optimiser leaves them as they are.
        let grads = GradientsParams::from_grads(differentiated.backward(), model);
        let values = PriorFitValues {
            objective: objective.clone().into_scalar::<f32>(),
            ged: Some((objective.detach() - annotation_term.mean()).into_scalar::<f32>()),
        };
        (grads, values)
    }

    /// A copy of the current weights for inference (no autodiff).
    pub fn inference_model(&self) -> ProbUNet {
        self.learner.inference_model()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProbUNetConfig;
    use burn::tensor::{Device, TensorData};

    /// A tiny model and one 16² noise image with two annotations: the left and the right half,
    /// or (`agree`) the left half twice.
    fn tiny_case(agree: bool) -> (ProbUNet, RaterBatch) {
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
                let left = agree || r == 0;
                (0..side * side).map(move |i| f32::from((i % side < side / 2) == left))
            })
            .collect();
        let batch = RaterBatch {
            images,
            raters: Tensor::from_data(TensorData::new(raters, [1, 2, side, side]), &device),
        };
        (model, batch)
    }

    /// The tiny model before and after a few fitting steps on the disagreeing case.
    fn fit_a_few_steps(config: PriorFitConfig) -> (ProbUNet, ProbUNet, Tensor<4>) {
        let (model, batch) = tiny_case(false);
        let images = batch.images.clone();
        let decodes = config.objective == PriorObjective::EnergyDistance;
        let mut fitter = PriorFitter::new(model.clone(), config.with_samples(8));
        for _ in 0..5 {
            let values = fitter.step(&batch, 1e-2);
            assert!(values.objective.is_finite());
            assert_eq!(values.ged.map(f32::is_finite), decodes.then_some(true));
        }
        (model, fitter.inference_model(), images)
    }

    fn same<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> bool {
        (a - b).abs().max().into_scalar::<f32>() == 0.0
    }

    /// Fits a few steps and checks that the U-Net and the posterior stay, the prior moves, and
    /// fcomb's first and last layers move exactly when `config.train_fcomb`.
    fn check_what_moves(config: PriorFitConfig) {
        let train_fcomb = config.train_fcomb;
        let (before, after, images) = fit_a_few_steps(config);
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
        let config = PriorFitConfig::new();
        check_what_moves(config.clone().with_gradient(PriorGradient::StraightThrough));
        check_what_moves(config.clone().with_gradient(PriorGradient::ScoreFunction));
        check_what_moves(
            config
                .clone()
                .with_objective(PriorObjective::PosteriorMixture),
        );
        check_what_moves(
            config
                .with_objective(PriorObjective::PosteriorMixture)
                .with_forward_kl_weight(0.5),
        );
    }

    #[test]
    fn with_train_fcomb_the_decoder_head_moves_too() {
        let config = PriorFitConfig::new().with_train_fcomb(true);
        check_what_moves(config.clone().with_gradient(PriorGradient::StraightThrough));
        check_what_moves(config.with_gradient(PriorGradient::ScoreFunction));
    }

    /// The reverse divergence falls as the prior is fitted to the annotations' posteriors (the
    /// first steps' mean against the last steps', the same latent noise order in both runs).
    #[test]
    fn the_posterior_mixture_fit_lowers_its_divergence() {
        let (model, batch) = tiny_case(true);
        let config = PriorFitConfig::new()
            .with_samples(8)
            .with_objective(PriorObjective::PosteriorMixture);
        let mut fitter = PriorFitter::new(model, config);
        let values: Vec<f32> = (0..40)
            .map(|_| fitter.step(&batch, 1e-2).objective)
            .collect();
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        let (first, last) = (mean(&values[..5]), mean(&values[35..]));
        assert!(last < 0.5 * first, "divergence {first} → {last}");
    }

    #[test]
    #[should_panic(expected = "does not decode")]
    fn fcomb_cannot_train_on_the_posterior_mixture() {
        let model = ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 1, &Device::flex());
        let config = PriorFitConfig::new()
            .with_train_fcomb(true)
            .with_objective(PriorObjective::PosteriorMixture);
        PriorFitter::new(model, config);
    }

    #[test]
    #[should_panic(expected = "at least 3 samples")]
    fn the_score_function_refuses_two_samples() {
        let model = ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 1, &Device::flex());
        let config = PriorFitConfig::new()
            .with_samples(2)
            .with_gradient(PriorGradient::ScoreFunction);
        PriorFitter::new(model, config);
    }
}

//! The hierarchical probabilistic U-Net and the paths through it.
//!
//! * Sampling: [`HierarchicalProbUNet::encode`] runs the prior's encoder once per image;
//!   every sample then reruns the decoder from the first latent down
//!   ([`HierarchicalProbUNet::sample_n`]), each scale drawn from the prior given the coarser
//!   latents, or held at its mean ([`ScaleMode`]).
//! * Training: [`HierarchicalProbUNet::forward_train`] draws the posterior's latents and feeds
//!   them down the *prior's* decoder (teacher forcing), so each scale's KL compares posterior
//!   and prior given the same coarser latents.
//! * [`HierarchicalProbUNet::reconstruct`] decodes the posterior means: how well the latents
//!   can reproduce a given annotation.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::config::HpuNetConfig;
use super::encoder::ResEncoder;
use super::latent_decoder::{Latent, LatentDecoder, LatentPass, ScaleGaussian};
use super::stitching::StitchingDecoder;
use crate::init::SeededRng;
use crate::model::{both, one_hot};
use crate::unet::Init;

/// The five parts of the model; the prior is the U-Net itself (encoder + latent decoder).
#[derive(Module, Debug)]
pub struct HierarchicalProbUNet {
    pub prior_encoder: ResEncoder,
    pub prior_decoder: LatentDecoder,
    /// Sees the image concatenated with the one-hot mask.
    pub posterior_encoder: ResEncoder,
    pub posterior_decoder: LatentDecoder,
    pub stitching: StitchingDecoder,
    #[module(skip)]
    config: HpuNetConfig,
}

/// What [`HierarchicalProbUNet::encode`] computes once per image: the prior encoder's
/// features, full resolution first.
#[derive(Debug, Clone)]
pub struct HpuEncoded {
    pub features: Vec<Tensor<4>>,
}

impl HpuEncoded {
    /// Number of images encoded.
    pub fn batch_size(&self) -> usize {
        self.features[0].dims()[0]
    }

    /// Each image's features repeated `n` times in place (image-major).
    pub(super) fn repeat_each(&self, n: usize) -> Self {
        let features = self
            .features
            .iter()
            .map(|t| {
                let [b, c, h, w] = t.dims();
                t.clone()
                    .unsqueeze_dim::<5>(1)
                    .expand([b, n, c, h, w])
                    .reshape([b * n, c, h, w])
            })
            .collect();
        Self { features }
    }
}

/// How a scale's latent is chosen when sampling: drawn from the prior, or its mean. Varying
/// one scale with the others at their means shows what that scale carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleMode {
    Sample,
    Mean,
}

/// Everything the loss needs from one training pass.
#[derive(Debug, Clone)]
pub struct HpuTrainOutput {
    /// The prior decoder's logits given the posterior's latents, `[B, classes, H, W]`.
    pub logits: Tensor<4>,
    /// KL(q ‖ p) of each scale, summed over its pixels, mean over the batch; coarsest first.
    pub kl: Vec<Tensor<1>>,
}

impl HierarchicalProbUNet {
    /// A freshly initialised model, weights drawn from `seed` on the host (identical on every
    /// backend).
    ///
    /// # Panics
    /// If `config` fails [`HpuNetConfig::check`].
    pub fn new_seeded(config: &HpuNetConfig, seed: u64, device: &Device) -> Self {
        let mut rng = SeededRng::new(seed);
        Self::build(config, Init::HeNormal(&mut rng), device)
    }

    /// All parameters zero, to be overwritten by loaded weights.
    pub(crate) fn new_zeroed(config: &HpuNetConfig, device: &Device) -> Self {
        Self::build(config, Init::Zeros, device)
    }

    fn build(config: &HpuNetConfig, mut init: Init, device: &Device) -> Self {
        if let Err(e) = config.check() {
            panic!("{e}");
        }
        let c = config;
        Self {
            prior_encoder: ResEncoder::new(&mut init, c, c.in_channels, device),
            prior_decoder: LatentDecoder::new(&mut init, c, true, device),
            posterior_encoder: ResEncoder::new(&mut init, c, c.in_channels + c.num_classes, device),
            posterior_decoder: LatentDecoder::new(&mut init, c, false, device),
            stitching: StitchingDecoder::new(&mut init, c, device),
            config: config.clone(),
        }
    }

    /// The architecture this model was built with.
    pub fn config(&self) -> &HpuNetConfig {
        &self.config
    }

    /// The same weights under another input contract.
    pub fn with_input(mut self, input: Option<imaging::InputContract>) -> Self {
        self.config.input = input;
        self
    }

    /// The device the parameters live on.
    pub fn device(&self) -> Device {
        self.stitching.logits.weight.device()
    }

    /// The prior encoder's features for images `[B, 1, H, W]` (H, W divisible by
    /// [`HpuNetConfig::size_divisor`]).
    pub fn encode(&self, x: Tensor<4>) -> HpuEncoded {
        HpuEncoded {
            features: self.prior_encoder.forward(x),
        }
    }

    /// The prior's decoder with latents chosen by `latent(scale, prior)`, then the stitching
    /// decoder: logits and the pass (priors and latents used).
    pub fn decode(
        &self,
        encoded: &HpuEncoded,
        latent: impl FnMut(usize, &ScaleGaussian) -> Latent,
    ) -> (Tensor<4>, LatentPass) {
        let pass = self.prior_decoder.forward(&encoded.features, latent);
        let logits = self
            .stitching
            .forward(pass.features.clone(), &encoded.features);
        (logits, pass)
    }

    /// Logits with every scale at its prior mean: the model's most typical segmentation.
    pub fn mean(&self, encoded: &HpuEncoded) -> Tensor<4> {
        self.decode(encoded, |_, _| Latent::Mean).0
    }

    /// `n` samples per image, scale `l` drawn or held at its mean as `modes[l]` says (missing
    /// entries: drawn). Noise comes from `rng` on the host (reproducible on every backend).
    /// Image-major: rows `i·n .. (i+1)·n` belong to image `i`.
    pub fn sample_n(
        &self,
        encoded: &HpuEncoded,
        n: usize,
        modes: &[ScaleMode],
        rng: &mut SeededRng,
    ) -> Tensor<4> {
        let repeated = encoded.repeat_each(n);
        let device = self.device();
        self.decode(&repeated, |l, prior| {
            match modes.get(l).copied().unwrap_or(ScaleMode::Sample) {
                ScaleMode::Mean => Latent::Mean,
                ScaleMode::Sample => Latent::Noise(normal_like(prior.dims(), rng, &device)),
            }
        })
        .0
    }

    /// The posterior's pass for images `[B, 1, H, W]` and label maps `[B, H, W]`.
    pub fn posterior(
        &self,
        x: Tensor<4>,
        y: Tensor<3, Int>,
        latent: impl FnMut(usize, &ScaleGaussian) -> Latent,
    ) -> LatentPass {
        let features = self.posterior_features(x, y);
        self.posterior_decoder.forward(&features, latent)
    }

    /// The posterior encoder's features for images `[B, 1, H, W]` and label maps `[B, H, W]`.
    pub(super) fn posterior_features(&self, x: Tensor<4>, y: Tensor<3, Int>) -> Vec<Tensor<4>> {
        let input = Tensor::cat(vec![x, one_hot(y, self.config.num_classes)], 1);
        self.posterior_encoder.forward(input)
    }

    /// The posterior's pass down its own decoder from features already computed.
    pub(super) fn posterior_from(
        &self,
        features: &[Tensor<4>],
        latent: impl FnMut(usize, &ScaleGaussian) -> Latent,
    ) -> LatentPass {
        self.posterior_decoder.forward(features, latent)
    }

    /// [`Self::reconstruct`] of `K` annotations `y` (`[K, H, W]`) of one image, whose prior
    /// encoder features `encoded` are already computed (so the image is encoded once, not K
    /// times). `x` is the image, `[1, 1, H, W]`.
    pub fn reconstruct_from(
        &self,
        encoded: &HpuEncoded,
        x: Tensor<4>,
        y: Tensor<3, Int>,
    ) -> Tensor<4> {
        let k = y.dims()[0];
        let q = self.posterior(x.repeat_dim(0, k), y, |_, _| Latent::Mean);
        self.decode(&encoded.repeat_each(k), |l, _| {
            Latent::Given(q.latents[l].clone())
        })
        .0
    }

    /// Logits decoded from the posterior means through the prior's decoder: the model's
    /// reconstruction of annotation `y`.
    pub fn reconstruct(&self, x: Tensor<4>, y: Tensor<3, Int>) -> Tensor<4> {
        let (q, encoded) = both(
            || self.posterior(x.clone(), y, |_, _| Latent::Mean),
            || self.encode(x.clone()),
        );
        self.decode(&encoded, |l, _| Latent::Given(q.latents[l].clone()))
            .0
    }

    /// The training pass: posterior latents z_l = μ_q + σ_q ⊙ ε_l (`eps` per scale, coarsest
    /// first, shapes from [`Self::latent_shapes`]) fed down the prior's decoder.
    pub fn forward_train(
        &self,
        x: Tensor<4>,
        y: Tensor<3, Int>,
        eps: Vec<Tensor<4>>,
    ) -> HpuTrainOutput {
        let mut eps = eps.into_iter();
        let (q, encoded) = both(
            || {
                self.posterior(x.clone(), y, |_, _| {
                    Latent::Noise(eps.next().expect("one noise tensor per latent scale"))
                })
            },
            || self.encode(x.clone()),
        );
        let (logits, p) = self.decode(&encoded, |l, _| Latent::Given(q.latents[l].clone()));
        let kl = q
            .distributions
            .iter()
            .zip(&p.distributions)
            .map(|(q, p)| q.kl_to(p).mean())
            .collect();
        HpuTrainOutput { logits, kl }
    }

    /// `[B, c, h, w]` of every scale's latent for `batch` images of `side × side`, coarsest
    /// first.
    pub fn latent_shapes(&self, batch: usize, side: usize) -> Vec<[usize; 4]> {
        let coarsest = side / self.config.size_divisor();
        self.config
            .latent_dims
            .iter()
            .enumerate()
            .map(|(l, &c)| [batch, c, coarsest << l, coarsest << l])
            .collect()
    }
}

/// Standard-normal noise of `shape` drawn on the host.
pub fn normal_like(shape: [usize; 4], rng: &mut SeededRng, device: &Device) -> Tensor<4> {
    let count = shape.iter().product();
    Tensor::from_data(TensorData::new(rng.normals(count, 1.0), shape), device)
}

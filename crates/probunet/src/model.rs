//! The probabilistic U-Net: a U-Net, a prior net, a posterior net and fcomb, and the paths
//! through them.
//!
//! * Sampling (inference): [`ProbUNet::encode`] runs the U-Net and the prior once per image;
//!   [`ProbUNet::sample`], [`ProbUNet::sample_n`] and [`ProbUNet::mean`] then only run fcomb,
//!   which is what makes 16 samples cost little more than one.
//! * Training: [`ProbUNet::forward_train`] adds the posterior q(z|x,y) and draws z from it.
//! * [`ProbUNet::reconstruct`] decodes the posterior mean: the model's best guess of a *given*
//!   annotation, useful to check what the latent space has learnt.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::config::ProbUNetConfig;
use crate::fcomb::Fcomb;
use crate::gaussian_encoder::{DiagonalGaussian, GaussianEncoder};
use crate::init::SeededRng;
use crate::unet::{Init, UNet};

/// Latents per fcomb call in [`ProbUNet::sample_n`]. One: burn-flex runs batch-1 1×1
/// convolutions far better than batched ones, so 16 calls of one latent beat one call of 16
/// on the CPU (`make bench-native` measures both: BENCHMARKS.md); on a GPU the extra launches
/// are cheap.
pub const SAMPLE_CHUNK: usize = 1;

/// The four parts of the model. Parameter names mirror the PyTorch reference's module tree.
#[derive(Module, Debug)]
pub struct ProbUNet {
    pub unet: UNet,
    /// p(z|x): sees the image only.
    pub prior: GaussianEncoder,
    /// q(z|x,y): sees the image concatenated with the one-hot mask.
    pub posterior: GaussianEncoder,
    pub fcomb: Fcomb,
    #[module(skip)]
    config: ProbUNetConfig,
}

/// What [`ProbUNet::encode`] computes once per image and every sample reuses.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// The U-Net's last decoder map, `[B, filters[0], H, W]`.
    pub features: Tensor<4>,
    /// p(z|x), `[B, M]` each.
    pub prior: DiagonalGaussian,
    /// fcomb's first layer applied to the features alone (see [`crate::fcomb`]), `[B, P, H, W]`.
    pub projection: Tensor<4>,
}

impl Encoded {
    /// Number of images encoded.
    pub fn batch_size(&self) -> usize {
        self.features.dims()[0]
    }
}

/// Latents and the logits they decode to.
#[derive(Debug, Clone)]
pub struct Samples {
    /// `[N, M]`.
    pub z: Tensor<2>,
    /// `[N, classes, H, W]`.
    pub logits: Tensor<4>,
}

/// Everything the loss needs from one training forward pass.
#[derive(Debug, Clone)]
pub struct TrainOutput {
    /// fcomb(features, z ~ q(z|x,y)), `[B, classes, H, W]`.
    pub logits: Tensor<4>,
    pub prior: DiagonalGaussian,
    pub posterior: DiagonalGaussian,
}

impl ProbUNet {
    /// A freshly initialised model: He-normal weights drawn from `seed` on the host, so the same
    /// seed gives bit-identical weights on every backend and platform.
    ///
    /// # Panics
    /// If `config` fails [`ProbUNetConfig::check`].
    pub fn new_seeded(config: &ProbUNetConfig, seed: u64, device: &Device) -> Self {
        let mut rng = SeededRng::new(seed);
        Self::build(config, Init::HeNormal(&mut rng), device)
    }

    /// A model with all parameters zero, to be overwritten by loaded weights.
    pub(crate) fn new_zeroed(config: &ProbUNetConfig, device: &Device) -> Self {
        Self::build(config, Init::Zeros, device)
    }

    fn build(config: &ProbUNetConfig, mut init: Init, device: &Device) -> Self {
        if let Err(e) = config.check() {
            panic!("{e}");
        }
        let c = config;
        let f = &c.filters;
        let k = c.convs_per_level;
        Self {
            unet: UNet::new(&mut init, c.in_channels, f, k, device),
            prior: GaussianEncoder::new(&mut init, c.in_channels, f, k, c.latent_dim, device),
            posterior: GaussianEncoder::new(
                &mut init,
                c.in_channels + c.num_classes,
                f,
                k,
                c.latent_dim,
                device,
            ),
            fcomb: Fcomb::new(
                &mut init,
                c.feature_channels(),
                c.latent_dim,
                c.fcomb_channels,
                c.fcomb_layers,
                c.num_classes,
                device,
            ),
            config: config.clone(),
        }
    }

    /// The architecture this model was built with.
    pub fn config(&self) -> &ProbUNetConfig {
        &self.config
    }

    /// The same weights under another input contract (e.g. the β of a new training stage).
    pub fn with_input(mut self, input: Option<imaging::InputContract>) -> Self {
        self.config.input = input;
        self
    }

    /// The device the parameters live on.
    pub fn device(&self) -> Device {
        self.fcomb.layers[0].weight.device()
    }

    /// U-Net features, prior and fcomb projection for images `[B, in_channels, H, W]`
    /// (H and W divisible by [`ProbUNetConfig::size_divisor`]).
    pub fn encode(&self, x: Tensor<4>) -> Encoded {
        let (features, prior) = both(
            || self.unet.forward(x.clone()),
            || self.prior.forward(x.clone()),
        );
        let projection = self.fcomb.project(features.clone());
        Encoded {
            features,
            prior,
            projection,
        }
    }

    /// [`Self::encode`]'s image-only part of fcomb, `[B, P, H, W]`: the U-Net and fcomb's
    /// projection without the prior, so the two can run in different places (the page runs them
    /// on two workers) and give exactly what `encode` gives.
    pub fn project(&self, x: Tensor<4>) -> Tensor<4> {
        self.fcomb.project(self.unet.forward(x))
    }

    /// [`Self::encode`]'s prior p(z|x) alone.
    pub fn prior_of(&self, x: Tensor<4>) -> DiagonalGaussian {
        self.prior.forward(x)
    }

    /// Logits for given latents `z` `[N, M]` (fast path). With one encoded image all N latents
    /// share it; with B images, N must equal B (one latent per image).
    pub fn sample(&self, encoded: &Encoded, z: Tensor<2>) -> Tensor<4> {
        self.fcomb.forward_projected(encoded.projection.clone(), z)
    }

    /// The same as [`Self::sample`] through the paper's literal tile-and-concatenate path.
    pub fn sample_plain(&self, encoded: &Encoded, z: Tensor<2>) -> Tensor<4> {
        self.fcomb.forward_concat(encoded.features.clone(), z)
    }

    /// `n` latents per image drawn from the prior with `rng` (host-side, so reproducible on
    /// every backend), pushed through fcomb [`SAMPLE_CHUNK`] at a time. Results are
    /// image-major: rows `i·n .. (i+1)·n` belong to image `i`.
    pub fn sample_n(&self, encoded: &Encoded, n: usize, rng: &mut SeededRng) -> Samples {
        let z = self.draw_prior(encoded, n, rng);
        let b = encoded.batch_size();
        let projection = repeat_each(encoded.projection.clone(), b, n);
        let rows = b * n;
        let logits = (0..rows)
            .step_by(SAMPLE_CHUNK)
            .map(|start| {
                let len = SAMPLE_CHUNK.min(rows - start);
                // One image's projection broadcasts over its latents; several are repeated.
                let projection = if b == 1 {
                    projection.clone()
                } else {
                    projection.clone().narrow(0, start, len)
                };
                self.fcomb
                    .forward_projected(projection, z.clone().narrow(0, start, len))
            })
            .collect();
        Samples {
            z,
            logits: Tensor::cat(logits, 0),
        }
    }

    /// `n` draws z = μ + σ ⊙ ε from each image's prior, `[B·n, M]`, image-major.
    pub fn draw_prior(&self, encoded: &Encoded, n: usize, rng: &mut SeededRng) -> Tensor<2> {
        let [b, m] = encoded.prior.mu.dims();
        let device = encoded.prior.mu.device();
        let eps = Tensor::from_data(
            TensorData::new(rng.normals(b * n * m, 1.0), [b * n, m]),
            &device,
        );
        let rep = |t: Tensor<2>| {
            t.unsqueeze_dim::<3>(1)
                .expand([b, n, m])
                .reshape([b * n, m])
        };
        rep(encoded.prior.mu.clone()) + rep(encoded.prior.sigma()) * eps
    }

    /// Logits at the prior mean z = μ (the model's single most typical segmentation).
    pub fn mean(&self, encoded: &Encoded) -> Tensor<4> {
        self.sample(encoded, encoded.prior.mu.clone())
    }

    /// q(z|x,y) for images `[B, in_channels, H, W]` and label maps `[B, H, W]`.
    pub fn posterior(&self, x: Tensor<4>, y: Tensor<3, Int>) -> DiagonalGaussian {
        self.posterior.forward(self.posterior_input(x, y))
    }

    /// The posterior net's input: the image concatenated with the one-hot mask.
    pub fn posterior_input(&self, x: Tensor<4>, y: Tensor<3, Int>) -> Tensor<4> {
        Tensor::cat(vec![x, one_hot(y, self.config.num_classes)], 1)
    }

    /// Logits at the posterior mean: how well the latent space can reproduce annotation `y`.
    pub fn reconstruct(&self, x: Tensor<4>, y: Tensor<3, Int>) -> Tensor<4> {
        let posterior = self.posterior(x.clone(), y);
        let features = self.unet.forward(x);
        self.fcomb
            .forward_projected(self.fcomb.project(features), posterior.mu)
    }

    /// The training forward pass: z = μ_q + σ_q ⊙ ε (reparameterised, `eps` `[B, M]`).
    pub fn forward_train(&self, x: Tensor<4>, y: Tensor<3, Int>, eps: Tensor<2>) -> TrainOutput {
        let posterior = self.posterior(x.clone(), y);
        let prior = self.prior.forward(x.clone());
        let features = self.unet.forward(x);
        let z = posterior.sample_with(eps);
        let logits = self
            .fcomb
            .forward_projected(self.fcomb.project(features), z);
        TrainOutput {
            logits,
            prior,
            posterior,
        }
    }
}

/// `[B, H, W]` class indices → `[B, classes, H, W]` one-hot floats.
pub fn one_hot(y: Tensor<3, Int>, classes: usize) -> Tensor<4> {
    let planes = (0..classes)
        .map(|c| y.clone().equal_elem(c as i64).float())
        .collect();
    Tensor::stack(planes, 1)
}

/// Hard masks from logits `[N, classes, H, W]`: the arg-max class per pixel, `[N, H, W]`.
pub fn argmax_masks(logits: Tensor<4>) -> Tensor<3, Int> {
    logits.argmax(1).squeeze_dim(1)
}

/// `[b, ...]` → `[b·n, ...]`, each image repeated n times in place (image-major). A single image
/// stays `[1, ...]`: fcomb broadcasts it.
fn repeat_each(x: Tensor<4>, b: usize, n: usize) -> Tensor<4> {
    if b == 1 {
        return x;
    }
    let [_, c, h, w] = x.dims();
    x.unsqueeze_dim::<5>(1)
        .expand([b, n, c, h, w])
        .reshape([b * n, c, h, w])
}

/// Runs two independent computations: side by side natively (the U-Net and the prior net share
/// no work, and burn-flex leaves a core idle on the small deep levels), one after the other in
/// wasm (single-threaded).
pub(crate) fn both<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        rayon::join(a, b)
    }
    #[cfg(target_arch = "wasm32")]
    {
        (a(), b())
    }
}

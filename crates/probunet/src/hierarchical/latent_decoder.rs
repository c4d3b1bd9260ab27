//! The decoder's latent scales: at each of the coarsest scales a 1×1 conv predicts a diagonal
//! Gaussian per pixel; a latent drawn from it (or its mean, or a latent given from outside) is
//! concatenated to the features, upsampled, joined with the encoder's skip and decoded by the
//! next level's residual blocks. The prior and the posterior each own one.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor};

use super::config::HpuNetConfig;
use super::res_block::{Level, conv, up};
use crate::gaussian_encoder::{DiagonalGaussian, LOG_SIGMA_BOUNDS};
use crate::unet::Init;

/// One scale's latent distribution, a diagonal Gaussian per pixel: `[B, c, h, w]` each.
#[derive(Debug, Clone)]
pub struct ScaleGaussian {
    pub mu: Tensor<4>,
    /// log σ, clamped to [`LOG_SIGMA_BOUNDS`] (the same guard as the first model's).
    pub log_sigma: Tensor<4>,
}

impl ScaleGaussian {
    fn new(mu: Tensor<4>, raw_log_sigma: Tensor<4>) -> Self {
        let (lo, hi) = LOG_SIGMA_BOUNDS;
        Self {
            mu,
            log_sigma: raw_log_sigma.clamp(lo, hi),
        }
    }

    /// z = μ + σ ⊙ ε for `eps` of the same shape.
    pub fn sample_with(&self, eps: Tensor<4>) -> Tensor<4> {
        self.mu.clone() + self.log_sigma.clone().exp() * eps
    }

    /// The same distribution with every pixel and channel as one dimension, `[B, c·h·w]`.
    pub fn flat(&self) -> DiagonalGaussian {
        let [b, c, h, w] = self.mu.dims();
        let flat = |t: &Tensor<4>| t.clone().reshape([b, c * h * w]);
        DiagonalGaussian {
            mu: flat(&self.mu),
            log_sigma: flat(&self.log_sigma),
        }
    }

    /// KL(self ‖ other) summed over pixels and channels, `[B]`.
    pub fn kl_to(&self, other: &ScaleGaussian) -> Tensor<1> {
        self.flat().kl_to(&other.flat())
    }

    /// `[B, c, h, w]` of the latent this distribution is over.
    pub fn dims(&self) -> [usize; 4] {
        self.mu.dims()
    }
}

/// Which latent a scale decodes with.
#[derive(Debug, Clone)]
pub enum Latent {
    /// The distribution's mean.
    Mean,
    /// μ + σ ⊙ ε with this standard-normal noise.
    Noise(Tensor<4>),
    /// This latent, whatever the distribution (teacher forcing with the posterior's latents).
    Given(Tensor<4>),
}

impl Latent {
    fn pick(self, dist: &ScaleGaussian) -> Tensor<4> {
        match self {
            Latent::Mean => dist.mu.clone(),
            Latent::Noise(eps) => dist.sample_with(eps),
            Latent::Given(z) => z,
        }
    }
}

/// A latent head and, unless this is the posterior's last scale, the level it decodes into.
#[derive(Module, Debug)]
pub struct LatentScale {
    /// 1×1 conv to 2·c channels: μ, then log σ.
    pub head: Conv2d,
    pub level: Option<Level>,
}

#[derive(Module, Debug)]
pub struct LatentDecoder {
    /// Coarsest first.
    pub scales: Vec<LatentScale>,
}

/// What a pass through the latent scales produced.
#[derive(Debug, Clone)]
pub struct LatentPass {
    /// The decoder features after the last latent scale's level (the stitching decoder's
    /// input); for the posterior, which decodes no further, its last scale's input features.
    pub features: Tensor<4>,
    /// Each scale's distribution, coarsest first.
    pub distributions: Vec<ScaleGaussian>,
    /// Each scale's latent as used, coarsest first.
    pub latents: Vec<Tensor<4>>,
}

impl LatentDecoder {
    /// `with_last_level: false` leaves out the level after the last latent (the posterior
    /// decodes no further than its last latent).
    pub(crate) fn new(
        init: &mut Init,
        c: &HpuNetConfig,
        with_last_level: bool,
        device: &Device,
    ) -> Self {
        let top = c.levels() - 1;
        let scales = c
            .latent_dims
            .iter()
            .enumerate()
            .map(|(l, &m)| {
                let level = top - l;
                let head = conv(init, c.channels[level], 2 * m, 1, device);
                let decodes = with_last_level || l + 1 < c.latent_levels();
                let level = decodes.then(|| {
                    let c_in = m + c.channels[level] + c.channels[level - 1];
                    let widths = [c_in, c.channels[level - 1], c.down_channels[level - 1]];
                    Level::new(init, widths, c.blocks_per_level, c.convs_per_block, device)
                });
                LatentScale { head, level }
            })
            .collect();
        Self { scales }
    }

    /// Runs the scales on the encoder's features (full resolution first); `latent(l, dist)`
    /// says which latent scale `l` uses once its distribution is known.
    pub fn forward(
        &self,
        encoder: &[Tensor<4>],
        mut latent: impl FnMut(usize, &ScaleGaussian) -> Latent,
    ) -> LatentPass {
        let top = encoder.len() - 1;
        let mut x = encoder[top].clone();
        let mut distributions = Vec::with_capacity(self.scales.len());
        let mut latents = Vec::with_capacity(self.scales.len());
        for (l, scale) in self.scales.iter().enumerate() {
            let out = scale.head.forward(x.clone());
            let m = out.dims()[1] / 2;
            let dist = ScaleGaussian::new(out.clone().narrow(1, 0, m), out.narrow(1, m, m));
            let z = latent(l, &dist).pick(&dist);
            if let Some(level) = &scale.level {
                let joined = up(Tensor::cat(vec![z.clone(), x], 1));
                x = level.forward(Tensor::cat(vec![joined, encoder[top - l - 1].clone()], 1));
            }
            distributions.push(dist);
            latents.push(z);
        }
        LatentPass {
            features: x,
            distributions,
            latents,
        }
    }
}

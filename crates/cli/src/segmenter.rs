//! Either of the two models behind one interface, for the subcommands that only sample and
//! reconstruct (`eval`, `export`): which one a weights file holds is read from its metadata.

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use burn::tensor::Tensor;
use imaging::InputContract;
use metrics::Mask;
use probunet::hierarchical::{HierarchicalProbUNet, HpuEncoded};
use probunet::weights::{ModelKind, load_stored, stored_kind};
use probunet::{Precision, ProbUNet, SeededRng, save_weights};

use crate::model_io::{
    RunMeta, at_side, images_tensor, masks_from_logits, masks_from_margins, masks_tensor,
    read_meta, resolve_side,
};

/// A loaded model of either kind (one per process, so the size difference costs nothing).
#[allow(clippy::large_enum_variant)]
pub enum Segmenter {
    Probabilistic(ProbUNet),
    Hierarchical(HierarchicalProbUNet),
}

impl Segmenter {
    /// Loads `weights` (either kind) on the CLI's device, with its sidecar.
    pub fn load(weights: &Path) -> Result<(Self, Option<RunMeta>)> {
        let bytes =
            std::fs::read(weights).with_context(|| format!("reading {}", weights.display()))?;
        let device = crate::device::device();
        let loading = || format!("loading weights {}", weights.display());
        let model = match stored_kind(&bytes).with_context(loading)? {
            ModelKind::Probabilistic => {
                Self::Probabilistic(load_stored(&bytes, &device).with_context(loading)?)
            }
            ModelKind::Hierarchical => {
                Self::Hierarchical(load_stored(&bytes, &device).with_context(loading)?)
            }
        };
        Ok((model, read_meta(weights)?))
    }

    /// The model's name in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Probabilistic(_) => "probabilistic U-Net",
            Self::Hierarchical(_) => "hierarchical probabilistic U-Net",
        }
    }

    pub fn num_params(&self) -> usize {
        match self {
            Self::Probabilistic(m) => m.config().num_params(),
            Self::Hierarchical(m) => m.config().num_params(),
        }
    }

    /// The config as JSON (for `eval --json`).
    pub fn config_json(&self) -> serde_json::Value {
        match self {
            Self::Probabilistic(m) => serde_json::to_value(m.config()),
            Self::Hierarchical(m) => serde_json::to_value(m.config()),
        }
        .unwrap_or_default()
    }

    /// The model-input contract at side `size`.
    pub fn contract_at(&self, size: usize) -> InputContract {
        at_side(
            match self {
                Self::Probabilistic(m) => m.config().contract(),
                Self::Hierarchical(m) => m.config().contract(),
            },
            size,
        )
    }

    /// The input side: `flag`, else the contract's, else the sidecar's; checked divisible.
    pub fn size(&self, flag: Option<usize>, meta: Option<&RunMeta>) -> Result<usize> {
        let (stored, divisor) = match self {
            Self::Probabilistic(m) => (m.config().input.as_ref(), m.config().size_divisor()),
            Self::Hierarchical(m) => (m.config().input.as_ref(), m.config().size_divisor()),
        };
        let size = resolve_side(flag, stored, meta);
        ensure!(
            size.is_multiple_of(divisor),
            "--size {size} is not divisible by {divisor}"
        );
        Ok(size)
    }

    /// The weights in f16 with the input contract written out explicitly (even where the file
    /// predates contracts: the synthetic one it implied).
    pub fn half_precision_bytes(&self) -> Result<Vec<u8>, probunet::WeightsError> {
        match self {
            Self::Probabilistic(m) => {
                let m = m.clone().with_input(Some(m.config().contract()));
                save_weights(&m, Precision::Half)
            }
            Self::Hierarchical(m) => {
                let m = m.clone().with_input(Some(m.config().contract()));
                save_weights(&m, Precision::Half)
            }
        }
    }

    /// One image, encoded once for everything drawn from it below.
    pub fn encode(&self, image: &[f32], size: usize) -> EncodedImage {
        let (x, encoded) = match self {
            Self::Probabilistic(m) => {
                let x = images_tensor(&[image], size, &m.device());
                (x.clone(), Encoded::Probabilistic(m.encode(x)))
            }
            Self::Hierarchical(m) => {
                let x = images_tensor(&[image], size, &m.device());
                (x.clone(), Encoded::Hierarchical(m.encode(x)))
            }
        };
        EncodedImage { x, encoded }
    }

    /// `n` prior samples of an encoded image.
    pub fn samples(
        &self,
        image: &EncodedImage,
        n: usize,
        rng: &mut SeededRng,
    ) -> Result<Vec<Mask>> {
        let logits = match (self, &image.encoded) {
            (Self::Probabilistic(m), Encoded::Probabilistic(e)) => {
                return image.decode(m, e, m.draw_prior(e, n, rng));
            }
            (Self::Hierarchical(m), Encoded::Hierarchical(e)) => m.sample_n(e, n, &[], rng),
            _ => bail!("an image encoded by the other model"),
        };
        masks_from_logits(logits)
    }

    /// The mask at the prior mean (every scale's, for the hierarchical model).
    pub fn mean_mask(&self, image: &EncodedImage) -> Result<Mask> {
        let logits = match (self, &image.encoded) {
            (Self::Probabilistic(m), Encoded::Probabilistic(e)) => m.mean(e),
            (Self::Hierarchical(m), Encoded::Hierarchical(e)) => m.mean(e),
            _ => bail!("an image encoded by the other model"),
        };
        masks_from_logits(logits)?.pop().context("the mean mask")
    }

    /// `n` masks of an image decoded from latents of the mixture of its posteriors given each
    /// of `masks`, with exact shares `weights` (the synthetic eval's decoder ceiling).
    pub fn posterior_mixture(
        &self,
        image: &EncodedImage,
        masks: &[Mask],
        weights: &[f64],
        n: usize,
        rng: &mut SeededRng,
    ) -> Result<Vec<Mask>> {
        let x = image.x.clone();
        let y = masks_tensor(masks, &x.device());
        let logits = match (self, &image.encoded) {
            (Self::Probabilistic(m), Encoded::Probabilistic(e)) => {
                let posteriors = m.posterior(x.repeat_dim(0, masks.len()), y);
                return image.decode(m, e, posteriors.draw_mixture(weights, n, rng));
            }
            (Self::Hierarchical(m), Encoded::Hierarchical(e)) => {
                m.posterior_mixture(e, x, y, weights, n, rng)
            }
            _ => bail!("an image encoded by the other model"),
        };
        masks_from_logits(logits)
    }

    /// The posterior-mean reconstruction of each of `masks` (annotations of one image).
    pub fn reconstruct(&self, image: &EncodedImage, masks: &[Mask]) -> Result<Vec<Mask>> {
        let x = image.x.clone();
        let y = masks_tensor(masks, &x.device());
        let logits = match (self, &image.encoded) {
            (Self::Probabilistic(m), Encoded::Probabilistic(e)) => {
                let z = m.posterior(x.repeat_dim(0, masks.len()), y).mu;
                return image.decode(m, e, z);
            }
            (Self::Hierarchical(m), Encoded::Hierarchical(e)) => m.reconstruct_from(e, x, y),
            _ => bail!("an image encoded by the other model"),
        };
        masks_from_logits(logits)
    }
}

impl EncodedImage {
    /// The probabilistic model's masks for latents `z` `[N, M]` on this image (its fused head).
    fn decode(
        &self,
        model: &ProbUNet,
        encoded: &probunet::Encoded,
        z: Tensor<2>,
    ) -> Result<Vec<Mask>> {
        let [.., h, w] = self.x.dims();
        masks_from_margins(model.fcomb.margins(encoded.projection.clone(), z), w, h)
    }
}

/// An image (`[1, 1, H, W]`) and what the model's encoder made of it.
pub struct EncodedImage {
    x: Tensor<4>,
    encoded: Encoded,
}

/// One per image at a time, so the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
enum Encoded {
    Probabilistic(probunet::Encoded),
    Hierarchical(HpuEncoded),
}

//! The model on the chosen device, and the one image it has encoded.
//!
//! [`Engine::encode`] runs the U-Net and the prior once per crop; [`Engine::decode`] then
//! turns any batch of latents into masks with fcomb only. That split is the paper's: it is what
//! makes 64 samples, resampling and the latent map cheap after the first pass.

use std::cell::OnceCell;

use imaging::Prepared;
use probunet::metrics::Mask;
use probunet::{Encoded, HostPrior, ProbUNet, ProbUNetConfig, decode_masks, latent_weight_norms};

use burn::tensor::{Tensor, TensorData};

use crate::backend::ActiveBackend;

/// The loaded model and the backend it runs on.
pub struct Engine {
    model: ProbUNet,
    pub backend: ActiveBackend,
    /// fcomb's weight norm per latent dimension, read on the first encode (a read is async on
    /// WebGPU, so not in `load`) and kept: the weights do not change under an engine.
    latent_norms: OnceCell<Vec<f32>>,
}

/// One encoded crop: the U-Net features on the device and the prior on the host.
pub struct Encoding {
    encoded: Encoded,
    pub prior: HostPrior,
    /// The latent map's default axes for this crop ([`HostPrior::most_telling_dims`]).
    pub telling_dims: (usize, usize),
}

impl Engine {
    /// Builds the model from shipped or fine-tuned weights (burnpack bytes with their config).
    pub fn load(bytes: &[u8], backend: ActiveBackend) -> Result<Self, String> {
        let model = probunet::load_weights(bytes, &backend.device)
            .map_err(|error| format!("the model's weights could not be loaded: {error}"))?;
        Ok(Self {
            model,
            backend,
            latent_norms: OnceCell::new(),
        })
    }

    pub fn config(&self) -> &ProbUNetConfig {
        self.model.config()
    }

    /// Side of a crop the model accepts: a multiple of its pooling factor.
    pub fn size_divisor(&self) -> usize {
        self.model.config().size_divisor()
    }

    /// Runs the U-Net and the prior on a prepared crop.
    pub async fn encode(&self, crop: &Prepared) -> Result<Encoding, String> {
        let (w, h) = (crop.width as usize, crop.height as usize);
        self.encode_pixels(crop.data.clone(), w, h).await
    }

    /// Runs the U-Net and the prior on `w`×`h` model intensities (row-major, in [0, 1]).
    pub async fn encode_pixels(
        &self,
        pixels: Vec<f32>,
        w: usize,
        h: usize,
    ) -> Result<Encoding, String> {
        let divisor = self.size_divisor();
        if !w.is_multiple_of(divisor) || !h.is_multiple_of(divisor) {
            return Err(format!(
                "the crop is {w}×{h} pixels; the model needs multiples of {divisor}"
            ));
        }
        let x = Tensor::<4>::from_data(TensorData::new(pixels, [1, 1, h, w]), &self.backend.device);
        let encoded = self.model.encode(x);
        let prior = HostPrior::read(&encoded, 0)
            .await
            .map_err(|error| error.to_string())?;
        Ok(Encoding {
            telling_dims: prior.most_telling_dims(self.latent_norms().await?),
            encoded,
            prior,
        })
    }

    async fn latent_norms(&self) -> Result<&[f32], String> {
        if self.latent_norms.get().is_none() {
            let norms = latent_weight_norms(&self.model)
                .await
                .map_err(|error| error.to_string())?;
            // Another encode may have filled it meanwhile: either value is the same.
            let _ = self.latent_norms.set(norms);
        }
        Ok(self.latent_norms.get().map_or(&[], Vec::as_slice))
    }

    /// Masks for latents `zs`, in one batched fcomb call.
    pub async fn decode(&self, encoding: &Encoding, zs: &[Vec<f32>]) -> Result<Vec<Mask>, String> {
        decode_masks(&self.model, &encoding.encoded, zs)
            .await
            .map_err(|error| error.to_string())
    }
}

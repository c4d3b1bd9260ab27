//! The model on the chosen device, and the one image it has encoded.
//!
//! [`Engine::encode`] runs the U-Net and the prior once per crop; [`Engine::decode`] then
//! turns any batch of latents into masks with fcomb only. That split is the paper's: it is what
//! makes 64 samples, resampling and the latent map cheap after the first pass.

use imaging::{InputContract, Prepared};
use probunet::metrics::Mask;
use probunet::{Encoded, HostPrior, ProbUNet, ProbUNetConfig, decode_masks, most_telling_dims};

use burn::tensor::{Tensor, TensorData};

use crate::backend::ActiveBackend;

/// The loaded model and the backend it runs on.
pub struct Engine {
    model: ProbUNet,
    pub backend: ActiveBackend,
}

/// One encoded crop: the U-Net features on the device and the prior on the host.
pub struct Encoding {
    encoded: Encoded,
    pub prior: HostPrior,
}

impl Engine {
    /// Builds the model from shipped or fine-tuned weights (burnpack bytes with their config).
    pub fn load(bytes: &[u8], backend: ActiveBackend) -> Result<Self, String> {
        let model = probunet::load_weights(bytes, &backend.device)
            .map_err(|error| format!("the model's weights could not be loaded: {error}"))?;
        Ok(Self { model, backend })
    }

    pub fn config(&self) -> &ProbUNetConfig {
        self.model.config()
    }

    /// How this model's inputs are prepared (stored in its weights).
    pub fn contract(&self) -> InputContract {
        self.model.config().contract()
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
        Ok(Encoding { encoded, prior })
    }

    /// The two latent dimensions along which this crop's mask changes most within ±`extent` σ
    /// (the latent map's default axes, [`most_telling_dims`]): one batched decode of the
    /// prior mean and both ends of every dimension.
    pub async fn telling_dims(
        &self,
        encoding: &Encoding,
        extent: f32,
    ) -> Result<(usize, usize), String> {
        let mut zs = vec![encoding.prior.mu.clone()];
        zs.extend(encoding.prior.sweep(extent));
        let masks = self.decode(encoding, &zs).await?;
        let (mean, swept) = masks.split_first().ok_or("no mask was decoded")?;
        Ok(most_telling_dims(swept, mean))
    }

    /// Masks for latents `zs`, in one batched fcomb call.
    pub async fn decode(&self, encoding: &Encoding, zs: &[Vec<f32>]) -> Result<Vec<Mask>, String> {
        decode_masks(&self.model, &encoding.encoded, zs)
            .await
            .map_err(|error| error.to_string())
    }
}

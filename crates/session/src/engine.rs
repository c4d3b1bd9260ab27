//! The model on the chosen device, and the one image it has encoded.
//!
//! Both models split the work the same way: [`Engine::encode`] runs the encoder (and, for the
//! probabilistic U-Net, its prior net) once per crop; every sample afterwards reruns only what
//! depends on the latent — fcomb for the probabilistic U-Net, the decoder below the first
//! latent for the hierarchical one. That split is what makes 64 samples, resampling and the
//! latent views cheap after the first pass.

use imaging::{InputContract, Prepared};
use metrics::Mask;
use probunet::hierarchical::explore::{mean_mask, sample_masks, vary_one_scale};
use probunet::hierarchical::{HierarchicalProbUNet, HpuEncoded};
use probunet::weights::{ModelKind, WeightsError, load_stored, stored_kind};
use probunet::{HostPrior, ProbUNet, ReadError, SeededRng, decode_projected, read_f32};

use burn::tensor::{Device, Tensor, TensorData};
use thiserror::Error;

use crate::analysis::Sample;
use crate::elsewhere::{Elsewhere, HostMap};

/// The loaded model and the device it runs on.
pub struct Engine {
    model: Model,
    device: Device,
}

/// Why the model could not do what was asked, in words for the person.
#[derive(Debug, Error)]
pub enum EngineError {
    #[error("the model's weights could not be loaded: {0}")]
    Weights(#[from] WeightsError),
    #[error("the model failed: {0}")]
    Read(#[from] ReadError),
    #[error("the crop is {width}×{height} pixels; the model needs multiples of {divisor}")]
    Side {
        width: usize,
        height: usize,
        divisor: usize,
    },
    #[error("{got} intensities for a {width}×{height} crop")]
    Pixels {
        got: usize,
        width: usize,
        height: usize,
    },
    /// An encoding from another model than this one (the model was switched mid-job).
    #[error("the model changed while this crop was being sampled; run it again")]
    Mismatch,
    #[error("the hierarchical model has no single latent space: vary one scale at a time instead")]
    NoGlobalLatent,
    #[error("only the hierarchical model has latent scales")]
    NoScales,
    #[error("no mask was decoded")]
    NothingDecoded,
    /// A projection made elsewhere that does not fit this model.
    #[error("an encoding of {got} does not fit this model, which needs {wanted}")]
    Projection { got: String, wanted: String },
}

// One per loaded model, never moved in a hot path: boxing would only add an indirection.
#[allow(clippy::large_enum_variant)]
enum Model {
    Probabilistic(ProbUNet),
    Hierarchical(HierarchicalProbUNet),
}

/// One encoded crop, on the device (and, for the probabilistic U-Net, its prior on the host).
pub enum Encoding {
    Probabilistic {
        /// fcomb's projection of the U-Net's features: all a sample needs of the image.
        /// Boxed: a burn tensor handle is a few hundred bytes, the other variant a few words.
        projection: Box<Projection>,
        prior: HostPrior,
        /// The host's name for the same encoding where it was made, if that was elsewhere
        /// ([`crate::Host::decode_elsewhere`]).
        ticket: Option<u64>,
    },
    Hierarchical(HpuEncoded),
}

impl Encoding {
    /// The prior p(z|x) of the probabilistic U-Net; the hierarchical model has no single one.
    pub fn prior(&self) -> Option<&HostPrior> {
        match self {
            Encoding::Probabilistic { prior, .. } => Some(prior),
            Encoding::Hierarchical(_) => None,
        }
    }

    /// Where else this encoding is held, if anywhere.
    pub fn ticket(&self) -> Option<u64> {
        match self {
            Encoding::Probabilistic { ticket, .. } => *ticket,
            Encoding::Hierarchical(_) => None,
        }
    }
}

/// The probabilistic U-Net's projection of one image, `[1, P, H, W]` on the engine's device
/// ([`probunet::ProbUNet::project`]).
#[derive(Debug, Clone)]
pub struct Projection(Tensor<4>);

impl Projection {
    /// Copies it to the host, to be sent elsewhere.
    pub async fn read(&self) -> Result<HostMap, EngineError> {
        let [_, channels, height, width] = self.0.dims();
        Ok(HostMap {
            channels,
            height,
            width,
            data: read_f32(self.0.clone()).await?,
        })
    }
}

impl Engine {
    /// Builds the model a weights file holds (burnpack bytes with their config), whichever of
    /// the two it is.
    pub fn load(bytes: &[u8], device: Device) -> Result<Self, EngineError> {
        let model = match stored_kind(bytes)? {
            ModelKind::Probabilistic => Model::Probabilistic(load_stored(bytes, &device)?),
            ModelKind::Hierarchical => Model::Hierarchical(load_stored(bytes, &device)?),
        };
        Ok(Self { model, device })
    }

    /// Where the model's tensors live.
    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn kind(&self) -> ModelKind {
        match self.model {
            Model::Probabilistic(_) => ModelKind::Probabilistic,
            Model::Hierarchical(_) => ModelKind::Hierarchical,
        }
    }

    pub fn num_params(&self) -> usize {
        match &self.model {
            Model::Probabilistic(m) => m.config().num_params(),
            Model::Hierarchical(m) => m.config().num_params(),
        }
    }

    /// How this model's inputs are prepared (stored in its weights).
    pub fn contract(&self) -> InputContract {
        match &self.model {
            Model::Probabilistic(m) => m.config().contract(),
            Model::Hierarchical(m) => m.config().contract(),
        }
    }

    /// Side of a crop the model accepts: a multiple of its pooling factor.
    pub fn size_divisor(&self) -> usize {
        match &self.model {
            Model::Probabilistic(m) => m.config().size_divisor(),
            Model::Hierarchical(m) => m.config().size_divisor(),
        }
    }

    /// Latent scales the hierarchical model samples (coarsest first); 0 for the other.
    pub fn latent_scales(&self) -> usize {
        match &self.model {
            Model::Probabilistic(_) => 0,
            Model::Hierarchical(m) => m.config().latent_levels(),
        }
    }

    /// Runs the encoder (and prior) on a prepared crop.
    pub async fn encode(&self, crop: &Prepared) -> Result<Encoding, EngineError> {
        let (w, h) = (crop.width as usize, crop.height as usize);
        self.encode_pixels(crop.data.clone(), w, h).await
    }

    /// Runs the encoder (and prior) on `w`×`h` model intensities (row-major, in [0, 1]).
    pub async fn encode_pixels(
        &self,
        pixels: Vec<f32>,
        w: usize,
        h: usize,
    ) -> Result<Encoding, EngineError> {
        let x = self.image(pixels, w, h)?;
        match &self.model {
            Model::Probabilistic(model) => {
                let encoded = model.encode(x);
                let prior = HostPrior::read(&encoded, 0).await?;
                Ok(Encoding::Probabilistic {
                    projection: Box::new(Projection(encoded.projection)),
                    prior,
                    ticket: None,
                })
            }
            Model::Hierarchical(model) => Ok(Encoding::Hierarchical(model.encode(x))),
        }
    }

    /// The probabilistic U-Net's encode without its prior: the U-Net and fcomb's projection.
    /// With [`Self::prior_of`] it gives exactly what [`Self::encode_pixels`] gives, so the two
    /// halves can run in two places (the page's two workers).
    pub fn project(&self, pixels: Vec<f32>, w: usize, h: usize) -> Result<Projection, EngineError> {
        let x = self.image(pixels, w, h)?;
        Ok(Projection(self.probabilistic()?.project(x)))
    }

    /// The other half of the probabilistic U-Net's encode: its prior p(z|x).
    pub async fn prior_of(
        &self,
        pixels: Vec<f32>,
        w: usize,
        h: usize,
    ) -> Result<HostPrior, EngineError> {
        let x = self.image(pixels, w, h)?;
        Ok(HostPrior::of(&self.probabilistic()?.prior_of(x), 0).await?)
    }

    /// A projection sent from elsewhere, on this engine's device, checked against the model.
    pub fn projection_from(&self, map: HostMap) -> Result<Projection, EngineError> {
        let channels = self.probabilistic()?.fcomb.projection_channels();
        let divisor = self.size_divisor();
        let fits = map.channels == channels
            && map.data.len() == map.channels * map.height * map.width
            && map.height > 0
            && map.width > 0
            && map.height.is_multiple_of(divisor)
            && map.width.is_multiple_of(divisor);
        if !fits {
            return Err(EngineError::Projection {
                got: format!(
                    "{} values as {}×{}×{}",
                    map.data.len(),
                    map.channels,
                    map.height,
                    map.width
                ),
                wanted: format!("{channels} channels on a side that is a multiple of {divisor}"),
            });
        }
        let shape = [1, map.channels, map.height, map.width];
        let tensor = Tensor::from_data(TensorData::new(map.data, shape), &self.device);
        Ok(Projection(tensor))
    }

    /// The encoding a host made elsewhere ([`crate::Host::encode_elsewhere`]), on this device.
    pub fn encoding_from(&self, made: Elsewhere) -> Result<Encoding, EngineError> {
        let prior_fits = made.prior.dims() == self.probabilistic()?.config().latent_dim
            && made.prior.sigma.len() == made.prior.dims();
        if !prior_fits {
            return Err(EngineError::Projection {
                got: format!("a {}-d prior", made.prior.dims()),
                wanted: format!("{}-d", self.probabilistic()?.config().latent_dim),
            });
        }
        Ok(Encoding::Probabilistic {
            projection: Box::new(self.projection_from(made.projection)?),
            prior: made.prior,
            ticket: Some(made.ticket),
        })
    }

    /// Masks for latents `zs` from a projection alone (what a helper holding only the
    /// projection decodes).
    pub async fn decode_projection(
        &self,
        projection: &Projection,
        zs: &[Vec<f32>],
    ) -> Result<Vec<Mask>, EngineError> {
        Ok(decode_projected(self.probabilistic()?, &projection.0, zs).await?)
    }

    /// `w`×`h` pixels as the model's input tensor, if the side fits the model.
    fn image(&self, pixels: Vec<f32>, w: usize, h: usize) -> Result<Tensor<4>, EngineError> {
        let divisor = self.size_divisor();
        if !w.is_multiple_of(divisor) || !h.is_multiple_of(divisor) {
            return Err(EngineError::Side {
                width: w,
                height: h,
                divisor,
            });
        }
        if pixels.len() != w * h {
            return Err(EngineError::Pixels {
                got: pixels.len(),
                width: w,
                height: h,
            });
        }
        Ok(Tensor::from_data(
            TensorData::new(pixels, [1, 1, h, w]),
            &self.device,
        ))
    }

    fn probabilistic(&self) -> Result<&ProbUNet, EngineError> {
        match &self.model {
            Model::Probabilistic(model) => Ok(model),
            Model::Hierarchical(_) => Err(EngineError::NoGlobalLatent),
        }
    }

    /// `n` samples from the model's prior, noise drawn from `rng`. A front end sampling in
    /// chunks from one `rng` gets the same samples for a seed as long as its chunk size is fixed.
    pub async fn sample(
        &self,
        encoding: &Encoding,
        n: usize,
        rng: &mut SeededRng,
    ) -> Result<Vec<Sample>, EngineError> {
        match (&self.model, encoding) {
            (Model::Probabilistic(_), Encoding::Probabilistic { prior, .. }) => {
                let zs = prior.draw(n, rng);
                let masks = self.decode(encoding, &zs).await?;
                Ok(Sample::from_latents(zs, masks))
            }
            (Model::Hierarchical(model), Encoding::Hierarchical(encoded)) => {
                let masks = sample_masks(model, encoded, n, rng).await?;
                Ok(masks
                    .into_iter()
                    .map(|mask| Sample { z: None, mask })
                    .collect())
            }
            _ => Err(EngineError::Mismatch),
        }
    }

    /// The mask at the prior's mean: the model's single most typical answer.
    pub async fn mean(&self, encoding: &Encoding) -> Result<Mask, EngineError> {
        match (&self.model, encoding) {
            (Model::Hierarchical(model), Encoding::Hierarchical(encoded)) => {
                Ok(mean_mask(model, encoded).await?)
            }
            (_, Encoding::Probabilistic { prior, .. }) => {
                let mut masks = self
                    .decode(encoding, std::slice::from_ref(&prior.mu))
                    .await?;
                masks.pop().ok_or(EngineError::NothingDecoded)
            }
            _ => Err(EngineError::Mismatch),
        }
    }

    /// `n` masks of the hierarchical model with only latent scale `scale` drawn (the others at
    /// their means).
    pub async fn vary_scale(
        &self,
        encoding: &Encoding,
        scale: usize,
        n: usize,
        rng: &mut SeededRng,
    ) -> Result<Vec<Mask>, EngineError> {
        match (&self.model, encoding) {
            (Model::Hierarchical(model), Encoding::Hierarchical(encoded)) => {
                Ok(vary_one_scale(model, encoded, scale, n, rng).await?)
            }
            _ => Err(EngineError::NoScales),
        }
    }

    /// Masks of the probabilistic U-Net for latents `zs`, in one batched fcomb call.
    pub async fn decode(
        &self,
        encoding: &Encoding,
        zs: &[Vec<f32>],
    ) -> Result<Vec<Mask>, EngineError> {
        match (&self.model, encoding) {
            (Model::Probabilistic(_), Encoding::Probabilistic { projection, .. }) => {
                self.decode_projection(projection, zs).await
            }
            _ => Err(EngineError::NoGlobalLatent),
        }
    }
}

//! The probabilistic U-Net (Kohl et al., NeurIPS 2018) in burn.
//!
//! Backend-agnostic: burn 0.22's [`burn::tensor::Device`] picks the backend at run time, so the
//! same code runs natively on the CPU (flex), in the browser on flex/wasm or on WebGPU.
//!
//! Reading order: [`config`] (presets) → [`unet`] → [`gaussian_encoder`] (prior/posterior) →
//! [`fcomb`] → [`model`] (encode once, sample many) → [`loss`] → [`train`] → [`weights`];
//! [`calibration`] widens a trained prior by one fitted factor; [`mixture`] samples a mixture
//! of posteriors (the decoder ceiling of `probunet eval`); [`prior_fit`] fits the prior net to
//! the trained decoder by the energy distance of its samples.
//! [`hierarchical`] is the successor model (Kohl et al., 2019) beside it.
//! [`init`] holds the seeded host RNG that makes weights and samples identical on every backend.

pub mod calibration;
pub mod config;
pub mod explore;
pub mod fcomb;
pub mod finetune;
pub mod gaussian_encoder;
pub mod hierarchical;
pub mod host_copy;
pub mod init;
pub mod learner;
pub mod loss;
pub mod mixture;
pub mod model;
pub mod prior_fit;
pub mod train;
pub mod unet;
pub mod upsample;
pub mod weights;

pub use config::{ConfigError, ProbUNetConfig};
pub use explore::{
    GridCell, HostPrior, ReadError, complete_now, decode_masks, decode_projected,
    most_telling_dims, read_f32,
};
pub use finetune::{Augmentation, FineTuneConfig, FineTuneError, FineTuner, Pair, held_out_ged};
pub use gaussian_encoder::{DiagonalGaussian, LOG_SIGMA_BOUNDS};
pub use host_copy::{copy_to_host, parameter_values};
pub use init::SeededRng;
pub use learner::{Learner, OptimizerStateError};
pub use loss::{LossConfig, LossParts, LossValues};
pub use model::{Encoded, ProbUNet, Samples, TrainOutput, argmax_masks, one_hot};
pub use train::{Batch, Trainer, TrainerConfig};
pub use weights::{
    Precision, WeightsError, load_pytorch_safetensors, load_weights, load_weights_expecting,
    save_weights, save_weights_async,
};

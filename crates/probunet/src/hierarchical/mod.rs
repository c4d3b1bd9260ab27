//! The hierarchical probabilistic U-Net (Kohl et al., 2019, arXiv 1905.13077), beside the
//! first model and on the same data, contract and weights format.
//!
//! Reading order: [`config`] → [`res_block`] → [`encoder`] → [`latent_decoder`] (the latent
//! scales, shared by prior and posterior) → [`stitching`] → [`model`] → [`geco`] (the
//! objective) → [`train`]; [`explore`] samples for interactive front ends, [`mixture`] decodes
//! the mixture of an image's posteriors (the evaluation's decoder ceiling).

pub mod config;
pub mod encoder;
pub mod explore;
pub mod geco;
pub mod latent_decoder;
pub mod mixture;
pub mod model;
pub mod res_block;
pub mod stitching;
pub mod train;

pub use config::{HpuNetConfig, HpuNetConfigError};
pub use geco::{GecoConfig, GecoState, GecoValues};
pub use latent_decoder::{Latent, ScaleGaussian};
pub use model::{HierarchicalProbUNet, HpuEncoded, HpuTrainOutput, ScaleMode};
pub use train::HpuTrainer;

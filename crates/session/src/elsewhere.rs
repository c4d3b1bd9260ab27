//! What travels when a host encodes and decodes somewhere other than the engine's thread.
//!
//! The probabilistic U-Net's encode splits cleanly in two: the U-Net with fcomb's projection
//! (everything a sample needs of the image) and the prior net (p(z|x)). Neither needs the
//! other, so a host with two workers runs them side by side and the page's thread only
//! receives the results ([`crate::Engine::encoding_from`]). Samples then need only the
//! projection and a latent, so the same workers can decode them too.

use probunet::HostPrior;

/// A feature map on the host, `[channels, height, width]` row-major: how a projection
/// travels between threads.
#[derive(Debug, Clone, PartialEq)]
pub struct HostMap {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub data: Vec<f32>,
}

/// One crop encoded elsewhere: its projection and prior, and the host's name for it (the
/// helpers keep the projection under that name to decode samples of it).
#[derive(Debug, Clone, PartialEq)]
pub struct Elsewhere {
    pub ticket: u64,
    pub projection: HostMap,
    pub prior: HostPrior,
}

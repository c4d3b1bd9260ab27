//! Deterministic, backend-independent weight initialisation and noise.
//!
//! Backend RNGs differ (and burn's device RNG is per backend), so every random number this crate
//! uses is drawn on the host by [`SeededRng`] (the `synth` crate's platform-identical generator,
//! re-exported here) and only then uploaded as [`TensorData`].

use burn::tensor::{Device, Tensor, TensorData};
pub use synth::rng::{SeededRng, ln};

/// Host-drawn noise as a tensor, for any [`SeededRng`].
pub trait NormalTensor {
    /// A tensor of the given shape filled with N(0, std²) values drawn on the host.
    fn normal_tensor<const D: usize>(
        &mut self,
        shape: [usize; D],
        std: f64,
        device: &Device,
    ) -> Tensor<D>;
}

impl NormalTensor for SeededRng {
    fn normal_tensor<const D: usize>(
        &mut self,
        shape: [usize; D],
        std: f64,
        device: &Device,
    ) -> Tensor<D> {
        let n = shape.iter().product();
        Tensor::from_data(TensorData::new(self.normals(n, std), shape), device)
    }
}

/// He-normal (Kaiming) weights for a convolution: N(0, 2 / fan_in), fan_in = c_in · k_h · k_w.
///
/// He et al. (2015) derive this variance so that ReLU stacks keep their activation scale, which
/// is what the paper's U-Net uses. Biases start at zero.
pub fn he_normal_conv(
    rng: &mut SeededRng,
    [c_out, c_in, k_h, k_w]: [usize; 4],
    device: &Device,
) -> (Tensor<4>, Tensor<1>) {
    scaled_normal_conv(rng, [c_out, c_in, k_h, k_w], 2.0, device)
}

/// Weights N(0, gain / fan_in) and zero biases: gain 2 is He-normal, gain 1 LeCun-normal (the
/// second moment of the orthogonal initialiser the hierarchical model's released code uses).
pub fn scaled_normal_conv(
    rng: &mut SeededRng,
    [c_out, c_in, k_h, k_w]: [usize; 4],
    gain: f64,
    device: &Device,
) -> (Tensor<4>, Tensor<1>) {
    let fan_in = (c_in * k_h * k_w) as f64;
    let weight = rng.normal_tensor([c_out, c_in, k_h, k_w], (gain / fan_in).sqrt(), device);
    let bias = Tensor::zeros([c_out], device);
    (weight, bias)
}

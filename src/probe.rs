//! The page's backend smoke test: a small, deterministic conv net whose output must not depend
//! on the device it runs on.
//!
//! The web app runs it right after choosing a backend, so a person (and the browser tests) can
//! see that the chosen device really computes, how fast, and that WebGPU and the CPU agree. The
//! weights come from the host-side [`SeededRng`] rather than a device RNG, because burn's
//! backends draw different random numbers for the same seed.

use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, ExecutionError, Tensor, TensorData, activation};

use probunet::SeededRng;

/// Channels of the probe's four 3×3 convolutions (input → … → 2 logits).
const CHANNELS: [usize; 5] = [1, 16, 16, 16, 2];

/// What the probe computed: a few summary numbers that are cheap to compare across backends.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeOutput {
    /// Side of the square input image.
    pub size: usize,
    /// Mean foreground probability (softmax over the 2 logits) over the image.
    pub mean_foreground: f32,
    /// Sum of |logits| over the image and both classes.
    pub abs_logit_sum: f32,
}

/// A smooth synthetic "slice": a bright disc on a gradient, so the output is not trivially zero.
fn probe_image(size: usize) -> Vec<f32> {
    let centre = size as f32 / 2.0;
    (0..size * size)
        .map(|i| {
            let (y, x) = ((i / size) as f32, (i % size) as f32);
            let r = ((x - centre).powi(2) + (y - centre).powi(2)).sqrt();
            let disc = if r < size as f32 / 5.0 { 0.8 } else { 0.0 };
            disc + 0.2 * x / size as f32
        })
        .collect()
}

/// Runs the probe on `device` for a `size`×`size` input. Reading the result back is async
/// because WebGPU in the browser cannot block.
pub async fn run_probe(device: &Device, size: usize) -> Result<ProbeOutput, ExecutionError> {
    let mut x = Tensor::<4>::from_data(
        TensorData::new(probe_image(size), [1, 1, size, size]),
        device,
    );
    let last = CHANNELS.len() - 2;
    for (layer, pair) in CHANNELS.windows(2).enumerate() {
        let (c_in, c_out) = (pair[0], pair[1]);
        // He-uniform scale keeps activations O(1) through the stack.
        let scale = (6.0 / (c_in * 9) as f32).sqrt();
        let mut rng = SeededRng::new(layer as u64);
        let mut unit = || (rng.uniform() * 2.0 - 1.0) as f32;
        let weights: Vec<f32> = (0..c_out * c_in * 9).map(|_| unit() * scale).collect();
        let bias: Vec<f32> = (0..c_out).map(|_| 0.1 * unit()).collect();
        let weight = Tensor::<4>::from_data(TensorData::new(weights, [c_out, c_in, 3, 3]), device);
        let bias = Tensor::<1>::from_data(TensorData::new(bias, [c_out]), device);
        x = conv2d(
            x,
            weight,
            Some(bias),
            ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
        );
        if layer < last {
            x = activation::relu(x);
        }
    }
    let foreground = activation::softmax(x.clone(), 1).narrow(1, 1, 1).mean();
    let abs_sum = x.abs().sum();
    let foreground = foreground.into_data_async().await?;
    let abs_sum = abs_sum.into_data_async().await?;
    Ok(ProbeOutput {
        size,
        mean_foreground: first_value(&foreground),
        abs_logit_sum: first_value(&abs_sum),
    })
}

fn first_value(data: &TensorData) -> f32 {
    data.iter::<f32>().next().unwrap_or(f32::NAN)
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    async fn probe_is_deterministic_and_non_trivial() {
        let device = Device::flex();
        let first = run_probe(&device, 32).await.expect("probe runs on flex");
        let second = run_probe(&device, 32).await.expect("probe runs on flex");
        assert_eq!(first, second);
        assert!(first.mean_foreground > 0.0 && first.mean_foreground < 1.0);
        assert!(first.abs_logit_sum > 1.0, "{first:?}");
    }
}

//! The decoder's ×2 bilinear upsampling, written so that every backend can differentiate it.
//!
//! burn's `interpolate` computes the same values, but burn-wgpu 0.22 has no usable backward pass
//! for bilinear interpolation (it panics on WebGPU), and fine-tuning in the browser trains on
//! WebGPU. For an exact doubling with half-pixel centres (PyTorch's `align_corners = false`) the
//! weights are fixed, so the operation is a sum of shifted copies:
//! `out[2i] = ¾·x[i] + ¼·x[i−1]`, `out[2i+1] = ¾·x[i] + ¼·x[i+1]`, the neighbour clamped at the
//! border. Slices, sums, a stack and a reshape have gradients everywhere.

use burn::tensor::Tensor;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};

/// Upsamples `x` (`[batch, channels, h, w]`) bilinearly to `[h_out, w_out]`.
///
/// Shifted sums only where a gradient may be asked for (an autodiff device) and the size
/// doubles, which is all the U-Net does (inputs are multiples of the model's size divisor).
/// Everywhere else burn's `interpolate`: at inference it is faster than the shifted sums (one
/// kernel instead of ten whole-tensor passes; BENCHMARKS.md has the A/B), and its forward pass
/// works on every backend.
pub fn upsample_bilinear(x: Tensor<4>, [h_out, w_out]: [usize; 2]) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    if x.is_autodiff() && h_out == 2 * h && w_out == 2 * w {
        return double_along(double_along(x, 2), 3);
    }
    interpolate(
        x,
        InterpolateOptions::new(InterpolateMode::Bilinear)
            .with_align_corners(false)
            .with_output_size([h_out, w_out]),
    )
}

/// The decoder's join: `x` upsampled bilinearly to `skip`'s size, then `skip`, along the
/// channels. At inference an exact doubling is one pass of ProbSeg's kernel on the CPU
/// ([`cpu_kernels::upsample2x_concat`]; burn's `interpolate` and `cat` on other devices).
pub fn upsample_concat(x: Tensor<4>, skip: Tensor<4>) -> Tensor<4> {
    let ([_, _, h, w], [_, _, hs, ws]) = (x.dims(), skip.dims());
    if !x.is_autodiff() && !skip.is_autodiff() && hs == 2 * h && ws == 2 * w {
        return cpu_kernels::upsample2x_concat(x, skip);
    }
    Tensor::cat(vec![upsample_bilinear(x, [hs, ws]), skip], 1)
}

/// Doubles one spatial axis (2 = rows, 3 = columns) with the fixed ¼–¾ weights.
fn double_along(x: Tensor<4>, axis: usize) -> Tensor<4> {
    let n = x.dims()[axis];
    let mut doubled = x.dims();
    doubled[axis] *= 2;
    if n == 1 {
        // Both neighbours clamp to the one sample: every output equals it.
        return x.repeat_dim(axis, 2);
    }
    let first = x.clone().narrow(axis, 0, 1);
    let last = x.clone().narrow(axis, n - 1, 1);
    let previous = Tensor::cat(vec![first, x.clone().narrow(axis, 0, n - 1)], axis);
    let next = Tensor::cat(vec![x.clone().narrow(axis, 1, n - 1), last], axis);
    let centre = x * 0.75;
    let even = centre.clone() + previous * 0.25;
    let odd = centre + next * 0.25;
    // Interleave: [.., n, ..] pairs stacked on a new axis right after `axis`, then merged.
    Tensor::stack::<5>(vec![even, odd], axis + 1).reshape(doubled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData, Tolerance};

    fn through_interpolate(x: Tensor<4>, size: [usize; 2]) -> Tensor<4> {
        interpolate(
            x,
            InterpolateOptions::new(InterpolateMode::Bilinear)
                .with_align_corners(false)
                .with_output_size(size),
        )
    }

    /// On an autodiff device (training) doubling takes the shifted sums; they must equal burn's
    /// bilinear interpolation, which inference uses.
    #[test]
    fn doubling_by_shifted_sums_equals_burns_bilinear_interpolation() {
        let device = Device::default();
        for [h, w] in [[1, 1], [1, 3], [2, 2], [3, 5], [8, 8]] {
            let n = 2 * 3 * h * w;
            let values: Vec<f32> = (0..n).map(|i| ((i * 37 % 11) as f32) - 4.5).collect();
            let x = Tensor::<4>::from_data(TensorData::new(values, [2, 3, h, w]), &device);
            let ours = double_along(double_along(x.clone().autodiff(), 2), 3).without_autodiff();
            let theirs = through_interpolate(x.clone(), [2 * h, 2 * w]);
            let dispatched = upsample_bilinear(x.autodiff(), [2 * h, 2 * w]).without_autodiff();
            dispatched
                .into_data()
                .assert_approx_eq::<f32>(&ours.clone().into_data(), Tolerance::absolute(0.0));
            assert_eq!(ours.dims(), [2, 3, 2 * h, 2 * w]);
            ours.into_data()
                .assert_approx_eq::<f32>(&theirs.into_data(), Tolerance::absolute(1e-6));
        }
    }

    #[test]
    fn border_values_are_replicated_not_faded() {
        let device = Device::default();
        let x = Tensor::<4>::from_data(TensorData::new(vec![1.0f32, 5.0], [1, 1, 1, 2]), &device);
        for x in [x.clone(), x.autodiff()] {
            let up = upsample_bilinear(x, [2, 4])
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            assert_eq!(up, vec![1.0, 2.0, 4.0, 5.0, 1.0, 2.0, 4.0, 5.0]);
        }
    }
}

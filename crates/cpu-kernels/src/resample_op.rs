//! The resampling kernels ([`crate::resample`]) as burn operations: a backend extension routed
//! to Flex, and burn's own operations for every other tensor ([`avg_pool2x2`],
//! [`upsample2x_concat`] choose).

use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, backend_extension};
use burn::tensor::module::{avg_pool2d, interpolate};
use burn::tensor::ops::{AvgPoolOptions, InterpolateMode, InterpolateOptions};
use burn::tensor::{DType, Device, Tensor};

use std::sync::atomic::{AtomicBool, Ordering};

use crate::burn_op::{dims4, f32_tensor, f32_values};
use crate::resample;

static RESAMPLE: AtomicBool = AtomicBool::new(true);

/// Turns our pooling and upsampling off (burn's then run on the CPU too), so benchmarks compare
/// both in one run.
pub fn set_resample_kernels(enabled: bool) {
    RESAMPLE.store(enabled, Ordering::Relaxed);
}

/// The U-Net's resampling with ProbSeg's kernels. Only Flex implements it: the functions below
/// call it for Flex tensors alone and give every other tensor burn's operations.
#[backend_extension(Flex)]
pub trait ResampleBackend: Backend {
    /// 2×2 average pooling, stride 2, no padding.
    fn avg_pool2x2(x: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `cat([upsample×2(x), skip], 1)`, bilinear with half-pixel centres.
    fn upsample2x_concat(x: FloatTensor<Self>, skip: FloatTensor<Self>) -> FloatTensor<Self>;
}

impl ResampleBackend for Flex {
    fn avg_pool2x2(x: FlexTensor) -> FlexTensor {
        let [b, c, h, w] = dims4(&x);
        let mut out = vec![0.0f32; b * c * (h / 2) * (w / 2)];
        resample::avg_pool2x2(&f32_values(&x), [b, c, h, w], &mut out);
        f32_tensor(out, &[b, c, h / 2, w / 2])
    }

    fn upsample2x_concat(x: FlexTensor, skip: FlexTensor) -> FlexTensor {
        let [b, cx, h, w] = dims4(&x);
        let cs = dims4(&skip)[1];
        let mut out = vec![0.0f32; b * (cx + cs) * 4 * h * w];
        let sizes = [b, cx, cs, h, w];
        resample::upsample2x_concat(&f32_values(&x), &f32_values(&skip), sizes, &mut out);
        f32_tensor(out, &[b, cx + cs, 2 * h, 2 * w])
    }
}

/// Whether a tensor takes our kernels: on the Flex device (the extension is routed to Flex
/// only; another device's tensor there would panic), not tracking gradients (the kernels have
/// no backward pass), f32 (what they compute in), and not turned off by a benchmark.
fn ours(x: &Tensor<4>) -> bool {
    x.device() == Device::flex()
        && !x.is_autodiff()
        && x.dtype() == DType::F32
        && RESAMPLE.load(Ordering::Relaxed)
}

/// 2×2 average pooling (stride 2): our kernel on Flex, burn's `avg_pool2d` on any other device
/// (WebGPU) and wherever gradients are tracked.
pub fn avg_pool2x2(x: Tensor<4>) -> Tensor<4> {
    if ours(&x) {
        return Tensor::from_dispatch(<Dispatch as ResampleBackend>::avg_pool2x2(
            x.into_dispatch(),
        ));
    }
    avg_pool2d(x, AvgPoolOptions::new([2, 2]))
}

/// The decoder's join `cat([upsample×2(x), skip], 1)` (bilinear, half-pixel centres, as
/// PyTorch's `align_corners = false`): one pass of our kernel on Flex, burn's `interpolate`
/// and `cat` on other devices.
///
/// # Panics
/// If `skip` is not `x`'s batch at twice its size, or `x` tracks gradients: burn-wgpu's
/// bilinear interpolation has no usable backward pass, so training doubles by shifted sums
/// (probunet's `upsample`).
pub fn upsample2x_concat(x: Tensor<4>, skip: Tensor<4>) -> Tensor<4> {
    let ([b, _, h, w], [bs, _, hs, ws]) = (x.dims(), skip.dims());
    assert!(
        b == bs && hs == 2 * h && ws == 2 * w,
        "the skip must be the input's batch at twice its size"
    );
    assert!(!x.is_autodiff(), "upsample2x_concat has no backward pass");
    if ours(&x) && ours(&skip) {
        return Tensor::from_dispatch(<Dispatch as ResampleBackend>::upsample2x_concat(
            x.into_dispatch(),
            skip.into_dispatch(),
        ));
    }
    let options = InterpolateOptions::new(InterpolateMode::Bilinear)
        .with_align_corners(false)
        .with_output_size([2 * h, 2 * w]);
    Tensor::cat(vec![interpolate(x, options), skip], 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fcomb::tests::values;
    use burn::tensor::{Device, TensorData, Tolerance};

    fn tensor(dims: [usize; 4], seed: u64) -> Tensor<4> {
        let n = dims.iter().product();
        Tensor::from_data(TensorData::new(values(n, seed), dims), &Device::flex())
    }

    /// Our kernels agree with burn's own pooling, interpolation and concatenation (which the
    /// extension's defaults and the gradient-tracking path call).
    #[test]
    fn the_kernels_match_burns_operations() {
        for [b, c, h, w] in [[1, 3, 8, 8], [2, 5, 7, 6], [1, 64, 16, 16]] {
            let x = tensor([b, c, h, w], 1);
            let ours = avg_pool2x2(x.clone());
            let burns = avg_pool2d(x, AvgPoolOptions::new([2, 2]));
            ours.into_data()
                .assert_approx_eq::<f32>(&burns.into_data(), Tolerance::absolute(1e-6));

            let (x, skip) = (tensor([b, c, h, w], 2), tensor([b, 3, 2 * h, 2 * w], 3));
            let ours = upsample2x_concat(x.clone(), skip.clone());
            let options = InterpolateOptions::new(InterpolateMode::Bilinear)
                .with_align_corners(false)
                .with_output_size([2 * h, 2 * w]);
            let burns = Tensor::cat(vec![interpolate(x, options), skip], 1);
            assert_eq!(ours.dims(), [b, c + 3, 2 * h, 2 * w]);
            ours.into_data()
                .assert_approx_eq::<f32>(&burns.into_data(), Tolerance::absolute(1e-5));
        }
    }

    /// Tensors our kernels must not take go to burn's operations, with the same values.
    #[test]
    fn gradient_tracking_and_switched_off_kernels_take_burns_operations() {
        let x = tensor([1, 3, 6, 4], 5);
        assert!(ours(&x));
        assert!(!ours(&x.clone().autodiff()));
        set_resample_kernels(false);
        let (burns, skip) = (avg_pool2x2(x.clone()), tensor([1, 2, 12, 8], 6));
        let joined = upsample2x_concat(x.clone(), skip.clone());
        set_resample_kernels(true);
        burns.into_data().assert_approx_eq::<f32>(
            &avg_pool2x2(x.clone()).into_data(),
            Tolerance::absolute(1e-6),
        );
        joined.into_data().assert_approx_eq::<f32>(
            &upsample2x_concat(x, skip).into_data(),
            Tolerance::absolute(1e-5),
        );
    }

    #[test]
    fn pooling_keeps_gradients_through_burns_op() {
        let x = tensor([1, 2, 4, 4], 4).autodiff().require_grad();
        let grads = avg_pool2x2(x.clone()).sum().backward();
        let grad = x.grad(&grads).expect("a gradient");
        grad.into_data().assert_approx_eq::<f32>(
            &TensorData::new(vec![0.25f32; 32], [1, 2, 4, 4]),
            Tolerance::absolute(1e-7),
        );
    }
}

//! The kernels as burn operations: a backend extension routed to Flex, and the fallback.

use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::ops::ModuleOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, backend_extension};
use burn::tensor::activation::relu;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Bytes, DType, Device, Shape, Tensor};

use std::sync::atomic::{AtomicBool, Ordering};

use crate::conv3x3::{Conv3x3Shape, conv3x3};
use crate::weight_grad::conv3x3_weight_grad;
use crate::winograd::{conv3x3_winograd, conv3x3_winograd4};

static DIRECT_CONV: AtomicBool = AtomicBool::new(true);
static WINOGRAD: AtomicBool = AtomicBool::new(true);
static WINOGRAD4: AtomicBool = AtomicBool::new(true);

/// Turns our kernels off (every convolution then runs burn's), so benchmarks compare both in
/// one run.
pub fn set_direct_conv(enabled: bool) {
    DIRECT_CONV.store(enabled, Ordering::Relaxed);
}

/// Turns the Winograd form off (our layers then all run the direct kernel), so benchmarks
/// compare both in one run.
pub fn set_winograd(enabled: bool) {
    WINOGRAD.store(enabled, Ordering::Relaxed);
}

/// Turns F(4×4, 3×3) off (its layers then run F(2×2, 3×3)), so benchmarks compare both in one
/// run.
pub fn set_winograd4(enabled: bool) {
    WINOGRAD4.store(enabled, Ordering::Relaxed);
}

/// Which kernel computes a 3×3 convolution on the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conv3x3Kernel {
    /// burn-flex's `conv2d` (im2col + GEMM) and a separate ReLU.
    Burn,
    /// [`crate::conv3x3::conv3x3`].
    Direct,
    /// [`crate::winograd::conv3x3_winograd`]: F(2×2, 3×3).
    Winograd,
    /// [`crate::winograd::conv3x3_winograd4`]: F(4×4, 3×3).
    Winograd4,
}

/// The kernel for a layer of this shape, by the crossovers measured on the models' layers
/// (`cargo bench -p cpu-kernels` natively, `probsegKernelBench` in the browser; BENCHMARKS.md).
/// Winograd's tiles are 2×2 and its transforms cost per channel: from 16×16 up it beat the
/// direct kernel on every measured layer natively, and from 8×8 up in wasm, even with few
/// channels (there by little); on 8×8 images its half-empty vectors of tiles lose natively
/// (8-wide), not in wasm (4-wide). Below that the
/// direct kernel's advantage is the memory it does not move; natively (AVX2) burn's GEMM wins
/// where the reduction (9·c_in) is long and the image small. In wasm (one thread, 128-bit vectors)
/// the direct kernel beat burn's on every layer measured. F(4×4)'s 4×4 tiles need larger
/// images to fill vectors of tiles and amortise their transforms: it beat F(2×2) on the
/// models' layers from 64×64 up natively (8-wide vectors) and from 32×32 up in wasm (4-wide),
/// and lost below.
pub fn kernel_for(c_in: usize, c_out: usize, h: usize, w: usize) -> Conv3x3Kernel {
    if !DIRECT_CONV.load(Ordering::Relaxed) {
        return Conv3x3Kernel::Burn;
    }
    let wasm = cfg!(target_arch = "wasm32");
    let avx512 = avx512_chosen();
    // With AVX-512's 16 lanes the direct kernel beat F(2×2) on the 16² layers (its vectors of
    // tiles half empty there) and burn's GEMM on every layer down to 8².
    let f2_side = match (wasm, avx512) {
        (true, _) => 8,
        (false, true) => 32,
        (false, false) => 16,
    };
    if WINOGRAD.load(Ordering::Relaxed) && h >= f2_side && w >= f2_side {
        let f4_side = if wasm { 32 } else { 64 };
        if WINOGRAD4.load(Ordering::Relaxed) && h >= f4_side && w >= f4_side {
            return Conv3x3Kernel::Winograd4;
        }
        return Conv3x3Kernel::Winograd;
    }
    let direct = if avx512 {
        h * w > 16
    } else {
        wasm || c_in <= 4 || c_in * c_out <= 8 * h * w
    };
    if direct {
        Conv3x3Kernel::Direct
    } else {
        Conv3x3Kernel::Burn
    }
}

/// Whether the kernels run their AVX-512 forms (never outside x86-64).
fn avx512_chosen() -> bool {
    #[cfg(target_arch = "x86_64")]
    return crate::vector::avx512_chosen();
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Operations a backend runs with ProbSeg's own kernels.
#[backend_extension(Flex, Autodiff)]
pub trait Conv3x3Backend: Backend {
    /// `act(conv2d(x, weight) + bias)` for 3×3 kernels, stride 1, padding 1; `relu` picks the
    /// activation (ReLU or none).
    fn conv3x3_bias_act(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        relu: bool,
    ) -> FloatTensor<Self> {
        let out = Self::conv2d(x, weight, Some(bias), same_3x3());
        if relu { Self::relu(out) } else { out }
    }

    /// The weights' gradient of that convolution (before its activation) from its input `x`
    /// and output gradient `grad`; `weight` gives the shape.
    fn conv3x3_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        Self::conv2d_weight_backward(x, weight, grad, same_3x3())
    }
}

impl Conv3x3Backend for Flex {
    fn conv3x3_bias_act(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        relu: bool,
    ) -> FlexTensor {
        let shape = shape_of(&x, &weight);
        let mut out = vec![0.0f32; shape.output_len()];
        let kernel = match kernel_for(shape.c_in, shape.c_out, shape.height, shape.width) {
            Conv3x3Kernel::Winograd4 => conv3x3_winograd4,
            Conv3x3Kernel::Winograd => conv3x3_winograd,
            _ => conv3x3,
        };
        kernel(
            &f32_values(&x),
            &f32_values(&weight),
            &f32_values(&bias),
            shape,
            relu,
            &mut out,
        );
        f32_tensor(out, &[shape.batch, shape.c_out, shape.height, shape.width])
    }

    fn conv3x3_weight_grad(x: FlexTensor, weight: FlexTensor, grad: FlexTensor) -> FlexTensor {
        let shape = shape_of(&x, &weight);
        // Up to 8×8 burn's GEMM was as fast or faster (`cargo bench -p cpu-kernels`).
        if shape.height * shape.width <= 64 {
            return Self::conv2d_weight_backward(x, weight, grad, same_3x3());
        }
        let mut out = vec![0.0f32; shape.weight_len()];
        conv3x3_weight_grad(&f32_values(&x), &f32_values(&grad), shape, &mut out);
        f32_tensor(out, &[shape.c_out, shape.c_in, 3, 3])
    }
}

/// Stride 1, padding 1, dilation 1, one group: the 3×3 "same" convolution every op here is.
fn same_3x3() -> ConvOptions<2> {
    ConvOptions::new([1, 1], [1, 1], [1, 1], 1)
}

/// The convolution's sizes from its input `[N, C_in, H, W]` and weight `[C_out, C_in, 3, 3]`.
fn shape_of(x: &FlexTensor, weight: &FlexTensor) -> Conv3x3Shape {
    let [batch, c_in, height, width] = dims4(x);
    Conv3x3Shape {
        batch,
        c_in,
        c_out: dims4(weight)[0],
        height,
        width,
    }
}

pub(crate) fn dims4(t: &FlexTensor) -> [usize; 4] {
    t.layout().shape().dims::<4>()
}

/// A contiguous f32 tensor of `dims` holding `values`.
pub(crate) fn f32_tensor(values: Vec<f32>, dims: &[usize]) -> FlexTensor {
    FlexTensor::new(
        Bytes::from_elems(values),
        Layout::contiguous(Shape::from(dims.to_vec())),
        DType::F32,
    )
}

/// The tensor's values, without a copy where it is contiguous f32 already.
pub(crate) fn f32_values(t: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(values) => std::borrow::Cow::Borrowed(values),
        None => std::borrow::Cow::Owned(
            t.to_contiguous()
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .unwrap_or_default(),
        ),
    }
}

/// `act(conv2d(x, weight) + bias)` for a 3×3 convolution with stride 1 and padding 1: our
/// kernels on the Flex device ([`kernel_for`] picks), also while training (autodiff: the
/// backward pass of `crate::conv_autodiff` runs the input's gradient through them too);
/// burn's `conv2d` (+ `relu`) on any other device (WebGPU).
pub fn conv3x3_bias_act(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Tensor<1>,
    act_relu: bool,
) -> Tensor<4> {
    let dims = weight.dims();
    debug_assert_eq!([dims[2], dims[3]], [3, 3], "a 3×3 kernel");
    let [_, c_in, h, w] = x.dims();
    let f32s = [x.dtype(), weight.dtype(), bias.dtype()] == [DType::F32; 3];
    let ours = kernel_for(c_in, dims[0], h, w) != Conv3x3Kernel::Burn
        && x.device() == Device::flex()
        && f32s;
    if ours {
        let out = <Dispatch as Conv3x3Backend>::conv3x3_bias_act(
            x.into_dispatch(),
            weight.into_dispatch(),
            bias.into_dispatch(),
            act_relu,
        );
        return Tensor::from_dispatch(out);
    }
    let out = conv2d(x, weight, Some(bias), same_3x3());
    if act_relu { relu(out) } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The crossovers the benchmarks measured (BENCHMARKS.md), natively (the page's wasm:
    /// `tests/e2e/bench.test.mjs`).
    #[test]
    fn each_layer_gets_the_kernel_measured_fastest_for_it() {
        use Conv3x3Kernel::*;
        assert_eq!(kernel_for(32, 32, 128, 128), Winograd4);
        assert_eq!(kernel_for(64, 64, 64, 64), Winograd4);
        assert_eq!(kernel_for(128, 128, 32, 32), Winograd);
        assert_eq!(kernel_for(1, 32, 8, 8), Direct);
        if avx512_chosen() {
            assert_eq!(kernel_for(192, 192, 16, 16), Direct);
            assert_eq!(kernel_for(192, 192, 8, 8), Direct);
            assert_eq!(kernel_for(48, 48, 4, 4), Burn);
            // A wide but short image is tiled by its shorter side.
            assert_eq!(kernel_for(32, 32, 128, 16), Direct);
        } else {
            assert_eq!(kernel_for(192, 192, 16, 16), Winograd);
            assert_eq!(kernel_for(192, 192, 8, 8), Burn);
            assert_eq!(kernel_for(32, 32, 128, 16), Winograd);
        }
    }
}

//! The kernels as burn operations: a backend extension routed to Flex, and the fallback.

use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, backend_extension};
use burn::tensor::activation::relu;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Bytes, DType, Device, Shape, Tensor};

use std::sync::atomic::{AtomicBool, Ordering};

use crate::conv3x3::{Conv3x3Shape, conv3x3};

static DIRECT_CONV: AtomicBool = AtomicBool::new(true);

/// Turns the direct kernel off (every convolution then runs burn's), so benchmarks compare
/// both in one run.
pub fn set_direct_conv(enabled: bool) {
    DIRECT_CONV.store(enabled, Ordering::Relaxed);
}

/// Operations a backend runs with ProbSeg's own kernels.
#[backend_extension(Flex)]
pub trait Conv3x3Backend: Backend {
    /// `act(conv2d(x, weight) + bias)` for 3×3 kernels, stride 1, padding 1; `relu` picks the
    /// activation (ReLU or none).
    fn conv3x3_bias_act(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        relu: bool,
    ) -> FloatTensor<Self> {
        let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        let out = Self::conv2d(x, weight, Some(bias), options);
        if relu { Self::relu(out) } else { out }
    }
}

impl Conv3x3Backend for Flex {
    fn conv3x3_bias_act(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        relu: bool,
    ) -> FlexTensor {
        let [batch, c_in, height, width] = dims4(&x);
        let c_out = dims4(&weight)[0];
        let shape = Conv3x3Shape {
            batch,
            c_in,
            c_out,
            height,
            width,
        };
        let mut out = vec![0.0f32; shape.output_len()];
        conv3x3(
            &f32_values(&x),
            &f32_values(&weight),
            &f32_values(&bias),
            shape,
            relu,
            &mut out,
        );
        FlexTensor::new(
            Bytes::from_elems(out),
            Layout::contiguous(Shape::new([batch, c_out, height, width])),
            DType::F32,
        )
    }
}

fn dims4(t: &FlexTensor) -> [usize; 4] {
    t.layout().shape().dims::<4>()
}

/// The tensor's values, without a copy where it is contiguous f32 already.
fn f32_values(t: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
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

/// Where the direct kernel beats burn-flex's im2col + GEMM. Natively (two threads) its
/// advantage is the memory it does not move, which dominates when there are many pixels per
/// weight; GEMM wins when the reduction (9·c_in) is long and the image small: the bound is the
/// crossover measured by `cargo bench -p cpu-kernels` on the models' layer shapes. In wasm (one
/// thread, 128-bit vectors) the page's benchmark measured the kernel on every layer faster
/// than the native rule's mix (BENCHMARKS.md, *In the browser*).
pub fn direct_is_faster(c_in: usize, c_out: usize, h: usize, w: usize) -> bool {
    if cfg!(target_arch = "wasm32") {
        return true;
    }
    c_in <= 4 || c_in * c_out <= 8 * h * w
}

/// `act(conv2d(x, weight) + bias)` for a 3×3 convolution with stride 1 and padding 1: our
/// kernel on the Flex device where [`direct_is_faster`], burn's `conv2d` (+ `relu`) anywhere else — WebGPU, and
/// autodiff devices, whose backward pass needs burn's differentiable ops.
pub fn conv3x3_bias_act(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Tensor<1>,
    act_relu: bool,
) -> Tensor<4> {
    let dims = weight.dims();
    debug_assert_eq!([dims[2], dims[3]], [3, 3], "a 3×3 kernel");
    let plain = |t: DType, autodiff: bool| t == DType::F32 && !autodiff;
    let [_, c_in, h, w] = x.dims();
    let ours = DIRECT_CONV.load(Ordering::Relaxed)
        && direct_is_faster(c_in, dims[0], h, w)
        && x.device() == Device::flex()
        && plain(x.dtype(), x.is_autodiff())
        && plain(weight.dtype(), weight.is_autodiff())
        && plain(bias.dtype(), bias.is_autodiff());
    if ours {
        let out = <Dispatch as Conv3x3Backend>::conv3x3_bias_act(
            x.into_dispatch(),
            weight.into_dispatch(),
            bias.into_dispatch(),
            act_relu,
        );
        return Tensor::from_dispatch(out);
    }
    let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    let out = conv2d(x, weight, Some(bias), options);
    if act_relu { relu(out) } else { out }
}

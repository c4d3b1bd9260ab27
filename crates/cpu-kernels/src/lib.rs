//! ProbSeg's own CPU kernels, for the layers where burn's generic ones were measured too slow
//! (BENCHMARKS.md): a 3×3 convolution with its bias and ReLU fused, direct ([`conv3x3`]) and
//! by Winograd's F(2×2, 3×3) and F(4×4, 3×3) for the wide layers ([`winograd`]), and fcomb's
//! per-sample layers fused into one pass ([`fcomb`]), and the U-Net's pooling and upsampling
//! with its concatenation ([`resample`]).
//!
//! The kernels work on plain f32 slices ([`conv3x3::conv3x3`]) and reach models through
//! [`conv3x3_bias_act`], which runs them on burn's Flex (CPU) backend through a backend
//! extension — while training too, with a backward pass of its own (the input's gradient
//! through the same kernels, the weights' through [`weight_grad`]) — and falls back to burn's
//! own operations everywhere else (WebGPU), so a model calls one function whatever its device.

pub mod burn_op;
pub mod conv3x3;
mod conv_autodiff;
pub mod fcomb;
pub mod fcomb_op;
pub mod layers;
mod parallel;
pub mod resample;
pub mod resample_op;
mod vector;
pub mod weight_grad;
pub mod winograd;

pub use burn_op::{
    Conv3x3Backend, Conv3x3Kernel, conv3x3_bias_act, kernel_for, set_direct_conv, set_winograd,
    set_winograd4,
};
pub use conv3x3::{Conv3x3Shape, conv3x3_scalar};
pub use fcomb::{FcombHead, fcomb_margins, fcomb_margins_scalar};
pub use fcomb_op::{
    FcombBackend, FcombHeadTensors, FcombSizes, fcomb_head_margins, fused_fcomb, set_fused_fcomb,
};
pub use resample_op::{ResampleBackend, avg_pool2x2, set_resample_kernels, upsample2x_concat};
#[cfg(target_arch = "x86_64")]
pub use vector::set_avx512;
pub use winograd::{
    conv3x3_winograd, conv3x3_winograd_scalar, conv3x3_winograd4, conv3x3_winograd4_scalar,
};

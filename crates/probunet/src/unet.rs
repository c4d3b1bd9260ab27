//! The U-Net: a contracting encoder and an expanding decoder with skip connections.
//!
//! Layout and operations follow the paper's LIDC model as `shared/peers/probunet.py` builds it,
//! so PyTorch weights of that layout load one to one (see [`crate::weights`]):
//! every level is `convs_per_level` × (3×3 conv, padding 1, + ReLU); the encoder average-pools
//! 2×2 before every level but the first; the decoder upsamples bilinearly (half-pixel centres,
//! PyTorch's `align_corners = false`, see [`crate::upsample`]) to the skip's size, concatenates
//! the skip and convolves.

use burn::module::{Module, Param};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::init::{SeededRng, scaled_normal_conv};
use crate::upsample::upsample_concat;

/// How fresh parameters are filled: He-normal from a seeded host RNG, or zeros when they are
/// about to be overwritten by loaded weights (skips drawing 5 M random numbers).
pub(crate) enum Init<'a> {
    HeNormal(&'a mut SeededRng),
    Zeros,
}

/// A `k`×`k` convolution with "same" padding, its parameters filled by `init`.
pub(crate) fn conv(
    init: &mut Init,
    c_in: usize,
    c_out: usize,
    k: usize,
    device: &Device,
) -> Conv2d {
    conv_scaled(init, c_in, c_out, k, 2.0, device)
}

/// [`conv`] with weights N(0, `gain` / fan_in) (gain 2: He-normal).
pub(crate) fn conv_scaled(
    init: &mut Init,
    c_in: usize,
    c_out: usize,
    k: usize,
    gain: f64,
    device: &Device,
) -> Conv2d {
    let shape = [c_out, c_in, k, k];
    let (weight, bias) = match init {
        Init::HeNormal(rng) => scaled_normal_conv(rng, shape, gain, device),
        Init::Zeros => (Tensor::zeros(shape, device), Tensor::zeros([c_out], device)),
    };
    let p = k / 2;
    Conv2d {
        weight: Param::from_tensor(weight),
        bias: Some(Param::from_tensor(bias)),
        stride: [1, 1],
        kernel_size: [k, k],
        dilation: [1, 1],
        groups: 1,
        padding: PaddingConfig2d::Explicit(p, p, p, p),
    }
}

/// One resolution level: `n` × (3×3 conv + ReLU).
#[derive(Module, Debug)]
pub struct ConvBlock {
    pub convs: Vec<Conv2d>,
}

impl ConvBlock {
    pub(crate) fn new(
        init: &mut Init,
        c_in: usize,
        c_out: usize,
        n: usize,
        device: &Device,
    ) -> Self {
        let convs = (0..n)
            .map(|i| conv(init, if i == 0 { c_in } else { c_out }, c_out, 3, device))
            .collect();
        Self { convs }
    }

    pub fn forward(&self, mut x: Tensor<4>) -> Tensor<4> {
        for conv in &self.convs {
            x = conv_act(conv, x, true);
        }
        x
    }
}

/// `conv` on `x`, then ReLU if `relu`: a 3×3 "same" convolution goes through ProbSeg's own CPU
/// kernel with bias and ReLU fused ([`cpu_kernels::conv3x3_bias_act`]: on the CPU, training
/// included; burn's ops on other devices); any other through burn's.
pub(crate) fn conv_act(conv: &Conv2d, x: Tensor<4>, act: bool) -> Tensor<4> {
    let same_3x3 = conv.kernel_size == [3, 3]
        && conv.stride == [1, 1]
        && conv.dilation == [1, 1]
        && conv.groups == 1
        && conv.padding == PaddingConfig2d::Explicit(1, 1, 1, 1);
    match &conv.bias {
        Some(bias) if same_3x3 => {
            cpu_kernels::conv3x3_bias_act(x, conv.weight.val(), bias.val(), act)
        }
        _ if act => relu(conv.forward(x)),
        _ => conv.forward(x),
    }
}

/// The contracting path; also the body of the prior and posterior nets.
#[derive(Module, Debug)]
pub struct Encoder {
    pub blocks: Vec<ConvBlock>,
}

impl Encoder {
    pub(crate) fn new(
        init: &mut Init,
        in_channels: usize,
        filters: &[usize],
        convs_per_level: usize,
        device: &Device,
    ) -> Self {
        let mut c = in_channels;
        let blocks = filters
            .iter()
            .map(|&f| {
                let block = ConvBlock::new(init, c, f, convs_per_level, device);
                c = f;
                block
            })
            .collect();
        Self { blocks }
    }

    /// Feature maps of every level, full resolution first.
    pub fn forward(&self, mut x: Tensor<4>) -> Vec<Tensor<4>> {
        let mut features = Vec::with_capacity(self.blocks.len());
        for (i, block) in self.blocks.iter().enumerate() {
            if i > 0 {
                x = cpu_kernels::avg_pool2x2(x);
            }
            x = block.forward(x);
            features.push(x.clone());
        }
        features
    }

    /// Only the deepest feature map (what the prior and posterior use).
    pub fn forward_deepest(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward(x)
            .pop()
            .expect("an encoder has at least one level")
    }
}

/// The expanding path, deepest level first.
#[derive(Module, Debug)]
pub struct Decoder {
    pub blocks: Vec<ConvBlock>,
}

impl Decoder {
    pub(crate) fn new(
        init: &mut Init,
        filters: &[usize],
        convs_per_level: usize,
        device: &Device,
    ) -> Self {
        let blocks = (0..filters.len().saturating_sub(1))
            .rev()
            .map(|lvl| {
                let c_in = filters[lvl + 1] + filters[lvl];
                ConvBlock::new(init, c_in, filters[lvl], convs_per_level, device)
            })
            .collect();
        Self { blocks }
    }

    /// Takes the encoder's feature maps and returns the full-resolution map (`filters[0]` ch).
    pub fn forward(&self, mut features: Vec<Tensor<4>>) -> Tensor<4> {
        let mut x = features.pop().expect("an encoder has at least one level");
        for block in &self.blocks {
            let skip = features.pop().expect("one skip per decoder level");
            x = block.forward(upsample_concat(x, skip));
        }
        x
    }
}

/// Encoder + decoder: image → `filters[0]`-channel features at the input resolution.
#[derive(Module, Debug)]
pub struct UNet {
    pub encoder: Encoder,
    pub decoder: Decoder,
}

impl UNet {
    pub(crate) fn new(
        init: &mut Init,
        in_channels: usize,
        filters: &[usize],
        convs_per_level: usize,
        device: &Device,
    ) -> Self {
        Self {
            encoder: Encoder::new(init, in_channels, filters, convs_per_level, device),
            decoder: Decoder::new(init, filters, convs_per_level, device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.decoder.forward(self.encoder.forward(x))
    }
}

//! fcomb: combines the U-Net's features with a latent sample z into segmentation logits.
//!
//! The paper tiles z over the feature map, concatenates and applies 1×1 convolutions. The first
//! of those is linear in its input, so with `W = [W_f | W_z]` split by input channel,
//!
//! `W · [f ; z] + b = (W_f · f + b) + W_z · z`.
//!
//! `W_f · f + b` (the *projection*) depends only on the image and is computed once per image by
//! [`Fcomb::project`]; each sample adds the per-channel constant `W_z · z` (a tiny matmul) and
//! runs the remaining 1×1 convs. [`Fcomb::forward_concat`] is the paper's literal path, kept as
//! the reference the fast path is tested against. [`Fcomb::margins`] is what inference needs of
//! a two-class model (foreground minus background logit), through `cpu_kernels`' fused head:
//! the per-sample layers in one pass, without a tensor per layer.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::activation::relu;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor};
use cpu_kernels::{FcombHeadTensors, fcomb_head_margins, fused_fcomb};

use crate::unet::{Init, conv};

/// `fcomb_layers` hidden 1×1 convs (+ ReLU), then the output 1×1 conv; `layers.last()` is the
/// output layer.
#[derive(Module, Debug)]
pub struct Fcomb {
    pub layers: Vec<Conv2d>,
}

impl Fcomb {
    pub(crate) fn new(
        init: &mut Init,
        feature_channels: usize,
        latent_dim: usize,
        hidden: usize,
        hidden_layers: usize,
        num_classes: usize,
        device: &Device,
    ) -> Self {
        let mut c = feature_channels + latent_dim;
        let mut layers = Vec::with_capacity(hidden_layers + 1);
        for _ in 0..hidden_layers {
            layers.push(conv(init, c, hidden, 1, device));
            c = hidden;
        }
        layers.push(conv(init, c, num_classes, 1, device));
        Self { layers }
    }

    /// Channels of the first layer's output (what [`Self::project`] returns).
    pub fn projection_channels(&self) -> usize {
        self.layers[0].weight.dims()[0]
    }

    /// The literal path: tile z, concatenate, run every layer.
    ///
    /// `features`: `[1 or N, C, H, W]` (a single image is shared by all N samples);
    /// `z`: `[N, M]`. Returns logits `[N, classes, H, W]`.
    pub fn forward_concat(&self, features: Tensor<4>, z: Tensor<2>) -> Tensor<4> {
        let [n, m] = z.dims();
        let [b, _, h, w] = features.dims();
        let features = broadcast_batch(features, b, n);
        let tiled = z.reshape([n, m, 1, 1]).expand([n, m, h, w]);
        let mut x = Tensor::cat(vec![features, tiled], 1);
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = relu(x);
            }
        }
        x
    }

    /// `W_f · features + b` for the first layer: `[B, C, H, W]` → `[B, P, H, W]`. Once per image.
    pub fn project(&self, features: Tensor<4>) -> Tensor<4> {
        let first = &self.layers[0];
        let c = features.dims()[1];
        let w_f = first.weight.val().narrow(1, 0, c);
        let bias = first.bias.as_ref().map(|b| b.val());
        conv2d(
            features,
            w_f,
            bias,
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        )
    }

    /// The per-sample part of the first layer, `W_z · z`: `[N, M]` → `[N, P]`.
    pub fn latent_offset(&self, z: Tensor<2>) -> Tensor<2> {
        let weight = self.layers[0].weight.val();
        let [p, c_in, _, _] = weight.dims();
        let m = z.dims()[1];
        let w_z = weight.narrow(1, c_in - m, m).reshape([p, m]);
        z.matmul(w_z.transpose())
    }

    /// The fast path: `projection` from [`Self::project`] (`[1 or N, P, H, W]`), `z`: `[N, M]`.
    /// Equal to [`Self::forward_concat`] up to float rounding.
    pub fn forward_projected(&self, projection: Tensor<4>, z: Tensor<2>) -> Tensor<4> {
        let [n, _] = z.dims();
        let [b, p, h, w] = projection.dims();
        let offset = self
            .latent_offset(z)
            .reshape([n, p, 1, 1])
            .expand([n, p, h, w]);
        let mut x = broadcast_batch(projection, b, n) + offset;
        for layer in &self.layers[1..] {
            x = layer.forward(relu(x));
        }
        x
    }
}

impl Fcomb {
    /// Margins `[N, H·W]` — foreground minus background logit, positive where the mask is
    /// drawn — for latents `z` `[N, M]` on one image's `projection` `[1, P, H, W]`. The fused
    /// head on the CPU where no gradient is tracked; [`Self::forward_projected`] otherwise
    /// (WebGPU, autodiff, a head without hidden layers, or a benchmark that turned it off). Equal to the margin of `forward_projected` up to float
    /// rounding.
    ///
    /// # Panics
    /// If the model does not have two classes or `projection` holds more than one image.
    pub fn margins(&self, projection: Tensor<4>, z: Tensor<2>) -> Tensor<2> {
        let [b, _, h, w] = projection.dims();
        let n = z.dims()[0];
        assert_eq!(b, 1, "margins decode one image's projection");
        let output = self.layers.last().expect("fcomb has an output layer");
        assert_eq!(output.weight.dims()[0], 2, "margins need two classes");
        // On the CPU only. On WebGPU the extension's default (burn's batched matmuls) made the
        // page's first samples on the e2e suite's software adapter take over three minutes;
        // the layers are what ran there before, and a GPU gains nothing from the fusion.
        let fused = fused_fcomb()
            && self.layers.len() > 2
            && projection.device() == Device::flex()
            && !projection.is_autodiff()
            && !z.is_autodiff();
        if !fused {
            let logits = self.forward_projected(projection, z);
            return (logits.clone().narrow(1, 1, 1) - logits.narrow(1, 0, 1)).reshape([n, h * w]);
        }
        let offsets = self.latent_offset(z);
        fcomb_head_margins(projection, offsets, self.head_tensors())
    }

    /// The layers after the first as the fused head takes them.
    fn head_tensors(&self) -> FcombHeadTensors {
        let p = self.projection_channels();
        let (output, hidden) = self.layers[1..].split_last().expect("an output layer");
        let bias = |layer: &Conv2d| match &layer.bias {
            Some(b) => b.val(),
            None => Tensor::zeros([layer.weight.dims()[0]], &layer.weight.device()),
        };
        let out_weight = output.weight.val().reshape([2, p]);
        let out_bias = bias(output);
        FcombHeadTensors {
            hidden_weights: Tensor::stack(
                hidden
                    .iter()
                    .map(|layer| layer.weight.val().reshape([p, p]))
                    .collect(),
                0,
            ),
            hidden_biases: Tensor::stack(hidden.iter().map(bias).collect(), 0),
            margin_weight: out_weight.clone().narrow(0, 1, 1) - out_weight.narrow(0, 0, 1),
            margin_bias: (out_bias.clone().narrow(0, 1, 1) - out_bias.narrow(0, 0, 1))
                .reshape([1, 1]),
        }
    }
}

/// `[1, ...]` → `[n, ...]` by broadcasting; `[n, ...]` unchanged.
fn broadcast_batch(x: Tensor<4>, b: usize, n: usize) -> Tensor<4> {
    let [_, c, h, w] = x.dims();
    if b == n {
        x
    } else {
        assert_eq!(
            b, 1,
            "features of {b} images cannot be paired with {n} latents"
        );
        x.expand([n, c, h, w])
    }
}

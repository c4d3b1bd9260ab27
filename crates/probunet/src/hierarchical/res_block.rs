//! The hierarchical model's building blocks: pre-activated residual blocks, the levels they
//! form, and the 2× resampling between levels.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::unet::{Init, conv_act, conv_scaled};

/// LeCun-normal (variance 1/fan_in): the second moment of the released code's orthogonal
/// initialiser. He-normal would double the activations' variance at every residual sum
/// (nothing normalises them), 2^14 over the small preset's encoder.
const GAIN: f64 = 1.0;

/// A 3×3 or 1×1 convolution of the hierarchical model.
pub(crate) fn conv(
    init: &mut Init,
    c_in: usize,
    c_out: usize,
    k: usize,
    device: &Device,
) -> Conv2d {
    conv_scaled(init, c_in, c_out, k, GAIN, device)
}

/// ReLU, then `convs` 3×3 convolutions at the inner width with ReLUs between them, added to the
/// input (through a 1×1 projection where the channel count changes; a 1×1 conv lifts the
/// residual back from the inner width).
#[derive(Module, Debug)]
pub struct ResBlock {
    pub convs: Vec<Conv2d>,
    /// 1×1 projection of the input, only where `c_in ≠ c_out`.
    pub skip: Option<Conv2d>,
    /// 1×1 from the inner width to `c_out`, only where they differ.
    pub lift: Option<Conv2d>,
}

impl ResBlock {
    pub(crate) fn new(
        init: &mut Init,
        [c_in, c_out, c_down]: [usize; 3],
        convs: usize,
        device: &Device,
    ) -> Self {
        let convs = (0..convs)
            .map(|i| conv(init, if i == 0 { c_in } else { c_down }, c_down, 3, device))
            .collect();
        let skip = (c_in != c_out).then(|| conv(init, c_in, c_out, 1, device));
        let lift = (c_down != c_out).then(|| conv(init, c_down, c_out, 1, device));
        Self { convs, skip, lift }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut residual = relu(x.clone());
        let last = self.convs.len() - 1;
        for (i, conv) in self.convs.iter().enumerate() {
            residual = conv_act(conv, residual, i < last);
        }
        if let Some(lift) = &self.lift {
            residual = lift.forward(residual);
        }
        let skip = match &self.skip {
            Some(skip) => skip.forward(x),
            None => x,
        };
        skip + residual
    }
}

/// The residual blocks of one resolution level.
#[derive(Module, Debug)]
pub struct Level {
    pub blocks: Vec<ResBlock>,
}

impl Level {
    /// `n` blocks from `c_in` to `c_out` channels (inner width `c_down`).
    pub(crate) fn new(
        init: &mut Init,
        [c_in, c_out, c_down]: [usize; 3],
        n: usize,
        convs: usize,
        device: &Device,
    ) -> Self {
        let blocks = (0..n)
            .map(|i| {
                let input = if i == 0 { c_in } else { c_out };
                ResBlock::new(init, [input, c_out, c_down], convs, device)
            })
            .collect();
        Self { blocks }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.blocks.iter().fold(x, |x, block| block.forward(x))
    }
}

/// 2×2 average pooling (ProbSeg's kernel on the CPU at inference).
pub fn down(x: Tensor<4>) -> Tensor<4> {
    cpu_kernels::avg_pool2x2(x)
}

/// Nearest-neighbour ×2 upsampling, as a reshape (exact and differentiable on every backend).
pub fn up(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h, 1, w, 1])
        .expand([b, c, h, 2, w, 2])
        .reshape([b, c, 2 * h, 2 * w])
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn up_repeats_each_pixel_and_down_undoes_it() {
        let d = Device::flex();
        let x = Tensor::<4>::from_data(TensorData::new(vec![1f32, 2., 3., 4.], [1, 1, 2, 2]), &d);
        let u: Vec<f32> = up(x.clone()).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(
            u,
            [
                1., 1., 2., 2., 1., 1., 2., 2., 3., 3., 4., 4., 3., 3., 4., 4.
            ]
        );
        let back: Vec<f32> = down(up(x.clone())).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(back, [1., 2., 3., 4.]);
    }
}

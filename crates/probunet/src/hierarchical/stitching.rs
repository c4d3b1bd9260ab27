//! The plain decoder below the latent scales: upsample, join the encoder's skip, residual
//! blocks, up to full resolution; then a 1×1 conv to the logits.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor};

use super::config::HpuNetConfig;
use super::res_block::{Level, conv, up};
use crate::unet::Init;

#[derive(Module, Debug)]
pub struct StitchingDecoder {
    /// Coarsest first.
    pub levels: Vec<Level>,
    pub logits: Conv2d,
}

impl StitchingDecoder {
    pub(crate) fn new(init: &mut Init, c: &HpuNetConfig, device: &Device) -> Self {
        let first = c.levels() - 1 - c.latent_levels();
        let levels = (0..first)
            .rev()
            .map(|l| {
                let widths = [
                    c.channels[l + 1] + c.channels[l],
                    c.channels[l],
                    c.down_channels[l],
                ];
                Level::new(init, widths, c.blocks_per_level, c.convs_per_block, device)
            })
            .collect();
        let logits = conv(init, c.channels[0], c.num_classes, 1, device);
        Self { levels, logits }
    }

    /// Logits from the latent decoder's output and the encoder's features (full resolution
    /// first).
    pub fn forward(&self, mut x: Tensor<4>, encoder: &[Tensor<4>]) -> Tensor<4> {
        for (i, level) in self.levels.iter().enumerate() {
            let skip = encoder[self.levels.len() - 1 - i].clone();
            x = level.forward(Tensor::cat(vec![up(x), skip], 1));
        }
        self.logits.forward(x)
    }
}

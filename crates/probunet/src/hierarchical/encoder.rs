//! The contracting path of the prior and of the posterior: residual levels, 2×2 average
//! pooling between them.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::config::HpuNetConfig;
use super::res_block::{Level, down};
use crate::unet::Init;

#[derive(Module, Debug)]
pub struct ResEncoder {
    pub levels: Vec<Level>,
}

impl ResEncoder {
    pub(crate) fn new(
        init: &mut Init,
        c: &HpuNetConfig,
        in_channels: usize,
        device: &Device,
    ) -> Self {
        let levels = (0..c.levels())
            .map(|l| {
                let c_in = if l == 0 {
                    in_channels
                } else {
                    c.channels[l - 1]
                };
                let widths = [c_in, c.channels[l], c.down_channels[l]];
                Level::new(init, widths, c.blocks_per_level, c.convs_per_block, device)
            })
            .collect();
        Self { levels }
    }

    /// Every level's output, full resolution first.
    pub fn forward(&self, mut x: Tensor<4>) -> Vec<Tensor<4>> {
        let mut features = Vec::with_capacity(self.levels.len());
        for (i, level) in self.levels.iter().enumerate() {
            if i > 0 {
                x = down(x);
            }
            x = level.forward(x);
            features.push(x.clone());
        }
        features
    }
}

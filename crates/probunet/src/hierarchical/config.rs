//! The hierarchical model's hyper-parameters and presets.

use burn::config::Config;
use imaging::InputContract;

/// Largest parameter count a config may describe (as for [`crate::ProbUNetConfig`]).
const MAX_PARAMS: u64 = 1 << 30;

/// Architecture of a hierarchical probabilistic U-Net (Kohl et al., 2019).
///
/// `channels.len()` resolution levels, finest first, each `blocks_per_level` pre-activated
/// residual blocks (inner width `down_channels`, `convs_per_block` 3×3 convs); 2×2 average
/// pooling between levels, nearest ×2 upsampling back. The decoder's `latent_dims.len()`
/// coarsest scales each carry a per-pixel diagonal Gaussian latent of `latent_dims[l]`
/// channels (coarsest first); the finer scales are decoded without latents ("stitching").
#[derive(Config, Debug, PartialEq)]
pub struct HpuNetConfig {
    /// Image channels (1 for CT/MR slices).
    #[config(default = 1)]
    pub in_channels: usize,
    /// Segmentation classes (2: background and lesion).
    #[config(default = 2)]
    pub num_classes: usize,
    /// Output channels of every level, full resolution first.
    pub channels: Vec<usize>,
    /// Inner width of each level's residual blocks (the released code: half of `channels`).
    pub down_channels: Vec<usize>,
    /// 3×3 convolutions on a residual branch.
    #[config(default = 3)]
    pub convs_per_block: usize,
    /// Residual blocks per level, in the encoders and the decoders.
    #[config(default = 3)]
    pub blocks_per_level: usize,
    /// Latent channels per latent scale, coarsest first.
    pub latent_dims: Vec<usize>,
    /// How images and masks are prepared for this model (the data it was trained on).
    pub input: Option<InputContract>,
}

impl HpuNetConfig {
    /// The released code's LIDC model at 128²: 8 levels 24…192 channels, 3 blocks of 3 convs
    /// per level, one latent channel at 1², 2², 4² and 8².
    pub fn paper() -> Self {
        Self::with_halved(vec![24, 48, 96, 192, 192, 192, 192, 192], vec![1; 4])
    }

    /// The page's model at 64²: 7 levels 12…96 channels, 2 blocks per level, the paper's four
    /// one-channel latent scales (1² to 8²).
    ///
    /// Why: a quarter of the paper's per-pixel width and two blocks instead of three cut the
    /// FLOPs per image below the small probabilistic U-Net's, so both train on this CPU in the
    /// same wall time; one level less keeps the coarsest scale at 1² for the LIDC contract's 64²
    /// input, so the global latent is still one number per image.
    pub fn small() -> Self {
        Self::with_halved(vec![12, 24, 48, 96, 96, 96, 96], vec![1; 4]).with_blocks_per_level(2)
    }

    /// A toy model for fast tests: 4 levels, 1 block of 2 convs, latents at the two coarsest.
    pub fn tiny() -> Self {
        Self::with_halved(vec![4, 8, 8, 8], vec![1, 1])
            .with_blocks_per_level(1)
            .with_convs_per_block(2)
    }

    fn with_halved(channels: Vec<usize>, latent_dims: Vec<usize>) -> Self {
        let down = channels.iter().map(|c| (c / 2).max(1)).collect();
        Self::new(channels, down, latent_dims)
    }

    /// The model-input contract: the stored one, else LIDC's at 64² (this model has no
    /// weights from before the contract existed).
    pub fn contract(&self) -> InputContract {
        self.input
            .clone()
            .unwrap_or_else(|| InputContract::lidc(64, 1.0))
    }

    /// Number of resolution levels.
    pub fn levels(&self) -> usize {
        self.channels.len()
    }

    /// Number of scales with a latent.
    pub fn latent_levels(&self) -> usize {
        self.latent_dims.len()
    }

    /// Input sizes must be divisible by this (one 2×2 pooling per level below the first).
    pub fn size_divisor(&self) -> usize {
        1 << (self.levels() - 1)
    }

    /// Number of parameters, from the layout alone (checked before anything is built).
    pub fn num_params(&self) -> usize {
        usize::try_from(self.param_count()).unwrap_or(usize::MAX)
    }

    fn param_count(&self) -> u64 {
        let conv = |c_in: usize, c_out: usize, k: u64| {
            (c_out as u64)
                .saturating_mul(c_in as u64)
                .saturating_mul(k * k)
                .saturating_add(c_out as u64)
        };
        let n = self.convs_per_block as u64;
        let block = |c_in: usize, level: usize| {
            let (out, down) = (self.channels[level], self.down_channels[level]);
            let mut p = conv(c_in, down, 3)
                .saturating_add(n.saturating_sub(1).saturating_mul(conv(down, down, 3)));
            if c_in != out {
                p = p.saturating_add(conv(c_in, out, 1));
            }
            if down != out {
                p = p.saturating_add(conv(down, out, 1));
            }
            p
        };
        let k = self.blocks_per_level as u64;
        let stack = |c_in: usize, level: usize| {
            block(c_in, level).saturating_add(
                k.saturating_sub(1)
                    .saturating_mul(block(self.channels[level], level)),
            )
        };
        let encoder = |c_in: usize| {
            (0..self.levels()).fold(0u64, |sum, level| {
                let input = if level == 0 {
                    c_in
                } else {
                    self.channels[level - 1]
                };
                sum.saturating_add(stack(input, level))
            })
        };
        let top = self.levels() - 1;
        // Latent scale l predicts at level top − l and, except the posterior's last, decodes
        // into level top − l − 1.
        let latent_decoder = |with_last_blocks: bool| {
            (0..self.latent_levels()).fold(0u64, |sum, l| {
                let level = top - l;
                let mut p = conv(self.channels[level], 2 * self.latent_dims[l], 1);
                if with_last_blocks || l + 1 < self.latent_levels() {
                    let c_in =
                        self.latent_dims[l] + self.channels[level] + self.channels[level - 1];
                    p = p.saturating_add(stack(c_in, level - 1));
                }
                sum.saturating_add(p)
            })
        };
        let first_stitched = top.saturating_sub(self.latent_levels());
        let stitching = (0..first_stitched).fold(0u64, |sum, level| {
            sum.saturating_add(stack(
                self.channels[level + 1] + self.channels[level],
                level,
            ))
        });
        [
            encoder(self.in_channels),
            latent_decoder(true),
            encoder(self.in_channels + self.num_classes),
            latent_decoder(false),
            stitching,
            conv(self.channels[0], self.num_classes, 1),
        ]
        .into_iter()
        .fold(0, u64::saturating_add)
    }

    /// Checks the values are usable; [`super::HierarchicalProbUNet::new_seeded`] refuses a
    /// config that is not.
    pub fn check(&self) -> Result<(), HpuNetConfigError> {
        let bad = |what: String| Err(HpuNetConfigError(what));
        if self.in_channels != 1 || self.num_classes != 2 {
            return bad(format!(
                "the model reads {} channels into {} classes; ProbSeg's models read one grey channel into foreground and background",
                self.in_channels, self.num_classes
            ));
        }
        let levels = self.levels();
        if !(2..=16).contains(&levels) {
            return bad(format!(
                "{levels} levels: a hierarchical U-Net needs 2 to 16"
            ));
        }
        if self.down_channels.len() != levels {
            return bad(format!(
                "{} inner widths for {levels} levels",
                self.down_channels.len()
            ));
        }
        if !(1..levels).contains(&self.latent_levels()) {
            return bad(format!(
                "{} latent scales for {levels} levels: at least one, at most one fewer than the levels",
                self.latent_levels()
            ));
        }
        let widths = self
            .channels
            .iter()
            .chain(&self.down_channels)
            .chain(&self.latent_dims);
        if widths.clone().any(|&c| c == 0 || c > 1 << 16) {
            return bad("every width must be between 1 and 65536".into());
        }
        if !(1..=64).contains(&self.convs_per_block) || !(1..=64).contains(&self.blocks_per_level) {
            return bad("convs_per_block and blocks_per_level must be between 1 and 64".into());
        }
        if self.param_count() > MAX_PARAMS {
            return bad(format!(
                "the config describes {} parameters, beyond any model this app runs (at most {MAX_PARAMS})",
                self.param_count()
            ));
        }
        if let Some(input) = &self.input {
            input
                .check()
                .map_err(|e| HpuNetConfigError(e.to_string()))?;
            if !(input.model_side as usize).is_multiple_of(self.size_divisor()) {
                return bad(
                    "the input contract's model side is not divisible by 2^(levels−1)".into(),
                );
            }
        }
        Ok(())
    }
}

/// A [`HpuNetConfig`] that describes no usable model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid hierarchical model config: {0}")]
pub struct HpuNetConfigError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid() {
        for c in [
            HpuNetConfig::paper(),
            HpuNetConfig::small(),
            HpuNetConfig::tiny(),
        ] {
            c.check().unwrap();
        }
        assert_eq!(HpuNetConfig::paper().size_divisor(), 128);
        assert_eq!(HpuNetConfig::small().size_divisor(), 64);
    }

    #[test]
    fn nonsense_is_refused() {
        let c = HpuNetConfig::tiny();
        let latents = |latent_dims| HpuNetConfig {
            latent_dims,
            ..c.clone()
        };
        assert!(latents(vec![1; 4]).check().is_err());
        assert!(latents(vec![]).check().is_err());
        let down = HpuNetConfig {
            down_channels: vec![2],
            ..c.clone()
        };
        assert!(down.check().is_err());
        assert!(c.clone().with_num_classes(3).check().is_err());
        let huge = HpuNetConfig::with_halved(vec![65_536; 16], vec![1]).with_blocks_per_level(64);
        assert!(huge.check().unwrap_err().0.contains("beyond any model"));
    }
}

//! The model's hyper-parameters and its three presets.

use burn::config::Config;
use imaging::InputContract;

/// Largest parameter count a config may describe (1 G: 4 GB of f32 weights); the paper's
/// model has 5 M. Checked before anything is allocated.
const MAX_PARAMS: u64 = 1 << 30;

/// Architecture of a probabilistic U-Net (Kohl et al., 2018).
///
/// The U-Net, the prior net p(z|x) and the posterior net q(z|x,y) share one encoder design:
/// `filters.len()` resolution levels of `convs_per_level` × (3×3 conv + ReLU), 2×2 average
/// pooling before every level but the first. fcomb tiles z over the last decoder map
/// (`filters[0]` channels), then `fcomb_layers` × (1×1 conv to `fcomb_channels` + ReLU) and a
/// 1×1 conv to `num_classes` logits.
#[derive(Config, Debug, PartialEq)]
pub struct ProbUNetConfig {
    /// Image channels (1 for CT/MR slices).
    #[config(default = 1)]
    pub in_channels: usize,
    /// Segmentation classes (2: background and lesion).
    #[config(default = 2)]
    pub num_classes: usize,
    /// Filters per resolution level, full resolution first.
    pub filters: Vec<usize>,
    /// 3×3 conv + ReLU layers per level, in the encoders and the decoder.
    #[config(default = 3)]
    pub convs_per_level: usize,
    /// Dimension M of the latent space.
    #[config(default = 6)]
    pub latent_dim: usize,
    /// Width of fcomb's hidden 1×1 convolutions.
    #[config(default = 32)]
    pub fcomb_channels: usize,
    /// Number of hidden 1×1 conv + ReLU layers in fcomb (the output conv comes on top).
    #[config(default = 3)]
    pub fcomb_layers: usize,
    /// How images and masks are prepared for this model (the data it was trained on). Weights
    /// written before the contract existed carry none: [`ProbUNetConfig::contract`] then gives
    /// the synthetic benchmark's, the only data those were trained on.
    pub input: Option<InputContract>,
}

impl ProbUNetConfig {
    /// The paper's LIDC configuration, exactly as `shared/peers/probunet.py` builds it:
    /// filters [32, 64, 128, 192], 3 convs per level, latent 6, fcomb 3 × 32 — 4,999,770 parameters.
    pub fn paper() -> Self {
        Self::new(vec![32, 64, 128, 192])
    }

    /// The model the web page ships: half the paper's width at every level, same depth and latent.
    ///
    /// Why: a 3×3 conv costs ∝ c_in·c_out, so halving every width cuts the U-Net and prior
    /// FLOPs and the parameters about 4× (the browser's CPU path runs several times slower than
    /// native, and every parameter is downloaded). Four levels and 3 convs per level keep the
    /// paper's receptive field (the lesion's context), and the latent stays 6-D so the latent
    /// map and sample diversity behave like the paper's. fcomb stays 32 wide: it is cheap.
    /// BENCHMARKS.md and the README's tables measure the choice.
    pub fn small() -> Self {
        Self::new(vec![16, 32, 64, 96])
    }

    /// A toy model for fast tests (3 levels, 2 convs each, latent 2): trains in seconds at 16².
    pub fn tiny() -> Self {
        Self::new(vec![8, 16, 32])
            .with_convs_per_level(2)
            .with_latent_dim(2)
            .with_fcomb_channels(16)
    }

    /// The model-input contract: the stored one, else the synthetic benchmark's at 64² with
    /// β 0.25 (what every model before the contract was trained on and finished with).
    pub fn contract(&self) -> InputContract {
        self.input
            .clone()
            .unwrap_or_else(|| InputContract::synthetic(64, 0.25))
    }

    /// Number of resolution levels.
    pub fn levels(&self) -> usize {
        self.filters.len()
    }

    /// Channels of the U-Net's output features (the last decoder map), fcomb's input.
    pub fn feature_channels(&self) -> usize {
        self.filters[0]
    }

    /// Input sizes must be divisible by this (one 2×2 pooling per level below the first).
    pub fn size_divisor(&self) -> usize {
        1 << (self.levels() - 1)
    }

    /// Number of parameters a model of this configuration has, computed from the layout alone
    /// (lets a weights loader check a file's tensors fit before building anything). Saturates
    /// at `usize::MAX` rather than wrapping (a hostile config on wasm32's 32-bit `usize`).
    pub fn num_params(&self) -> usize {
        usize::try_from(self.param_count()).unwrap_or(usize::MAX)
    }

    /// [`ProbUNetConfig::num_params`] in saturating 64-bit arithmetic.
    fn param_count(&self) -> u64 {
        let conv = |c_in: usize, c_out: usize, k: usize| {
            (c_out as u64)
                .saturating_mul(c_in as u64)
                .saturating_mul((k * k) as u64)
                .saturating_add(c_out as u64)
        };
        let f = &self.filters;
        let n = self.convs_per_level as u64;
        let level = |c_in: usize, c_out: usize| {
            conv(c_in, c_out, 3)
                .saturating_add(n.saturating_sub(1).saturating_mul(conv(c_out, c_out, 3)))
        };
        let encoder = |c_in: usize| {
            let mut c = c_in;
            f.iter().fold(0u64, |sum, &out| {
                let p = level(c, out);
                c = out;
                sum.saturating_add(p)
            })
        };
        let decoder = (0..f.len().saturating_sub(1)).fold(0u64, |sum, l| {
            sum.saturating_add(level(f[l + 1] + f[l], f[l]))
        });
        let last = f.last().copied().unwrap_or(0);
        let gaussian =
            |c_in: usize| encoder(c_in).saturating_add(conv(last, 2 * self.latent_dim, 1));
        let mut c = f.first().copied().unwrap_or(0) + self.latent_dim;
        let mut fcomb = 0u64;
        for _ in 0..self.fcomb_layers {
            fcomb = fcomb.saturating_add(conv(c, self.fcomb_channels, 1));
            c = self.fcomb_channels;
        }
        fcomb = fcomb.saturating_add(conv(c, self.num_classes, 1));
        [
            encoder(self.in_channels),
            decoder,
            gaussian(self.in_channels),
            gaussian(self.in_channels + self.num_classes),
            fcomb,
        ]
        .into_iter()
        .fold(0, u64::saturating_add)
    }

    /// Checks the values are usable; [`crate::ProbUNet::new`] refuses a config that is not.
    pub fn check(&self) -> Result<(), ConfigError> {
        let bad = |what: &str| Err(ConfigError(what.to_string()));
        if self.filters.is_empty() {
            return bad("filters must name at least one level");
        }
        if self.filters.contains(&0) {
            return bad("every level needs at least one filter");
        }
        if self.latent_dim == 0 {
            return bad("latent_dim must be ≥ 1");
        }
        // Every input contract (imaging::InputContract) yields one grey channel, and the page,
        // the metrics and the masks are foreground against background: a model built for
        // anything else would load and then fail at its first convolution.
        if self.in_channels != 1 {
            return Err(ConfigError(format!(
                "the model reads {}-channel images; ProbSeg feeds its models one grey channel",
                self.in_channels
            )));
        }
        if self.num_classes != 2 {
            return Err(ConfigError(format!(
                "the model predicts {} classes; ProbSeg's models segment foreground against background (2)",
                self.num_classes
            )));
        }
        if self.convs_per_level == 0 || self.fcomb_channels == 0 {
            return bad("convs_per_level and fcomb_channels must be ≥ 1");
        }
        if self.filters.len() > 16 {
            return bad("more than 16 levels is not a U-Net anyone can run");
        }
        let too_big = |v: usize| v > 1 << 16;
        if self.filters.iter().any(|&f| too_big(f))
            || [
                self.in_channels,
                self.num_classes,
                self.latent_dim,
                self.fcomb_channels,
            ]
            .into_iter()
            .any(too_big)
            || self.convs_per_level > 64
            || self.fcomb_layers > 64
        {
            return bad(
                "a width or depth is beyond any sensible model (over 65536 channels or 64 layers)",
            );
        }
        if self.param_count() > MAX_PARAMS {
            return Err(ConfigError(format!(
                "the config describes {} parameters, beyond any model this app runs (at most {MAX_PARAMS})",
                self.param_count()
            )));
        }
        if let Some(input) = &self.input {
            input.check().map_err(|e| ConfigError(e.to_string()))?;
            if !(input.model_side as usize).is_multiple_of(self.size_divisor()) {
                return bad("the input contract's model side is not divisible by 2^(levels−1)");
            }
        }
        Ok(())
    }
}

/// A [`ProbUNetConfig`] that describes no usable model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid ProbUNetConfig: {0}")]
pub struct ConfigError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_distinct() {
        for c in [
            ProbUNetConfig::paper(),
            ProbUNetConfig::small(),
            ProbUNetConfig::tiny(),
        ] {
            c.check().unwrap();
        }
        assert_ne!(ProbUNetConfig::paper(), ProbUNetConfig::small());
        assert_eq!(ProbUNetConfig::paper().size_divisor(), 8);
    }

    #[test]
    fn nonsense_is_refused() {
        assert!(ProbUNetConfig::new(vec![]).check().is_err());
        assert!(ProbUNetConfig::new(vec![4, 0]).check().is_err());
        assert!(ProbUNetConfig::paper().with_num_classes(1).check().is_err());
    }

    #[test]
    fn billions_of_parameters_are_refused_not_wrapped() {
        // Every width within the per-field limit, the total far beyond any model.
        let huge = ProbUNetConfig::new(vec![65_536; 16]).with_convs_per_level(64);
        assert!(huge.num_params() > (1 << 30));
        let Err(error) = huge.check() else {
            panic!("a config of trillions of parameters must be refused");
        };
        assert!(error.0.contains("beyond any model"), "{error}");
    }

    #[test]
    fn round_trips_through_json() {
        let c = ProbUNetConfig::tiny();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<ProbUNetConfig>(&json).unwrap(), c);
    }
}

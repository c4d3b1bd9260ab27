//! The training objective: pixel cross-entropy + β · KL(q(z|x,y) ‖ p(z|x)).
//!
//! Reduction: the cross-entropy is **summed over pixels and averaged over the batch**
//! (as in Kohl et al.), so one image's reconstruction term weighs H·W times more
//! than a per-pixel mean would and β = 1 is the ELBO. The PyTorch peers (`probunet.py`) use
//! `F.cross_entropy`'s default *mean* over pixels instead, which is the same loss with the KL
//! effectively up-weighted by H·W; [`ce_mean_over_pixels`] reproduces their number (the
//! equivalence test matches the reference's `ce_at_post_mu` with it).
//!
//! Guards for the failure modes the peers' users reported:
//! * NaN from an unbounded log σ: log σ is clamped where the Gaussians are built
//!   ([`crate::LOG_SIGMA_BOUNDS`]), so the KL below is always finite.
//! * Posterior collapse (the latent ignored, samples all alike): KL warm-up (β ramps from 0) and
//!   free bits (a per-dimension KL floor below which the KL is not pushed down).
//! * Lesions drowned by background: an optional foreground weight on the cross-entropy.

use crate::explore::{ReadError, read_f32};
use burn::config::Config;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

use crate::model::{TrainOutput, one_hot};

/// Options of the objective.
#[derive(Config, Debug, PartialEq)]
pub struct LossConfig {
    /// Weight β of the KL term once warm-up is over.
    #[config(default = 1.0)]
    pub beta: f32,
    /// Steps over which β ramps linearly from 0 to `beta` (0: no warm-up).
    #[config(default = 0)]
    pub kl_warmup_steps: usize,
    /// Free bits λ, in nats per latent dimension: the KL term of the total is
    /// Σ_d max(λ, mean_batch KL_d), so dimensions already below λ are not squeezed further.
    #[config(default = 0.0)]
    pub free_bits: f32,
    /// Cross-entropy weight of foreground pixels (label ≥ 1); background pixels weigh 1.
    #[config(default = 1.0)]
    pub foreground_weight: f32,
}

/// The loss and its parts, as (autodiff-tracked) scalar tensors of shape `[1]`.
#[derive(Debug, Clone)]
pub struct LossParts {
    /// ce + β·kl_term: what is differentiated.
    pub total: Tensor<1>,
    /// Cross-entropy, summed over pixels, mean over the batch.
    pub ce: Tensor<1>,
    /// KL(q ‖ p) summed over latent dimensions, mean over the batch (before free bits).
    pub kl: Tensor<1>,
    /// The β used for this step (after warm-up).
    pub beta: f32,
}

/// [`LossParts`] read back to the host (serialisable: the page's fine-tuning worker reports
/// them to the page).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LossValues {
    pub total: f32,
    pub ce: f32,
    pub kl: f32,
    pub beta: f32,
}

impl LossValues {
    /// Whether every part is a finite number (a diverged step is not).
    pub fn is_finite(&self) -> bool {
        self.total.is_finite() && self.ce.is_finite() && self.kl.is_finite()
    }
}

impl LossParts {
    /// The same values, cut from the autodiff graph (what a step reports).
    pub fn detach(self) -> Self {
        Self {
            total: self.total.detach(),
            ce: self.ce.detach(),
            kl: self.kl.detach(),
            beta: self.beta,
        }
    }

    /// Reads the values (blocking; in the browser on WebGPU use [`Self::values_async`]).
    pub fn values(&self) -> LossValues {
        let read = |t: &Tensor<1>| t.clone().into_scalar::<f32>();
        LossValues {
            total: read(&self.total),
            ce: read(&self.ce),
            kl: read(&self.kl),
            beta: self.beta,
        }
    }

    /// Reads the values without blocking (needed on WebGPU in the browser); a failed read (a
    /// lost device) is an error for the caller to report, not a panic.
    pub async fn values_async(&self) -> Result<LossValues, ReadError> {
        let parts = Tensor::cat(
            vec![self.total.clone(), self.ce.clone(), self.kl.clone()],
            0,
        );
        let v = read_f32(parts.reshape([1, 3])).await?;
        let [total, ce, kl] = v[..] else {
            return Err(ReadError::new(format!(
                "three loss values, got {}",
                v.len()
            )));
        };
        Ok(LossValues {
            total,
            ce,
            kl,
            beta: self.beta,
        })
    }
}

impl LossConfig {
    /// β at optimisation step `step` (counted from 0): linear warm-up, then constant.
    pub fn beta_at(&self, step: usize) -> f32 {
        if self.kl_warmup_steps == 0 {
            self.beta
        } else {
            self.beta * (step as f32 / self.kl_warmup_steps as f32).min(1.0)
        }
    }

    /// The objective for one training forward pass against labels `y` `[B, H, W]`.
    pub fn loss(&self, out: &TrainOutput, y: Tensor<3, Int>, step: usize) -> LossParts {
        let ce = weighted_ce_per_image(out.logits.clone(), y, self.foreground_weight).mean();
        let kl_dims = out.posterior.kl_per_dim(&out.prior); // [B, M]
        let kl = kl_dims.clone().sum_dim(1).mean();
        let kl_term = if self.free_bits > 0.0 {
            kl_dims.mean_dim(0).clamp_min(self.free_bits).sum()
        } else {
            kl.clone()
        };
        let beta = self.beta_at(step);
        LossParts {
            total: ce.clone() + kl_term * beta,
            ce,
            kl,
            beta,
        }
    }
}

/// Cross-entropy of logits `[B, C, H, W]` against labels `[B, H, W]`, summed over pixels: `[B]`.
pub fn ce_per_image(logits: Tensor<4>, y: Tensor<3, Int>) -> Tensor<1> {
    weighted_ce_per_image(logits, y, 1.0)
}

/// [`ce_per_image`] with foreground pixels (label ≥ 1) weighted by `foreground_weight`.
pub fn weighted_ce_per_image(
    logits: Tensor<4>,
    y: Tensor<3, Int>,
    foreground_weight: f32,
) -> Tensor<1> {
    let [b, c, h, w] = logits.dims();
    let nll = -(log_softmax(logits, 1) * one_hot(y.clone(), c)).sum_dim(1); // [B, 1, H, W]
    let nll = if foreground_weight == 1.0 {
        nll
    } else {
        let fg = y.greater_equal_elem(1).float().unsqueeze_dim::<4>(1);
        nll * (fg * (foreground_weight - 1.0) + 1.0)
    };
    nll.reshape([b, h * w]).sum_dim(1).reshape([b])
}

/// Cross-entropy averaged over pixels and batch — PyTorch's `F.cross_entropy` default and the
/// peers' loss; `= ce_per_image(..).mean() / (H·W)`.
pub fn ce_mean_over_pixels(logits: Tensor<4>, y: Tensor<3, Int>) -> Tensor<1> {
    let [_, _, h, w] = logits.dims();
    ce_per_image(logits, y).mean() / (h * w) as f32
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use crate::DiagonalGaussian;
    use burn::tensor::{Device, TensorData};

    fn t2(v: &[f32], rows: usize, device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v.to_vec(), [rows, v.len() / rows]), device)
    }

    #[test]
    fn kl_matches_hand_computation() {
        let d = Device::flex();
        // q = N(1, e^{0.2·2}), p = N(0, 1) in 1-D: KL = -0.2 + (e^{0.4} + 1)/2 - 0.5.
        let q = DiagonalGaussian::new(t2(&[1.0, 0.0], 1, &d), t2(&[0.2, 0.0], 1, &d));
        let p = DiagonalGaussian::new(t2(&[0.0, 0.0], 1, &d), t2(&[0.0, 0.0], 1, &d));
        let kl = q.kl_to(&p).into_scalar::<f32>();
        let want = -0.2 + (0.4f32.exp() + 1.0) / 2.0 - 0.5;
        assert!((kl - want).abs() < 1e-6, "{kl} vs {want}");
        assert!(p.kl_to(&p).into_scalar::<f32>().abs() < 1e-7);
    }

    #[test]
    fn extreme_log_sigma_gives_finite_kl() {
        let d = Device::flex();
        let q = DiagonalGaussian::new(t2(&[1e3], 1, &d), t2(&[500.0], 1, &d));
        let p = DiagonalGaussian::new(t2(&[0.0], 1, &d), t2(&[-500.0], 1, &d));
        let kl = q.kl_to(&p).into_scalar::<f32>();
        assert!(kl.is_finite() && kl > 0.0, "{kl}");
    }

    #[test]
    fn ce_is_summed_over_pixels_and_matches_log_softmax() {
        let d = Device::flex();
        // One image 1×2 pixels, 2 classes: logits (0, ln 3) and (0, 0); labels 1 and 0.
        let logits = Tensor::<4>::from_data(
            TensorData::new(vec![0.0, 0.0, 3f32.ln(), 0.0], [1, 2, 1, 2]),
            &d,
        );
        let y = Tensor::<3, Int>::from_data(TensorData::new(vec![1i64, 0], [1, 1, 2]), &d);
        let want = -(0.75f32.ln()) - 0.5f32.ln();
        let sum = ce_per_image(logits.clone(), y.clone()).into_scalar::<f32>();
        assert!((sum - want).abs() < 1e-6, "{sum} vs {want}");
        let mean = ce_mean_over_pixels(logits.clone(), y.clone()).into_scalar::<f32>();
        assert!((mean - want / 2.0).abs() < 1e-6);
        // Foreground weight 3 triples the first pixel's term only.
        let w = weighted_ce_per_image(logits, y, 3.0).into_scalar::<f32>();
        assert!((w - (-3.0 * 0.75f32.ln() - 0.5f32.ln())).abs() < 1e-5);
    }

    #[test]
    fn warm_up_and_free_bits() {
        let cfg = LossConfig::new().with_beta(2.0).with_kl_warmup_steps(10);
        assert_eq!(cfg.beta_at(0), 0.0);
        assert_eq!(cfg.beta_at(5), 1.0);
        assert_eq!(cfg.beta_at(50), 2.0);

        let d = Device::flex();
        let q = DiagonalGaussian::new(t2(&[0.1, 2.0], 1, &d), t2(&[0.0, 0.0], 1, &d));
        let p = DiagonalGaussian::new(t2(&[0.0, 0.0], 1, &d), t2(&[0.0, 0.0], 1, &d));
        let out = TrainOutput {
            logits: Tensor::zeros([1, 2, 1, 1], &d),
            prior: p,
            posterior: q,
        };
        let y = Tensor::<3, Int>::zeros([1, 1, 1], &d);
        let plain = LossConfig::new().loss(&out, y.clone(), 0).values();
        let floored = LossConfig::new()
            .with_free_bits(0.5)
            .loss(&out, y, 0)
            .values();
        // KL per dim: 0.005 and 2.0; the floor lifts the first to 0.5 in the total only.
        assert!((plain.kl - 2.005).abs() < 1e-5, "{plain:?}");
        assert_eq!(plain.kl, floored.kl);
        assert!(
            (floored.total - floored.ce - 2.5).abs() < 1e-5,
            "{floored:?}"
        );
        assert!((plain.ce - 2f32.ln()).abs() < 1e-6);
    }
}

//! The hierarchical model's objective: GECO (Rezende & Viola, 2018) on a stochastic top-k
//! cross-entropy, as Kohl et al. (2019) train it.
//!
//! * **Stochastic top-k reconstruction.** Of the batch's pixels, `top_k` (2 %) are kept, drawn
//!   without replacement with probability ∝ their (stop-gradient) cross-entropy by the Gumbel
//!   trick: score = ln(ce / Σce) − ln(−ln u), the k best scores kept. The draw runs on the host
//!   from [`SeededRng`] (reproducible, and a few hundred thousand numbers per step are nothing
//!   beside the convolutions). The reconstruction term is the kept pixels' CE summed per
//!   image, mean over the batch.
//! * **GECO.** The constraint C = EMA(reconstruction) − κ·(pixels kept per image) asks for a
//!   mean CE of at most κ nats on the kept pixels; the loss is λ·C + Σ_scales KL. The EMA is
//!   "differentiable" as in the released code: its value is the average, its gradient that of
//!   this step's reconstruction. λ is updated explicitly after every step,
//!   λ ← λ · exp(ν · C / kept), clamped to [`LAMBDA_BOUNDS`] (Rezende & Viola's multiplicative
//!   form; the released code instead lets Adam move λ with a scaled, flipped gradient, which
//!   takes tens of thousands of steps). Dividing C by the pixels kept makes ν independent of
//!   image size and batch.

use burn::config::Config;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor, TensorData};

use super::model::HpuTrainOutput;
use crate::init::{SeededRng, ln};
use crate::model::one_hot;

/// Bounds of the Lagrange multiplier λ.
pub const LAMBDA_BOUNDS: (f32, f32) = (1e-3, 1e4);

/// Options of the GECO objective.
#[derive(Config, Debug, PartialEq)]
pub struct GecoConfig {
    /// Fraction of the batch's pixels the reconstruction term keeps.
    #[config(default = 0.02)]
    pub top_k: f32,
    /// Target mean cross-entropy (nats) on the kept pixels.
    #[config(default = 0.05)]
    pub kappa: f32,
    /// Decay of the reconstruction's moving average.
    #[config(default = 0.99)]
    pub decay: f32,
    /// Rate ν of λ's multiplicative update.
    #[config(default = 0.01)]
    pub rate: f32,
    /// λ at the first step.
    #[config(default = 1.0)]
    pub lambda: f32,
}

/// GECO's state between steps: the moving average and λ.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GecoState {
    /// EMA of the reconstruction term (`None` before the first step).
    pub average: Option<f32>,
    pub lambda: f32,
}

/// One step's objective (autodiff-tracked `total`) and its parts.
#[derive(Debug, Clone)]
pub struct GecoParts {
    /// What is differentiated: λ·reconstruction + ΣKL (the same gradient as λ·C + ΣKL).
    pub total: Tensor<1>,
    pub values: GecoValues,
}

/// One step's numbers, on the host.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GecoValues {
    /// λ·C + ΣKL, the GECO loss.
    pub loss: f32,
    /// Kept pixels' CE summed per image, mean over the batch.
    pub reconstruction: f32,
    /// The same per kept pixel (comparable with κ).
    pub ce_per_kept_pixel: f32,
    /// C = EMA(reconstruction) − κ·kept.
    pub constraint: f32,
    /// λ used in this step.
    pub lambda: f32,
    /// KL of every scale, coarsest first.
    pub kl: Vec<f32>,
}

impl GecoValues {
    /// ΣKL over the scales.
    pub fn kl_sum(&self) -> f32 {
        self.kl.iter().sum()
    }
}

impl GecoConfig {
    /// The state before the first step.
    pub fn init(&self) -> GecoState {
        GecoState {
            average: None,
            lambda: self.lambda,
        }
    }

    /// The objective for one training pass against labels `y` `[B, H, W]`; updates `state`
    /// (moving average, then λ) and draws the kept pixels from `rng`.
    pub fn loss(
        &self,
        out: &HpuTrainOutput,
        y: Tensor<3, Int>,
        state: &mut GecoState,
        rng: &mut SeededRng,
    ) -> GecoParts {
        let ce = pixel_ce(out, y);
        let host = host_values(ce.clone(), "cross-entropies");
        let kept = top_k_by_gumbel(&host, self.top_k, rng);
        self.loss_keeping(out, ce, &host, kept, state)
    }

    /// [`Self::loss`] for pixels already chosen: `kept` holds a 0/1 weight per pixel, `[B·H·W]`
    /// image-major (an independent implementation draws them its own way; the rest of the
    /// objective must then agree with it exactly).
    pub fn loss_with_kept(
        &self,
        out: &HpuTrainOutput,
        y: Tensor<3, Int>,
        kept: Vec<f32>,
        state: &mut GecoState,
    ) -> GecoParts {
        let ce = pixel_ce(out, y);
        let host = host_values(ce.clone(), "cross-entropies");
        self.loss_keeping(out, ce, &host, kept, state)
    }

    fn loss_keeping(
        &self,
        out: &HpuTrainOutput,
        ce: Tensor<2>,
        host: &[f32],
        kept: Vec<f32>,
        state: &mut GecoState,
    ) -> GecoParts {
        let [b, hw] = ce.dims();
        assert_eq!(kept.len(), b * hw, "one kept weight per pixel");
        let kept_per_image = kept.iter().sum::<f32>() / b as f32;
        // The kept pixels' CE is on the host already: no second read of the device.
        let rec_value = host.iter().zip(&kept).map(|(c, k)| c * k).sum::<f32>() / b as f32;
        let mask = Tensor::<2>::from_data(TensorData::new(kept, [b, hw]), &ce.device());
        let reconstruction = (ce * mask).sum() / b as f32;

        let kl = Tensor::cat(out.kl.clone(), 0);
        let kl_values = host_values(kl.clone(), "KLs");
        let average = match state.average {
            Some(a) => self.decay * a + (1.0 - self.decay) * rec_value,
            None => rec_value,
        };
        state.average = Some(average);
        let constraint = average - self.kappa * kept_per_image;
        let lambda = state.lambda;
        let (lo, hi) = LAMBDA_BOUNDS;
        let step = (self.rate * constraint / kept_per_image.max(1.0)).clamp(-1.0, 1.0);
        state.lambda = (lambda * step.exp()).clamp(lo, hi);

        let kl_sum: f32 = kl_values.iter().sum();
        GecoParts {
            total: reconstruction * lambda + kl.sum(),
            values: GecoValues {
                loss: lambda * constraint + kl_sum,
                reconstruction: rec_value,
                ce_per_kept_pixel: rec_value / kept_per_image.max(1.0),
                constraint,
                lambda,
                kl: kl_values,
            },
        }
    }
}

/// Each pixel's cross-entropy against `y`, `[B, H·W]`.
fn pixel_ce(out: &HpuTrainOutput, y: Tensor<3, Int>) -> Tensor<2> {
    let [b, c, h, w] = out.logits.dims();
    -(log_softmax(out.logits.clone(), 1) * one_hot(y, c))
        .sum_dim(1)
        .reshape([b, h * w])
}

/// A tensor's values on the host, detached (its graph stays with the original).
fn host_values<const D: usize>(t: Tensor<D>, what: &str) -> Vec<f32> {
    t.detach()
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap_or_else(|e| panic!("reading the {what} back as f32: {e:?}"))
}

/// 0/1 weights keeping ⌊fraction·N⌋ of the N values (at least one), drawn without replacement
/// with probability ∝ value by the Gumbel-top-k trick. Zero values are never kept while a
/// positive one is left.
pub fn top_k_by_gumbel(values: &[f32], fraction: f32, rng: &mut SeededRng) -> Vec<f32> {
    let n = values.len();
    // The tolerance keeps an f32 fraction such as 0.02 (0.0199999996 when widened) from
    // losing a pixel to rounding: 2 % of 1,000 is 20.
    let k = ((n as f64 * fraction as f64 + 1e-6).floor() as usize).clamp(1, n.max(1));
    let total: f64 = values.iter().map(|&v| v.max(0.0) as f64).sum();
    let mut scored: Vec<(f64, usize)> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let p = v.max(0.0) as f64 / total.max(f64::MIN_POSITIVE);
            // u in (0, 1): −ln(−ln u) is standard Gumbel noise.
            let u = rng.uniform().clamp(1e-12, 1.0 - 1e-12);
            let score = if p > 0.0 {
                ln(p) - ln(-ln(u))
            } else {
                f64::NEG_INFINITY
            };
            (score, i)
        })
        .collect();
    let mut keep = vec![0.0; n];
    if n == 0 {
        return keep;
    }
    scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
    for &(_, i) in &scored[..k] {
        keep[i] = 1.0;
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_keeps_the_right_count_and_prefers_large_values() {
        let mut rng = SeededRng::new(3);
        // 1,000 pixels: 50 hard ones (CE 5), the rest easy (CE 0.01) or exactly zero.
        let values: Vec<f32> = (0..1000)
            .map(|i| match i % 20 {
                0 => 5.0,
                1 => 0.0,
                _ => 0.01,
            })
            .collect();
        let mut hard_kept = 0.0;
        for _ in 0..20 {
            let keep = top_k_by_gumbel(&values, 0.02, &mut rng);
            assert_eq!(keep.iter().sum::<f32>(), 20.0);
            assert!(keep.iter().zip(&values).all(|(k, v)| *k == 0.0 || *v > 0.0));
            hard_kept += keep
                .iter()
                .zip(&values)
                .filter(|(k, v)| **k == 1.0 && **v == 5.0)
                .count() as f64;
        }
        // Each draw picks a hard pixel with probability ≈ 250 / 259 while many are left.
        assert!(hard_kept / 400.0 > 0.9, "{hard_kept}");
    }

    #[test]
    fn top_k_is_a_draw_not_a_sort() {
        // Equal values: the kept set must move with the seed.
        let values = vec![1.0; 500];
        let a = top_k_by_gumbel(&values, 0.02, &mut SeededRng::new(1));
        let b = top_k_by_gumbel(&values, 0.02, &mut SeededRng::new(2));
        assert_ne!(a, b);
        assert_eq!(
            top_k_by_gumbel(&[], 0.5, &mut SeededRng::new(1)),
            Vec::<f32>::new()
        );
    }
}

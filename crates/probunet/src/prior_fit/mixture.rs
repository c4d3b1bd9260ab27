//! The posterior-mixture objective: the prior p(z|x) fitted to the mixture of the posteriors of
//! an image's annotations, (1/K) Σ_k q(z|x, y_k), by the reverse divergence
//!
//! ```text
//! KL(p ‖ mix) = E_{z~p}[log p(z) − log mix(z)]
//! ```
//!
//! Why: that mixture (the aggregate posterior of the image) is the prior the ELBO asks for, but a
//! diagonal Gaussian cannot be it. Training's KL(q ‖ p), averaged over annotations, matches it by
//! moments — so where the annotations' posteriors lie apart the prior covers the space between
//! them, and on LIDC slices every reader drew, a quarter of its samples decode to empty masks
//! (README, "The LIDC model"). The reverse divergence is zero-forcing: mass where no annotation's
//! posterior is costs without bound, so the prior stays inside the regions the decoder turns into
//! some reader's mask. Its cost is mode-seeking where the posteriors are far apart: a blend with
//! training's own forward term ([`PriorFitConfig::forward_kl_weight`](super::PriorFitConfig))
//! keeps the prior covering every annotation.
//!
//! Needs neither the U-Net nor the decoder, so a step costs the prior and posterior nets alone.

use burn::tensor::{Tensor, TensorData};

use crate::gaussian_encoder::DiagonalGaussian;
use crate::init::SeededRng;
use crate::model::ProbUNet;

/// The terms of the objective for one batch, each a mean over the batch's images.
pub(super) struct MixtureTerms {
    /// KL(p ‖ mix), estimated by reparameterised prior samples.
    pub reverse: Tensor<1>,
    /// mean_k KL(q_k ‖ p) in closed form: training's KL term against each annotation.
    pub forward: Tensor<1>,
}

/// The objective's terms for `images` `[B, C, H, W]` and their annotations `raters`
/// `[B, K, H, W]` (1 on foreground), with `n` prior samples per image.
pub(super) fn mixture_terms(
    model: &ProbUNet,
    images: Tensor<4>,
    raters: Tensor<4>,
    n: usize,
    rng: &mut SeededRng,
) -> MixtureTerms {
    let [b, k, h, w] = raters.dims();
    let c = images.dims()[1];
    let prior = model.prior_of(images.clone());
    let m = prior.mu.dims()[1];
    let device = prior.mu.device();

    let repeated = images
        .unsqueeze_dim::<5>(1)
        .expand([b, k, c, h, w])
        .reshape([b * k, c, h, w]);
    let posterior = model.posterior(repeated, raters.reshape([b * k, h, w]).int());
    let posterior = DiagonalGaussian {
        mu: posterior.mu.detach(),
        log_sigma: posterior.log_sigma.detach(),
    };

    let eps = Tensor::<3>::from_data(
        TensorData::new(rng.normals(b * n * m, 1.0), [b, n, m]),
        &device,
    );
    let per_sample = |t: Tensor<2>| t.unsqueeze_dim::<3>(1).expand([b, n, m]);
    let z = per_sample(prior.mu.clone()) + per_sample(prior.sigma()) * eps;
    let log_p = prior.log_density(z.clone());
    let log_mix = log_mixture_density(&posterior, z, k);
    let reverse = (log_p - log_mix).mean();

    let prior_per_annotation = DiagonalGaussian {
        mu: repeat_rows(prior.mu, k),
        log_sigma: repeat_rows(prior.log_sigma, k),
    };
    let forward = posterior.kl_to(&prior_per_annotation).mean();
    MixtureTerms { reverse, forward }
}

/// log((1/K) Σ_k q_k(z)) for `z` `[B, N, M]` and `posteriors` `[B·K, M]` (image-major), up to
/// the same constant [`DiagonalGaussian::log_density`] leaves out: `[B, N]`.
fn log_mixture_density(posteriors: &DiagonalGaussian, z: Tensor<3>, k: usize) -> Tensor<2> {
    let [b, n, m] = z.dims();
    let per_annotation = |t: Tensor<2>| t.reshape([b, 1, k, m]).expand([b, n, k, m]);
    let mu = per_annotation(posteriors.mu.clone());
    let log_sigma = per_annotation(posteriors.log_sigma.clone());
    let standardised =
        (z.unsqueeze_dim::<4>(2).expand([b, n, k, m]) - mu) / log_sigma.clone().exp();
    let log_q = (log_sigma + standardised.powi_scalar(2) * 0.5)
        .sum_dim(3)
        .neg()
        .reshape([b, n, k]);
    // log-sum-exp over the annotations, shifted by the largest term for range.
    let largest = log_q.clone().max_dim(2).detach();
    let sum = (log_q - largest.clone().expand([b, n, k])).exp().sum_dim(2);
    (sum.log() + largest).reshape([b, n]) - (k as f32).ln()
}

/// `[B, M]` → `[B·K, M]`, each row repeated K times in place (image-major, as the posteriors).
fn repeat_rows(t: Tensor<2>, k: usize) -> Tensor<2> {
    let [b, m] = t.dims();
    t.unsqueeze_dim::<3>(1)
        .expand([b, k, m])
        .reshape([b * k, m])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn gaussian(mu: Vec<f32>, sigma: Vec<f32>, rows: usize) -> DiagonalGaussian {
        let m = mu.len() / rows;
        let device = Device::flex();
        DiagonalGaussian {
            mu: Tensor::from_data(TensorData::new(mu, [rows, m]), &device),
            log_sigma: Tensor::from_data(
                TensorData::new(sigma.iter().map(|s| s.ln()).collect::<Vec<_>>(), [rows, m]),
                &device,
            ),
        }
    }

    /// Two equal components make a mixture equal to either; two different ones average their
    /// densities (checked against the formula written out).
    #[test]
    fn the_mixture_density_averages_its_components() {
        let z = Tensor::<3>::from_data(
            TensorData::new(vec![0.5f32, -1.0], [1, 1, 2]),
            &Device::flex(),
        );
        let one = gaussian(vec![0.0, 0.0], vec![1.0, 2.0], 1);
        let twice = gaussian(vec![0.0, 0.0, 0.0, 0.0], vec![1.0, 2.0, 1.0, 2.0], 2);
        let single = one.log_density(z.clone()).into_scalar::<f32>();
        let mixed = log_mixture_density(&twice, z.clone(), 2).into_scalar::<f32>();
        assert!((single - mixed).abs() < 1e-5, "{single} vs {mixed}");

        let apart = gaussian(vec![0.0, 0.0, 3.0, 0.0], vec![1.0, 1.0, 1.0, 1.0], 2);
        let log_q = |mu: [f32; 2]| -> f64 {
            -[(0.5f64, mu[0]), (-1.0, mu[1])]
                .iter()
                .map(|(z, mu)| 0.5 * (z - f64::from(*mu)).powi(2))
                .sum::<f64>()
        };
        let expected = (0.5 * (log_q([0.0, 0.0]).exp() + log_q([3.0, 0.0]).exp())).ln();
        let got = log_mixture_density(&apart, z, 2).into_scalar::<f32>();
        assert!(
            (f64::from(got) - expected).abs() < 1e-5,
            "{got} vs {expected}"
        );
    }
}

//! Post-hoc calibration of the prior's spread (a "temperature" on p(z|x)).
//!
//! Why: after a short training run the prior net is too narrow. Measured on the shipped model
//! (`probunet calibrate`, 100 training-split cases): the posterior means of a case's hypotheses
//! lie along one direction of latent space, several prior σ apart, so samples from p(z|x) pile up
//! on the most likely hypothesis and the others are under-produced (frequency error 0.163 at
//! τ = 1, 0.091 at τ = 2). Scaling σ by one factor τ, fitted on training seeds and checked on the
//! held-out ones, is the latent-space analogue of temperature scaling for classifiers
//! (Guo et al., 2017): one number, no retraining.
//!
//! The factor is baked into the weights: the prior head's log σ outputs get `+ ln τ` on their
//! bias, so every consumer (sampling, the page's latent map, fine-tuning) sees the calibrated
//! prior without knowing about calibration. Training from such weights starts from the widened
//! prior and the KL term moves it from there.

use burn::module::Param;

use crate::{DiagonalGaussian, ProbUNet};

impl DiagonalGaussian {
    /// The same Gaussian with σ × `temperature`: what [`ProbUNet::widen_prior`] bakes into the
    /// weights, applied to one encoding (equal unless log σ sits at [`crate::LOG_SIGMA_BOUNDS`]).
    pub fn widened(&self, temperature: f64) -> Self {
        Self {
            mu: self.mu.clone(),
            log_sigma: self.log_sigma.clone() + temperature.ln() as f32,
        }
    }
}

impl ProbUNet {
    /// Multiplies the prior's σ by `temperature` for every image (μ unchanged), by adding
    /// `ln temperature` to the bias of the prior head's log σ channels.
    ///
    /// # Panics
    /// If `temperature` is not finite and positive, or the prior head has no bias (every model
    /// this crate builds or loads has one).
    pub fn widen_prior(mut self, temperature: f64) -> Self {
        assert!(
            temperature.is_finite() && temperature > 0.0,
            "the prior temperature must be a positive number, got {temperature}"
        );
        let m = self.config().latent_dim;
        let bias = self
            .prior
            .head
            .bias
            .take()
            .expect("the prior head has a bias")
            .val();
        // Channels 0..m are μ, m..2m log σ (see `GaussianEncoder::forward_raw`).
        let shift = bias
            .zeros_like()
            .slice_fill(m..2 * m, temperature.ln() as f32);
        self.prior.head.bias = Some(Param::from_tensor(bias + shift));
        self
    }
}

#[cfg(test)]
mod tests {
    use crate::{ProbUNet, ProbUNetConfig, SeededRng};
    use burn::tensor::{Device, Tensor, TensorData, Tolerance};

    #[test]
    fn widening_scales_sigma_and_keeps_everything_else() {
        let device = Device::flex();
        let config = ProbUNetConfig::tiny();
        let model = ProbUNet::new_seeded(&config, 3, &device);
        let x = Tensor::<4>::from_data(
            TensorData::new(SeededRng::new(4).normals(2 * 16 * 16, 1.0), [2, 1, 16, 16]),
            &device,
        );
        let before = model.encode(x.clone());
        let after = model.widen_prior(2.5).encode(x);
        let tol = Tolerance::absolute(1e-5);
        after
            .prior
            .log_sigma
            .clone()
            .into_data()
            .assert_approx_eq::<f32>(&before.prior.widened(2.5).log_sigma.into_data(), tol);
        (after.prior.sigma() / before.prior.sigma())
            .into_data()
            .assert_approx_eq::<f32>(&TensorData::new(vec![2.5f32; 2 * 2], [2, 2]), tol);
        after
            .prior
            .mu
            .into_data()
            .assert_approx_eq::<f32>(&before.prior.mu.into_data(), tol);
        after
            .projection
            .into_data()
            .assert_approx_eq::<f32>(&before.projection.into_data(), tol);
    }
}

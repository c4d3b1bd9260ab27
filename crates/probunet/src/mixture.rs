//! Sampling a mixture of the model's Gaussians with exact shares.
//!
//! Why: the frequency error of a model mixes two faults: a prior p(z|x) that puts the wrong
//! mass on each hypothesis, and a decoder (U-Net + fcomb) that draws the wrong mask from a z
//! that does sit on the hypothesis' posterior. Latents drawn from Σ_k p_k q(z|x,y_k), the
//! mixture of a case's posteriors with the hypotheses' true probabilities, are what a *perfect*
//! prior would give; scoring their masks (`probunet eval`'s decoder ceiling) isolates the
//! decoder's share of the error.

use burn::tensor::{Tensor, TensorData};

use crate::init::NormalTensor;
use crate::{DiagonalGaussian, SeededRng};

impl DiagonalGaussian {
    /// `n` latents `[n, latent]` from the mixture Σ_k `weights[k]` · N(row k), each component
    /// drawn exactly round(n · w_k) times (largest remainders, so the counts sum to `n`): the
    /// shares carry no sampling noise, only the within-component spread does.
    ///
    /// # Panics
    /// If `weights` has the wrong length or does not sum to a positive number.
    pub fn draw_mixture(&self, weights: &[f64], n: usize, rng: &mut SeededRng) -> Tensor<2> {
        let [k, m] = self.mu.dims();
        assert_eq!(weights.len(), k, "one weight per mixture component");
        let total: f64 = weights.iter().sum();
        assert!(total > 0.0, "mixture weights must sum to a positive number");
        let counts = largest_remainder_counts(weights, total, n);
        // Row i of `select` is the one-hot component of draw i.
        let mut select = vec![0f32; n * k];
        let rows = counts
            .iter()
            .enumerate()
            .flat_map(|(component, &count)| std::iter::repeat_n(component, count));
        for (row, component) in rows.enumerate() {
            select[row * k + component] = 1.0;
        }
        let device = self.mu.device();
        let select = Tensor::<2>::from_data(TensorData::new(select, [n, k]), &device);
        let eps = rng.normal_tensor([n, m], 1.0, &device);
        select.clone().matmul(self.mu.clone()) + select.matmul(self.sigma()) * eps
    }
}

/// Splits `n` draws in proportion to `weights` (summing to `total`): floors first, then one
/// more each to the components with the largest remainders (ties to the lower index). Exact
/// shares instead of random picks, so a mixture's draws carry no sampling error in the weights.
pub fn largest_remainder_counts(weights: &[f64], total: f64, n: usize) -> Vec<usize> {
    let quotas: Vec<f64> = weights.iter().map(|w| w / total * n as f64).collect();
    let mut counts: Vec<usize> = quotas.iter().map(|q| q.floor() as usize).collect();
    let remainder = |k: usize| quotas[k] - quotas[k].floor();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| remainder(b).total_cmp(&remainder(a)));
    let missing = n.saturating_sub(counts.iter().sum());
    for &k in order.iter().take(missing) {
        counts[k] += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::largest_remainder_counts;
    use crate::{DiagonalGaussian, SeededRng};
    use burn::tensor::{Device, Tensor, TensorData};

    fn gaussian(mu: Vec<f32>, log_sigma: Vec<f32>, shape: [usize; 2]) -> DiagonalGaussian {
        let d = Device::flex();
        DiagonalGaussian::new(
            Tensor::from_data(TensorData::new(mu, shape), &d),
            Tensor::from_data(TensorData::new(log_sigma, shape), &d),
        )
    }

    #[test]
    fn shares_are_exact_up_to_rounding() {
        assert_eq!(
            largest_remainder_counts(&[0.65, 0.35], 1.0, 100),
            vec![65, 35]
        );
        assert_eq!(
            largest_remainder_counts(&[1.0, 1.0, 1.0], 3.0, 100),
            vec![34, 33, 33]
        );
        assert_eq!(
            largest_remainder_counts(&[0.15, 0.85], 1.0, 16),
            vec![2, 14]
        );
    }

    #[test]
    fn mixture_draws_sit_on_their_components() {
        // Two far-apart point masses (σ = e^-8): every draw is one of them, in a 3:1 ratio.
        let g = gaussian(vec![-5.0, 0.0, 5.0, 1.0], vec![-8.0; 4], [2, 2]);
        let z = g.draw_mixture(&[3.0, 1.0], 8, &mut SeededRng::new(1));
        assert_eq!(z.dims(), [8, 2]);
        let z = z.into_data().try_to_vec::<f32>().unwrap();
        let near = |r: &[f32], a: f32, b: f32| (r[0] - a).abs() < 0.01 && (r[1] - b).abs() < 0.01;
        let first = z.chunks(2).filter(|r| near(r, -5.0, 0.0)).count();
        let second = z.chunks(2).filter(|r| near(r, 5.0, 1.0)).count();
        assert_eq!((first, second), (6, 2), "{z:?}");
    }
}

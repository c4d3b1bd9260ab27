//! Decoding latents from the mixture of one image's posteriors, for the hierarchical model.
//!
//! Why: as for the first model ([`crate::mixture`]), a frequency error mixes the prior's fault
//! (wrong mass on each hypothesis) with the decoder's (no latent that draws a hypothesis). Here
//! a posterior is a chain of scales, so a draw from the mixture Σ_k p_k q(z|x,y_k) picks a
//! hypothesis k (exact shares) and then runs the posterior's own chain for y_k: exactly the
//! teacher-forced training pass, whose masks are what a *perfect* prior would give.

use burn::tensor::{Int, Tensor, TensorData};

use super::Latent;
use super::model::{HierarchicalProbUNet, HpuEncoded, normal_like};
use crate::init::SeededRng;
use crate::mixture::largest_remainder_counts;

impl HierarchicalProbUNet {
    /// Logits `[n, classes, H, W]` for image `x` (`[1, 1, H, W]`, its prior-encoder features
    /// `encoded`) decoded from `n` posterior chains: annotation `y[k]` (`[K, H, W]`) is used
    /// exactly round(n · `weights[k]`) times, rows grouped by annotation in order. The same as
    /// the training pass on the repeated rows, with each encoder run once per image or
    /// annotation rather than once per row.
    ///
    /// # Panics
    /// If `weights` does not have one positive-summing entry per annotation.
    pub fn posterior_mixture(
        &self,
        encoded: &HpuEncoded,
        x: Tensor<4>,
        y: Tensor<3, Int>,
        weights: &[f64],
        n: usize,
        rng: &mut SeededRng,
    ) -> Tensor<4> {
        let [k, side, _] = y.dims();
        assert_eq!(weights.len(), k, "one weight per annotation");
        let total: f64 = weights.iter().sum();
        assert!(total > 0.0, "mixture weights must sum to a positive number");
        let rows: Vec<i64> = largest_remainder_counts(weights, total, n)
            .into_iter()
            .enumerate()
            .flat_map(|(component, count)| std::iter::repeat_n(component as i64, count))
            .collect();
        let device = self.device();
        let index = Tensor::<1, Int>::from_data(TensorData::new(rows, [n]), &device);
        let features: Vec<_> = self
            .posterior_features(x.repeat_dim(0, k), y)
            .into_iter()
            .map(|f| f.select(0, index.clone()))
            .collect();
        let mut eps = self
            .latent_shapes(n, side)
            .into_iter()
            .map(|shape| normal_like(shape, rng, &device));
        let q = self.posterior_from(&features, |_, _| {
            Latent::Noise(eps.next().expect("one noise tensor per latent scale"))
        });
        self.decode(&encoded.repeat_each(n), |l, _| {
            Latent::Given(q.latents[l].clone())
        })
        .0
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Int, Tensor, TensorData};

    use crate::hierarchical::{HierarchicalProbUNet, HpuNetConfig};
    use crate::init::SeededRng;

    #[test]
    fn each_annotation_gets_its_share_of_the_rows() {
        let device = Device::default();
        let config = HpuNetConfig::tiny();
        let model = HierarchicalProbUNet::new_seeded(&config, 3, &device);
        let side = 2 * config.size_divisor();
        let x = Tensor::<4>::from_data(
            TensorData::new(
                SeededRng::new(5).normals(side * side, 1.0),
                [1, 1, side, side],
            ),
            &device,
        );
        let label = |fill: fn(usize) -> i64| -> Vec<i64> { (0..side * side).map(fill).collect() };
        let (empty, left) = (label(|_| 0), label(move |i| i64::from(i % 2 == 0)));
        let both = Tensor::<3, Int>::from_data(
            TensorData::new([empty, left.clone()].concat(), [2, side, side]),
            &device,
        );
        let only_left =
            Tensor::<3, Int>::from_data(TensorData::new(left, [1, side, side]), &device);
        let encoded = model.encode(x.clone());
        let draw = |y, weights: &[f64]| {
            let logits =
                model.posterior_mixture(&encoded, x.clone(), y, weights, 4, &mut SeededRng::new(9));
            assert_eq!(logits.dims(), [4, 2, side, side]);
            logits.into_data()
        };
        let mixed = draw(both.clone(), &[0.0, 1.0]);
        // All four rows come from the second annotation: the same as passing it alone.
        mixed.assert_approx_eq::<f32>(&draw(only_left, &[1.0]), Default::default());
        // Another split gives other rows (the first annotation is used for two of them).
        let half = draw(both.clone(), &[0.5, 0.5]);
        // Encoding once per image and annotation changes nothing: it is the training pass on
        // the repeated rows, with the same noise.
        let rows = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 0, 1, 1], [4]), &device);
        let mut rng = SeededRng::new(9);
        let eps = model
            .latent_shapes(4, side)
            .into_iter()
            .map(|shape| super::normal_like(shape, &mut rng, &device))
            .collect();
        let by_rows = model.forward_train(x.clone().repeat_dim(0, 4), both.select(0, rows), eps);
        half.assert_approx_eq::<f32>(&by_rows.logits.into_data(), Default::default());
        assert_ne!(
            half.try_to_vec::<f32>().unwrap(),
            mixed.try_to_vec::<f32>().unwrap()
        );
    }
}

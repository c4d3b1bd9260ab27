//! Host-side sampling of an encoded image, for interactive front ends: masks read back
//! asynchronously (as WebGPU in the browser requires), noise drawn on the host from a seed.
//!
//! The hierarchical model has no single low-dimensional latent to map; what a person can
//! explore instead is *which scale* carries an ambiguity. [`vary_one_scale`] draws one scale
//! and holds every other at its prior mean (the authors' notebook does the same), so the
//! coarsest scale's row shows presence and size, the finest's the boundary's detail.

use super::model::{HierarchicalProbUNet, HpuEncoded, ScaleMode};
use crate::explore::{ReadError, read_masks};
use crate::init::SeededRng;
use metrics::Mask;

/// `n` masks for image 0 of `encoded`, every scale drawn from the prior given the coarser ones.
/// Noise is drawn scale by scale for the whole call, so a front end that samples in chunks from
/// one `rng` must keep the chunk size fixed for a seed to give the same masks every time.
pub async fn sample_masks(
    model: &HierarchicalProbUNet,
    encoded: &HpuEncoded,
    n: usize,
    rng: &mut SeededRng,
) -> Result<Vec<Mask>, ReadError> {
    masks_with_modes(model, encoded, n, &[], rng).await
}

/// The mask with every scale at its prior mean: the model's most typical segmentation.
pub async fn mean_mask(
    model: &HierarchicalProbUNet,
    encoded: &HpuEncoded,
) -> Result<Mask, ReadError> {
    let logits = model.mean(&first_image(encoded));
    let mut masks = read_masks(logits).await?;
    Ok(masks.remove(0))
}

/// `n` masks with only latent scale `scale` (0 = coarsest) drawn, every other at its mean.
pub async fn vary_one_scale(
    model: &HierarchicalProbUNet,
    encoded: &HpuEncoded,
    scale: usize,
    n: usize,
    rng: &mut SeededRng,
) -> Result<Vec<Mask>, ReadError> {
    let modes: Vec<ScaleMode> = (0..model.config().latent_levels())
        .map(|l| {
            if l == scale {
                ScaleMode::Sample
            } else {
                ScaleMode::Mean
            }
        })
        .collect();
    masks_with_modes(model, encoded, n, &modes, rng).await
}

async fn masks_with_modes(
    model: &HierarchicalProbUNet,
    encoded: &HpuEncoded,
    n: usize,
    modes: &[ScaleMode],
    rng: &mut SeededRng,
) -> Result<Vec<Mask>, ReadError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let logits = model.sample_n(&first_image(encoded), n, modes, rng);
    read_masks(logits).await
}

fn first_image(encoded: &HpuEncoded) -> HpuEncoded {
    HpuEncoded {
        features: encoded
            .features
            .iter()
            .map(|t| t.clone().narrow(0, 0, 1))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor, TensorData};

    use super::*;
    use crate::explore::complete_now;
    use crate::hierarchical::HpuNetConfig;

    fn model_and_encoding() -> (HierarchicalProbUNet, HpuEncoded) {
        let device = Device::default();
        let config = HpuNetConfig::tiny();
        let model = HierarchicalProbUNet::new_seeded(&config, 3, &device);
        let side = 2 * config.size_divisor();
        let mut rng = SeededRng::new(5);
        let pixels = rng.normals(side * side, 1.0);
        let x = Tensor::<4>::from_data(TensorData::new(pixels, [1, 1, side, side]), &device);
        let encoded = model.encode(x);
        (model, encoded)
    }

    #[test]
    fn samples_are_reproducible_from_the_seed_and_match_sample_n() {
        let (model, encoded) = model_and_encoding();
        let draw = |seed| {
            complete_now(sample_masks(&model, &encoded, 3, &mut SeededRng::new(seed)))
                .expect("CPU reads complete at once")
                .expect("masks read back")
        };
        let masks = draw(7);
        assert_eq!(masks.len(), 3);
        assert_eq!(masks, draw(7));
        // The same noise through the model's own tensor path gives the same arg-max.
        let logits = model.sample_n(&encoded, 3, &[], &mut SeededRng::new(7));
        let direct = complete_now(read_masks(logits)).unwrap().unwrap();
        assert_eq!(masks, direct);
    }

    #[test]
    fn holding_every_scale_at_its_mean_gives_the_mean_mask() {
        let (model, encoded) = model_and_encoding();
        let mean = complete_now(mean_mask(&model, &encoded)).unwrap().unwrap();
        let all_mean: Vec<ScaleMode> = vec![ScaleMode::Mean; model.config().latent_levels()];
        let held = complete_now(masks_with_modes(
            &model,
            &encoded,
            2,
            &all_mean,
            &mut SeededRng::new(1),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(held, vec![mean.clone(), mean]);
        // Out of range: no scale is drawn, so every mask is the mean too.
        let none = complete_now(vary_one_scale(
            &model,
            &encoded,
            99,
            2,
            &mut SeededRng::new(1),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(none, held);
    }
}

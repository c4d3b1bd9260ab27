//! The hierarchical probabilistic U-Net: layout, the sampling and teacher-forced paths, the
//! GECO training step and its weights files.

use burn::module::Module;
use burn::tensor::{Int, Tensor, TensorData};
use probunet::hierarchical::{
    GecoConfig, HierarchicalProbUNet, HpuNetConfig, HpuTrainer, Latent, ScaleMode,
};
use probunet::weights::{ModelKind, WeightsError, load_stored, stored_kind};
use probunet::{Batch, Precision, ProbUNet, ProbUNetConfig, SeededRng, load_weights, save_weights};

use crate::common::*;
use crate::train::{S, ambiguous_case};

fn tiny() -> HierarchicalProbUNet {
    HierarchicalProbUNet::new_seeded(&HpuNetConfig::tiny(), 0, &device())
}

fn labels(v: Vec<i64>, b: usize) -> Tensor<3, Int> {
    mask_from(v, [b, S, S], &device())
}

#[test]
fn the_layout_has_the_parameters_the_config_counts() {
    let d = device();
    for config in [
        HpuNetConfig::tiny(),
        HpuNetConfig::small(),
        HpuNetConfig::paper(),
    ] {
        let model = HierarchicalProbUNet::new_seeded(&config, 0, &d);
        assert_eq!(model.num_params(), config.num_params(), "{config}");
    }
    let small = HpuNetConfig::small().num_params();
    // The budget for the CPU preset: ~3 M parameters, under the paper's.
    assert!(
        small < 4_000_000 && small < HpuNetConfig::paper().num_params(),
        "{small}"
    );
}

#[test]
fn samples_means_and_reconstructions_have_the_image_shape() {
    let model = tiny();
    let d = device();
    let x = image([2, 1, S, S], 1, &d);
    assert_eq!(model.latent_shapes(2, S), vec![[2, 1, 2, 2], [2, 1, 4, 4]]);
    let encoded = model.encode(x.clone());
    let samples = model.sample_n(&encoded, 3, &[], &mut SeededRng::new(0));
    assert_eq!(samples.dims(), [6, 2, S, S]);
    assert_eq!(model.mean(&encoded).dims(), [2, 2, S, S]);
    let (_, a, b) = ambiguous_case();
    let y = labels([a, b].concat(), 2);
    assert_eq!(model.reconstruct(x, y).dims(), [2, 2, S, S]);
}

#[test]
fn every_scale_at_its_mean_is_the_mean_and_one_varied_scale_varies_the_samples() {
    let model = tiny();
    let encoded = model.encode(image([1, 1, S, S], 2, &device()));
    let mean = model.mean(&encoded);
    let all_mean = model.sample_n(&encoded, 4, &[ScaleMode::Mean; 2], &mut SeededRng::new(1));
    for i in 0..4 {
        assert!(max_abs_diff(all_mean.clone().narrow(0, i, 1), mean.clone()) < 1e-5);
    }
    for varied in 0..2 {
        let mut modes = [ScaleMode::Mean; 2];
        modes[varied] = ScaleMode::Sample;
        let s = model.sample_n(&encoded, 2, &modes, &mut SeededRng::new(1));
        let spread = max_abs_diff(s.clone().narrow(0, 0, 1), s.narrow(0, 1, 1));
        assert!(
            spread > 1e-4,
            "scale {varied} does not move the logits: {spread}"
        );
    }
}

#[test]
fn the_reconstruction_is_the_prior_decoder_given_the_posterior_means() {
    let model = tiny();
    let d = device();
    let x = image([1, 1, S, S], 3, &d);
    let (_, a, _) = ambiguous_case();
    let y = labels(a, 1);
    let q = model.posterior(x.clone(), y.clone(), |_, _| Latent::Mean);
    let (by_hand, p) = model.decode(&model.encode(x.clone()), |l, _| {
        Latent::Given(q.latents[l].clone())
    });
    assert!(max_abs_diff(by_hand, model.reconstruct(x, y)) < 1e-6);
    // The prior's distributions, like the posterior's, come one per scale at its resolution.
    let dims: Vec<[usize; 4]> = p.distributions.iter().map(|g| g.dims()).collect();
    assert_eq!(dims, vec![[1, 1, 2, 2], [1, 1, 4, 4]]);
    assert_eq!(q.distributions.len(), 2);
}

#[test]
fn geco_training_lowers_the_reconstruction_and_reports_every_scale_kl() {
    let d = device();
    let (img, a, b) = ambiguous_case();
    let batch = Batch {
        images: Tensor::from_data(
            TensorData::new([img.clone(), img].concat(), [2, 1, S, S]),
            &d,
        ),
        masks: labels([a, b].concat(), 2),
    };
    // All pixels kept: at 16² a 2 % top-k keeps 10 of 512, too few to compare steps.
    let geco = GecoConfig::new().with_top_k(1.0).with_kappa(0.01);
    let mut trainer = HpuTrainer::new(tiny(), geco, Some(10.0));
    let mut rng = SeededRng::new(4);
    let first = trainer.step(&batch, 3e-3, &mut rng);
    let mut last = first.clone();
    for _ in 0..30 {
        last = trainer.step(&batch, 3e-3, &mut rng);
    }
    assert_eq!(first.kl.len(), 2);
    assert!(
        last.kl.iter().all(|k| k.is_finite() && *k >= 0.0),
        "{last:?}"
    );
    assert!(
        last.ce_per_kept_pixel < 0.8 * first.ce_per_kept_pixel,
        "{first:?} → {last:?}"
    );
    // The constraint is far from met at κ = 0.01: λ must have grown.
    assert!(last.lambda > first.lambda, "{first:?} → {last:?}");
    assert!(trainer.state().average.is_some());
    assert!(
        !trainer
            .inference_model()
            .stitching
            .logits
            .weight
            .val()
            .is_autodiff()
    );
}

#[test]
fn weights_round_trip_and_say_which_model_they_hold() {
    let d = device();
    let model = tiny();
    let x = image([1, 1, S, S], 5, &d);
    let full = save_weights(&model, Precision::Full).unwrap();
    let half = save_weights(&model, Precision::Half).unwrap();
    assert_eq!(stored_kind(&full).unwrap(), ModelKind::Hierarchical);
    let loaded: HierarchicalProbUNet = load_stored(&full, &d).unwrap();
    assert_eq!(loaded.config(), model.config());
    let want = model.mean(&model.encode(x.clone()));
    assert!(max_abs_diff(loaded.mean(&loaded.encode(x.clone())), want.clone()) < 1e-6);
    let widened: HierarchicalProbUNet = load_stored(&half, &d).unwrap();
    assert!(max_abs_diff(widened.mean(&widened.encode(x)), want) < 1e-2);

    // Each kind of file refuses to load as the other, naming what it holds.
    let Err(err) = load_weights(&full, &d) else {
        panic!("a hierarchical file loaded as a probabilistic U-Net");
    };
    assert!(matches!(err, WeightsError::ConfigMismatch(_)), "{err}");
    assert!(err.to_string().contains("hierarchical"), "{err}");
    let first = save_weights(
        &ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 0, &d),
        Precision::Half,
    )
    .unwrap();
    assert_eq!(stored_kind(&first).unwrap(), ModelKind::Probabilistic);
    let err = load_stored::<HierarchicalProbUNet>(&first, &d).unwrap_err();
    assert!(
        err.to_string().contains("holds a probabilistic U-Net"),
        "{err}"
    );
}

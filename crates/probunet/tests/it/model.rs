//! Architecture, initialisation and the sampling API.

use burn::module::Module;
use probunet::{ProbUNet, ProbUNetConfig, SeededRng, argmax_masks};

use crate::common::*;

#[test]
fn paper_preset_has_the_reference_parameter_counts() {
    let config = ProbUNetConfig::paper();
    let model = ProbUNet::new_seeded(&config, 0, &device());
    assert_eq!(model.unet.num_params(), 2_260_128);
    assert_eq!(model.prior.num_params(), 1_367_820);
    assert_eq!(model.posterior.num_params(), 1_368_396);
    assert_eq!(model.fcomb.num_params(), 3_426);
    assert_eq!(model.num_params(), 4_999_770);
    assert_eq!(config.num_params(), 4_999_770);
    for c in [ProbUNetConfig::small(), ProbUNetConfig::tiny()] {
        assert_eq!(
            ProbUNet::new_seeded(&c, 0, &device()).num_params(),
            c.num_params()
        );
    }
}

#[test]
fn init_is_he_normal_from_the_host_rng() {
    let d = device();
    let model = ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 5, &d);
    // The very first conv (1 → 8 channels, 3×3) takes the first 72 normals of seed 5.
    let w = to_vec(model.unet.encoder.blocks[0].convs[0].weight.val());
    let want = SeededRng::new(5).normals(72, (2.0f64 / 9.0).sqrt());
    assert_eq!(w, want);
    assert!(
        to_vec(
            model.unet.encoder.blocks[0].convs[0]
                .bias
                .as_ref()
                .unwrap()
                .val()
        )
        .iter()
        .all(|&b| b == 0.0)
    );
    // A wide layer's empirical std is close to √(2 / fan_in).
    let w = to_vec(model.prior.encoder.blocks[2].convs[1].weight.val()); // 32·32·9 values
    let std = (w.iter().map(|x| x * x).sum::<f32>() / w.len() as f32).sqrt();
    let want = (2.0f32 / (32.0 * 9.0)).sqrt();
    assert!((std / want - 1.0).abs() < 0.05, "std {std} vs {want}");
}

#[test]
fn same_seed_same_weights_other_seed_other_weights() {
    let d = device();
    let c = ProbUNetConfig::tiny();
    let w = |seed| {
        to_vec(
            ProbUNet::new_seeded(&c, seed, &d).fcomb.layers[1]
                .weight
                .val(),
        )
    };
    assert_eq!(w(1), w(1));
    assert_ne!(w(1), w(2));
}

#[test]
fn encode_shapes() {
    let d = device();
    let c = ProbUNetConfig::small();
    let model = ProbUNet::new_seeded(&c, 0, &d);
    let enc = model.encode(image([2, 1, 32, 32], 1, &d));
    assert_eq!(enc.features.dims(), [2, 16, 32, 32]);
    assert_eq!(enc.prior.mu.dims(), [2, 6]);
    assert_eq!(enc.prior.log_sigma.dims(), [2, 6]);
    assert_eq!(enc.projection.dims(), [2, 32, 32, 32]);
}

#[test]
fn fast_path_equals_plain_concat_path() {
    let d = device();
    let model = ProbUNet::new_seeded(&ProbUNetConfig::paper(), 3, &d);
    let enc = model.encode(image([1, 1, 64, 64], 2, &d));
    let z = latents(5, 6, 9, &d) * 2.0;
    let fast = model.sample(&enc, z.clone());
    let plain = model.sample_plain(&enc, z);
    assert_eq!(fast.dims(), [5, 2, 64, 64]);
    let scale = plain.clone().abs().max().into_scalar::<f32>();
    assert!(scale > 1e-3, "logits are not trivially zero ({scale})");
    let diff = max_abs_diff(fast, plain);
    assert!(diff <= 1e-4, "fast vs plain: {diff}");
}

/// The fused head (our kernel on the CPU) against the layers' margin, on the paper's fcomb
/// (two hidden layers of 32) and on a head with one.
#[test]
fn fused_margins_equal_the_layers_margin() {
    let d = device();
    for config in [ProbUNetConfig::paper(), ProbUNetConfig::tiny()] {
        let model = ProbUNet::new_seeded(&config, 5, &d);
        let enc = model.encode(image([1, 1, 32, 32], 3, &d));
        let z = latents(7, config.latent_dim, 4, &d) * 2.0;
        let logits = model.sample(&enc, z.clone());
        let expected =
            (logits.clone().narrow(1, 1, 1) - logits.narrow(1, 0, 1)).reshape([7, 32 * 32]);
        let fused = model.fcomb.margins(enc.projection.clone(), z);
        let scale = expected.clone().abs().max().into_scalar::<f32>();
        assert!(scale > 1e-3, "margins are not trivially zero ({scale})");
        let diff = max_abs_diff(fused, expected);
        assert!(diff <= 1e-4, "fused vs layers: {diff}");
    }
}

#[test]
fn sample_n_is_one_batched_call_reproducible_by_seed() {
    let d = device();
    let model = ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 1, &d);
    let enc = model.encode(image([1, 1, 32, 32], 4, &d));
    let a = model.sample_n(&enc, 16, &mut SeededRng::new(11));
    let b = model.sample_n(&enc, 16, &mut SeededRng::new(11));
    assert_eq!(a.logits.dims(), [16, 2, 32, 32]);
    assert_eq!(a.z.dims(), [16, 2]);
    assert_eq!(to_vec(a.z.clone()), to_vec(b.z));
    assert_eq!(to_vec(a.logits.clone()), to_vec(b.logits));
    // The logits are those of the returned latents, and the latents differ from each other.
    assert!(max_abs_diff(model.sample(&enc, a.z.clone()), a.logits) <= 1e-5);
    let z = to_vec(a.z);
    assert_ne!(z[0..2], z[2..4]);
    // z = μ + σ ⊙ ε with ε from the same host stream.
    let eps = SeededRng::new(11).normals(32, 1.0);
    let mu = to_vec(enc.prior.mu.clone());
    let sigma = to_vec(enc.prior.sigma());
    for i in 0..16 {
        for j in 0..2 {
            let want = mu[j] + sigma[j] * eps[i * 2 + j];
            assert!((z[i * 2 + j] - want).abs() < 1e-5);
        }
    }
}

#[test]
fn sample_n_on_a_batch_is_image_major() {
    let d = device();
    let model = ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 1, &d);
    let x = image([2, 1, 32, 32], 4, &d);
    let enc = model.encode(x.clone());
    let s = model.sample_n(&enc, 3, &mut SeededRng::new(2));
    assert_eq!(s.logits.dims(), [6, 2, 32, 32]);
    // Rows 3..6 belong to image 1: decode them against image 1 alone.
    let enc1 = model.encode(x.narrow(0, 1, 1));
    let alone = model.sample(&enc1, s.z.clone().narrow(0, 3, 3));
    assert!(max_abs_diff(alone, s.logits.narrow(0, 3, 3)) <= 1e-5);
}

#[test]
fn mean_and_reconstruct_decode_the_distribution_means() {
    let d = device();
    let model = ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 1, &d);
    let x = image([1, 1, 32, 32], 4, &d);
    let y = mask_from(
        (0..1024).map(|i| ((i % 32) > 16) as i64).collect(),
        [1, 32, 32],
        &d,
    );
    let enc = model.encode(x.clone());
    let mean = model.mean(&enc);
    assert!(max_abs_diff(mean.clone(), model.sample(&enc, enc.prior.mu.clone())) <= 1e-6);
    let post = model.posterior(x.clone(), y.clone());
    let rec = model.reconstruct(x, y);
    assert!(max_abs_diff(rec, model.sample(&enc, post.mu)) <= 1e-5);
    assert_eq!(argmax_masks(mean).dims(), [1, 32, 32]);
}

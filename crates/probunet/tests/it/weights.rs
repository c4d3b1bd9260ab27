//! Saving and loading weights: round trips, and clear errors instead of panics.

use burn::store::burn_pack::{Bytes, Reader, Tensor as PackTensor, Writer};
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::DType;
use probunet::weights::{WeightsError, read_weights_config};
use probunet::{
    Precision, ProbUNet, ProbUNetConfig, load_weights, load_weights_expecting, save_weights,
};

use crate::common::*;

fn outputs(model: &ProbUNet) -> burn::tensor::Tensor<4> {
    let d = device();
    let enc = model.encode(image([1, 1, 32, 32], 3, &d));
    model.sample(&enc, latents(3, model.config().latent_dim, 4, &d))
}

#[test]
fn full_precision_round_trip_is_exact() {
    let d = device();
    let model = ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 7, &d);
    let bytes = save_weights(&model, Precision::Full).unwrap();
    let loaded = load_weights(&bytes, &d).unwrap();
    assert_eq!(loaded.config(), model.config());
    assert_eq!(to_vec(outputs(&loaded)), to_vec(outputs(&model)));
}

#[test]
fn half_precision_is_half_the_size_and_close() {
    let d = device();
    let config = ProbUNetConfig::small();
    let model = ProbUNet::new_seeded(&config, 7, &d);
    let full = save_weights(&model, Precision::Full).unwrap();
    let half = save_weights(&model, Precision::Half).unwrap();
    assert!(
        half.len() * 10 < full.len() * 6,
        "f16 {} vs f32 {} bytes",
        half.len(),
        full.len()
    );
    assert_eq!(read_weights_config(&half).unwrap(), config);
    let loaded = load_weights_expecting(&half, &config, &d).unwrap();
    // f16 keeps ~3 decimal digits: outputs agree to ~1e-3 relative.
    let (a, b) = (outputs(&loaded), outputs(&model));
    let scale = b.clone().abs().max().into_scalar::<f32>();
    let diff = max_abs_diff(a.clone(), b);
    assert!(
        diff > 0.0 && diff <= 5e-3 * scale.max(1.0),
        "diff {diff}, scale {scale}"
    );
    // Loaded parameters are f32 again (training can resume on them).
    assert_eq!(
        loaded.fcomb.layers[0].weight.val().dtype(),
        burn::tensor::DType::F32
    );
}

#[test]
fn a_different_config_is_refused_with_the_differences_named() {
    let d = device();
    let bytes = save_weights(
        &ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 0, &d),
        Precision::Half,
    )
    .unwrap();
    let wanted = ProbUNetConfig::tiny().with_latent_dim(3);
    let err = load_weights_expecting(&bytes, &wanted, &d).unwrap_err();
    assert!(matches!(err, WeightsError::ConfigMismatch(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("latent_dim: expected 3, found 2"), "{msg}");
}

#[test]
fn corrupt_or_foreign_bytes_are_errors_not_panics() {
    let d = device();
    let bytes = save_weights(
        &ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 0, &d),
        Precision::Half,
    )
    .unwrap();

    let garbage: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    for (what, b) in [
        ("empty", Vec::new()),
        ("garbage", garbage),
        ("truncated", bytes[..bytes.len() / 2].to_vec()),
        ("header only", bytes[..16].to_vec()),
    ] {
        let err = load_weights(&b, &d).expect_err(what);
        assert!(matches!(err, WeightsError::Corrupt(_)), "{what}: {err:?}");
    }

    // Scribbling over the metadata (where the config lives) must not panic either.
    let mut scribbled = bytes.clone();
    for b in scribbled[10..200].iter_mut() {
        *b ^= 0x5a;
    }
    assert!(load_weights(&scribbled, &d).is_err());
}

#[test]
fn a_burnpack_without_config_is_refused() {
    let d = device();
    let model = ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 0, &d);
    let mut store = BurnpackStore::from_bytes(None);
    model.save_into(&mut store).unwrap();
    let bytes = store.get_bytes().unwrap().to_vec();
    let err = load_weights(&bytes, &d).unwrap_err();
    assert!(matches!(err, WeightsError::MissingConfig), "{err:?}");
    assert!(err.to_string().contains("probunet.config"));
}

#[test]
fn tensors_that_do_not_add_up_are_refused() {
    let d = device();
    // A valid file of the tiny model whose config claims the small model.
    let model = ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 0, &d);
    let json = serde_json::to_string(&ProbUNetConfig::small()).unwrap();
    let mut store = BurnpackStore::from_bytes(None).metadata(probunet::weights::CONFIG_KEY, json);
    model.save_into(&mut store).unwrap();
    let bytes = store.get_bytes().unwrap().to_vec();
    let err = load_weights(&bytes, &d).unwrap_err();
    assert!(matches!(err, WeightsError::TensorMismatch(_)), "{err:?}");
}

#[test]
fn the_input_contract_travels_with_the_weights() {
    let d = device();
    let contract = imaging::InputContract::lidc(32, 0.5);
    let config = ProbUNetConfig::tiny().with_input(Some(contract.clone()));
    let model = ProbUNet::new_seeded(&config, 7, &d);
    let bytes = save_weights(&model, Precision::Half).unwrap();
    let read = read_weights_config(&bytes).unwrap();
    assert_eq!(read.input.as_ref(), Some(&contract));
    assert_eq!(
        load_weights(&bytes, &d).unwrap().config().contract(),
        contract
    );
    // Weights of the same architecture prepared another way are another model for the page.
    let synthetic =
        ProbUNetConfig::tiny().with_input(Some(imaging::InputContract::synthetic(32, 0.5)));
    let Err(WeightsError::ConfigMismatch(why)) = load_weights_expecting(&bytes, &synthetic, &d)
    else {
        panic!("a model trained on other inputs must be refused");
    };
    assert!(why.contains("input"), "{why}");
}

#[test]
fn weights_from_before_the_contract_mean_the_synthetic_one() {
    // Files written before contracts existed were all trained on the synthetic benchmark.
    let d = device();
    let model = ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 7, &d);
    let legacy = read_weights_config(&save_weights(&model, Precision::Half).unwrap()).unwrap();
    assert_eq!(legacy.input, None);
    assert_eq!(
        legacy.contract(),
        imaging::InputContract::synthetic(64, 0.25)
    );
    // The shipped synthetic model says so explicitly.
    let shipped = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../public/model/probunet-small.bpk"
    ))
    .unwrap();
    let config = read_weights_config(&shipped).unwrap();
    assert_eq!(
        config.input,
        Some(imaging::InputContract::synthetic(64, 0.25))
    );
}

/// A tiny model's file rewritten: its config edited by `edit`, its tensors kept or re-typed.
fn crafted(edit: impl FnOnce(&mut serde_json::Value), dtype: Option<DType>) -> Vec<u8> {
    let d = device();
    let bytes = save_weights(
        &ProbUNet::new_seeded(&ProbUNetConfig::tiny(), 0, &d),
        Precision::Half,
    )
    .unwrap();
    let reader = Reader::from_bytes(Bytes::from_bytes_vec(bytes)).unwrap();
    let metadata = reader.metadata().clone();
    let mut config: serde_json::Value =
        serde_json::from_str(&metadata[probunet::weights::CONFIG_KEY]).unwrap();
    edit(&mut config);
    let tensors = reader
        .into_tensors()
        .unwrap()
        .into_iter()
        .map(|t| match dtype {
            None => t,
            Some(dtype) => {
                let len = t.shape.num_elements() * dtype.size();
                let bytes = Bytes::from_bytes_vec(vec![0; len]);
                PackTensor::new(t.name.clone(), dtype, t.shape.clone(), t.param_id, bytes)
            }
        })
        .collect();
    let mut writer = Writer::new(tensors);
    for (key, value) in &metadata {
        writer = writer.with_metadata(key, value);
    }
    let config = config.to_string();
    writer = writer.with_metadata(probunet::weights::CONFIG_KEY, &config);
    writer.into_bytes().unwrap().to_vec()
}

#[test]
fn crafted_files_that_do_not_fit_are_refused_with_one_sentence() {
    let d = device();
    // The untouched rewrite loads: what fails below fails for the edit alone.
    assert!(load_weights(&crafted(|_| {}, None), &d).is_ok());
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "colour input",
            crafted(|c| c["in_channels"] = 3.into(), None),
            "3-channel images",
        ),
        (
            "three classes",
            crafted(|c| c["num_classes"] = 3.into(), None),
            "3 classes",
        ),
        (
            "another latent size",
            crafted(|c| c["latent_dim"] = 9.into(), None),
            "a model of its config has",
        ),
        (
            "billions of parameters",
            crafted(
                |c| {
                    c["filters"] = vec![65_536; 16].into();
                    c["convs_per_level"] = 64.into();
                },
                None,
            ),
            "beyond any model",
        ),
        (
            "integer tensors",
            crafted(|_| {}, Some(DType::I32)),
            "floating point",
        ),
    ];
    for (what, bytes, says) in cases {
        let message = match load_weights(&bytes, &d) {
            Ok(_) => panic!("{what}: a file that does not fit must be refused"),
            Err(e) => e.to_string(),
        };
        assert!(message.contains(says), "{what}: {message}");
        assert!(
            !message.contains('\n'),
            "{what}: one sentence, got {message}"
        );
        // The page reads the config first (to say what a file is) and must refuse it there too
        // when the config itself is what does not fit.
        if !matches!(what, "another latent size" | "integer tensors") {
            assert!(read_weights_config(&bytes).is_err(), "{what}");
        }
    }
    // Truncation anywhere gives an error, never a panic.
    let whole = crafted(|_| {}, None);
    for cut in [1, 7, 64, whole.len() / 3, whole.len() - 1] {
        assert!(load_weights(&whole[..cut], &d).is_err(), "cut at {cut}");
    }
}

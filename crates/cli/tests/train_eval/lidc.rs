//! Real data: LIDC tars (patient split), the extracted multi-rater folder, and DICOM with
//! its SEG files.

use std::path::Path;

use super::common::*;

#[test]
fn trains_on_lidc_tars_and_evaluates_the_validation_patient() {
    let dir = out_dir("tars");
    let data = two_patient_tars(&dir);
    let run = dir.join("run");
    let (text, doc) = train_and_eval_on(&data, &run);
    // Training reads the training patient only.
    assert!(text.contains("of 1 patient,"), "{text}");
    let slices = doc["per_case"].as_array().unwrap();
    assert!(!slices.is_empty());
    for slice in slices {
        let name = slice["name"].as_str().unwrap();
        assert!(name.starts_with("LIDC-IDRI-0001/nodule-"), "{name}");
        assert_eq!(slice["raters"], 4, "{name}: all four slots, empty ones too");
        for key in ["ged100", "hm_iou16", "hm_iou32", "empty_share"] {
            assert!(slice[key].as_f64().unwrap().is_finite(), "{name} {key}");
        }
    }
    // The weights carry the contract the data was prepared by.
    let input = &doc["config"]["input"];
    assert_eq!(input["model_side"], 32);
    assert_eq!(input["crop_side"], 128);
    assert_eq!(input["intensity"]["kind"], "crop_min_max");
    // A validation-only folder has nothing to train on.
    let val = dir.join("val");
    std::fs::create_dir_all(&val).unwrap();
    std::fs::copy(
        data.join("LIDC-IDRI-0001.tar"),
        val.join("LIDC-IDRI-0001.tar"),
    )
    .unwrap();
    assert_refused(
        &[
            "train",
            "--data",
            s(&val),
            "--preset",
            "tiny",
            "--size",
            "32",
            "--out",
            s(&run),
        ],
        "holds no slices of the train split",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn trains_and_evaluates_on_the_lidc_multirater_folder() {
    let dir = out_dir("folder");
    let data = lidc_fixture();
    let (text, doc) = train_and_eval_on(&data, &dir);
    assert!(text.contains("5 slices of 1 patient"), "{text}");
    assert_eq!(doc["mode"], "folder");
    let slices = doc["per_case"].as_array().unwrap();
    assert_eq!(slices.len(), 5);
    assert_eq!(slices[0]["name"], "z-103.5");
    assert_eq!(slices[0]["raters"], 4);
    assert!(slices[0]["rater_foreground"].as_f64().unwrap() > 0.0);
    assert_all_finite(&doc["per_case"], "per_case");
    // The prior (and fcomb) can be fitted to the folder's raters too (all four of a slice per
    // step).
    let text = ok(&[
        "fit-prior",
        "--weights",
        s(&dir.join("final.bpk")),
        "--out",
        s(&dir.join("fitted.bpk")),
        "--data",
        s(&data),
        "--steps",
        "1",
        "--batch-size",
        "2",
        "--samples",
        "2",
        "--train-fcomb",
    ]);
    assert!(text.contains("5 slices of 1 patient"), "{text}");
    let fit = &read_json(&dir.join("fitted.json"))["prior_fit"];
    assert_eq!(
        (fit["steps"].as_u64(), fit["fcomb_steps"].as_u64()),
        (Some(1), Some(1))
    );
    // Then to the mixture of the raters' posteriors (no decoding): the record adds up.
    let text = ok(&[
        "fit-prior",
        "--weights",
        s(&dir.join("fitted.bpk")),
        "--out",
        s(&dir.join("mixture.bpk")),
        "--data",
        s(&data),
        "--steps",
        "2",
        "--batch-size",
        "2",
        "--samples",
        "2",
        "--objective",
        "posterior-mixture",
        "--forward-kl-weight",
        "0.5",
    ]);
    assert!(text.contains("wrote"), "{text}");
    let fit = &read_json(&dir.join("mixture.json"))["prior_fit"];
    assert_eq!(
        (
            fit["steps"].as_u64(),
            fit["fcomb_steps"].as_u64(),
            fit["posterior_mixture_steps"].as_u64()
        ),
        (Some(3), Some(1), Some(2))
    );
    // fcomb never learns from an objective that decodes nothing, and the gradient estimators
    // are the energy distance's: both refused before any work.
    let (fitted, never) = (dir.join("fitted.bpk"), dir.join("never.bpk"));
    let mixture_with = |extra: &[&'static str]| -> Vec<&str> {
        let base = [
            "fit-prior",
            "--weights",
            s(&fitted),
            "--out",
            s(&never),
            "--data",
            s(&data),
        ];
        [&base[..], &["--objective", "posterior-mixture"], extra].concat()
    };
    assert_refused(
        &mixture_with(&["--train-fcomb"]),
        "--train-fcomb needs --objective energy",
    );
    assert_refused(
        &mixture_with(&["--gradient", "score-function"]),
        "--gradient applies to --objective energy",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// DICOM through the CLI as in the page: a JPEG 2000 and a JPEG-LS CT sample with the LIDC
/// model, and a folder holding a DICOM image with two readers' SEG files (no naming rule:
/// the SEG frames name the image's UID) is evaluated as one slice with two raters.
#[test]
fn samples_compressed_dicom_and_evaluates_a_dicom_image_with_its_seg_files() {
    let dir = out_dir("dicom");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let weights = root.join("public/model/probunet-lidc.bpk");
    let fixtures = root.join("../shared/fixtures/dicom");
    for file in ["CT1_J2KR.dcm", "CT1_JLSL.dcm"] {
        let out = dir.join(file);
        let text = ok(&[
            "sample",
            "--weights",
            s(&weights),
            "--image",
            s(&fixtures.join(file)),
            "--center",
            "300,250",
            "--n",
            "2",
            "--out",
            s(&out),
        ]);
        assert!(text.contains("wrote 2 samples"), "{file}: {text}");
    }

    let folder = dir.join("readers");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(fixtures.join("CT_small.dcm"), folder.join("CT_small.dcm")).unwrap();
    for reader in [1, 2] {
        let name = format!("CT_small_reader{reader}_seg.dcm");
        std::fs::copy(root.join("tests/e2e/data").join(&name), folder.join(&name)).unwrap();
    }
    let report = dir.join("report.json");
    let text = ok(&[
        "eval",
        "--weights",
        s(&weights),
        "--data",
        s(&folder),
        "--json",
        s(&report),
    ]);
    assert!(text.contains("GED16"), "{text}");
    let doc = read_json(&report);
    let cases = doc["per_case"].as_array().unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["name"], "CT_small.dcm");
    assert_eq!(cases[0]["raters"], 2);
    assert!(cases[0]["rater_foreground"].as_f64().unwrap() > 50.0);
    std::fs::remove_dir_all(&dir).unwrap();
}

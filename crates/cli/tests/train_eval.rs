//! `probunet train / eval / sample / export` end to end on the tiny preset at 32×32: a few
//! steps each, so the whole file runs in well under a minute on two cores (CI runs it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn out_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("probunet-cli-train-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs `probunet ARGS`, with one rayon thread (the CI machine is shared).
fn probunet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_probunet"))
        .args(args)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = probunet(args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "probunet {args:?} failed:\n{text}");
    text
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn lidc_fixture() -> PathBuf {
    Path::new(
        &std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"),
    )
    .join("../../../shared/fixtures/multirater/lidc0221")
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every number anywhere in `v` is finite (NaN/inf would be serialised as null).
fn assert_all_finite(v: &serde_json::Value, at: &str) {
    match v {
        serde_json::Value::Number(n) => assert!(n.as_f64().unwrap().is_finite(), "{at}"),
        serde_json::Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| assert_all_finite(x, &format!("{at}[{i}]"))),
        serde_json::Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| assert_all_finite(x, &format!("{at}.{k}"))),
        _ => {}
    }
}

const TRAIN: [&str; 10] = [
    "train",
    "--synthetic",
    "--preset",
    "tiny",
    "--size",
    "32",
    "--batch-size",
    "2",
    "--lr",
    "1e-3",
];

#[test]
fn train_checkpoint_resume_eval_export_sample() {
    let dir = out_dir("smoke");
    let run = dir.join("run");
    let mut args = TRAIN.to_vec();
    args.extend(["--steps", "4", "--checkpoint-every", "2", "--out", s(&run)]);
    ok(&args);
    assert!(run.join("checkpoint-00000002.bpk").exists());
    assert_eq!(read_json(&run.join("final.json"))["step"], 4);

    // Resume from the folder's most advanced weights (final, step 4) and continue to step 6.
    let mut args = TRAIN.to_vec();
    args.extend([
        "--steps",
        "6",
        "--checkpoint-every",
        "2",
        "--out",
        s(&run),
        "--resume",
        s(&run),
    ]);
    let text = ok(&args);
    assert!(
        text.contains("resuming from") && text.contains("final.bpk at step 4"),
        "{text}"
    );
    let meta = read_json(&run.join("final.json"));
    assert_eq!(meta["step"], 6);
    assert_eq!(meta["size"], 32);

    let final_weights = run.join("final.bpk");
    let report = dir.join("eval.json");
    let text = ok(&[
        "eval",
        "--weights",
        s(&final_weights),
        "--cases",
        "3",
        "--json",
        s(&report),
    ]);
    assert!(
        text.contains("GED16") && text.contains("probabilistic"),
        "{text}"
    );
    let doc = read_json(&report);
    assert_eq!(doc["size"], 32);
    assert_eq!(doc["per_case"].as_array().unwrap().len(), 3);
    let all = &doc["means"][0];
    assert_eq!(all["group"], "all");
    for key in [
        "ged16",
        "ged100",
        "ged100_floor",
        "hm_iou16",
        "diversity",
        "freq_error",
        "ged100_ceiling",
        "freq_error_ceiling",
    ] {
        assert!(all["means"][key].as_f64().unwrap().is_finite(), "{key}");
    }
    assert_all_finite(&doc["per_case"], "per_case");

    // Calibration scores every factor on training cases and records the chosen one.
    let calibrated = dir.join("calibrated.bpk");
    let text = ok(&[
        "calibrate",
        "--weights",
        s(&final_weights),
        "--out",
        s(&calibrated),
        "--cases",
        "2",
        "--temperatures",
        "1,2",
    ]);
    assert!(text.contains("chose factor"), "{text}");
    let factor = read_json(&calibrated.with_extension("json"))["prior_temperature"]
        .as_f64()
        .unwrap();
    assert!(factor == 1.0 || factor == 2.0, "{factor}");
    assert!(ok(&["eval", "--weights", s(&calibrated), "--cases", "1"]).contains("all"));

    // Fitting the prior net keeps the calibration record and adds its own.
    let fitted = dir.join("fitted.bpk");
    let text = ok(&[
        "fit-prior",
        "--weights",
        s(&calibrated),
        "--out",
        s(&fitted),
        "--synthetic",
        "--steps",
        "2",
        "--batch-size",
        "2",
        "--samples",
        "4",
    ]);
    assert!(text.contains("fitted the prior"), "{text}");
    let meta = read_json(&fitted.with_extension("json"));
    assert_eq!(meta["prior_fit"]["steps"], 2);
    assert_eq!(meta["prior_fit"]["fcomb_steps"], 0);
    assert_eq!(meta["prior_fit"]["score_function_steps"], 0);
    assert_eq!(meta["prior_fit"]["samples"], 4);
    assert_eq!(meta["prior_temperature"].as_f64().unwrap(), factor);
    assert!(ok(&["eval", "--weights", s(&fitted), "--cases", "1"]).contains("all"));
    // A second fit with the score-function gradient adds to the record.
    let refitted = dir.join("refitted.bpk");
    ok(&[
        "fit-prior",
        "--weights",
        s(&fitted),
        "--out",
        s(&refitted),
        "--synthetic",
        "--steps",
        "1",
        "--batch-size",
        "2",
        "--samples",
        "3",
        "--gradient",
        "score-function",
    ]);
    let fit = &read_json(&refitted.with_extension("json"))["prior_fit"];
    assert_eq!(
        (fit["steps"].as_u64(), fit["score_function_steps"].as_u64()),
        (Some(3), Some(1))
    );

    let web = dir.join("web.bpk");
    let text = ok(&["export", "--weights", s(&final_weights), "--out", s(&web)]);
    assert!(text.contains("bytes"), "{text}");
    let full = std::fs::metadata(&final_weights).unwrap().len();
    let half = std::fs::metadata(&web).unwrap().len();
    assert!(half < full * 6 / 10, "f16 {half} vs f32 {full}");

    let samples = dir.join("samples");
    let image = lidc_fixture().join("z-108.5_image.png");
    ok(&[
        "sample",
        "--weights",
        s(&web),
        "--image",
        s(&image),
        "--n",
        "4",
        "--out",
        s(&samples),
    ]);
    for name in [
        "input.png",
        "sample-00.png",
        "sample-03.png",
        "uncertainty.png",
        "mean.png",
    ] {
        let img = image::open(samples.join(name)).unwrap();
        assert_eq!((img.width(), img.height()), (32, 32), "{name}");
    }
    // DICOM goes through the same decoder and contract as the page, around a chosen point.
    let ct = lidc_fixture().join("../../dicom/CT_small.dcm");
    let sample_ct = |center: &'static str| {
        let mut args = vec!["sample", "--weights", s(&web), "--image", s(&ct)];
        args.extend(["--center", center, "--n", "2", "--out", s(&samples)]);
        args
    };
    let text = ok(&sample_ct("40,70"));
    assert!(text.contains("wrote 2 samples"), "{text}");
    assert_refused(&sample_ct("40"), "is not `x,y`");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A folder holding two patients' LIDC tars: one validation patient (LIDC-IDRI-0001 is in
/// docs/lidc-validation-patients.txt) and one training patient.
fn two_patient_tars(dir: &Path) -> PathBuf {
    let data = dir.join("tars");
    std::fs::create_dir_all(&data).unwrap();
    let crops = lidc_fixture().join("../../../lidc-crops");
    for patient in ["LIDC-IDRI-0001", "LIDC-IDRI-0002"] {
        let name = format!("{patient}.tar");
        std::fs::copy(crops.join(&name), data.join(&name)).unwrap();
    }
    data
}

/// `probunet train --data DATA` (tiny preset, 32², 2 steps, batch 2) into `run`, then `eval`
/// of its final weights on the same data: the training output and the eval report.
fn train_and_eval_on(data: &Path, run: &Path) -> (String, serde_json::Value) {
    let text = ok(&[
        "train",
        "--data",
        s(data),
        "--preset",
        "tiny",
        "--size",
        "32",
        "--steps",
        "2",
        "--batch-size",
        "2",
        "--out",
        s(run),
    ]);
    let report = run.join("eval.json");
    let weights = run.join("final.bpk");
    ok(&[
        "eval",
        "--weights",
        s(&weights),
        "--data",
        s(data),
        "--json",
        s(&report),
    ]);
    (text, read_json(&report))
}

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
fn nan_guard_stops_and_keeps_the_last_good_checkpoint() {
    let run = out_dir("nan");
    let mut args = TRAIN.to_vec();
    args.extend([
        "--steps",
        "6",
        "--checkpoint-every",
        "2",
        "--inject-nan-at",
        "3",
        "--out",
        s(&run),
    ]);
    let out = probunet(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("not finite") && stderr.contains("checkpoint-00000002"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!run.join("final.bpk").exists());
    assert!(!run.join("checkpoint-00000004.bpk").exists());
    // The kept checkpoint loads and is usable: eval on it gives finite numbers.
    let text = ok(&[
        "eval",
        "--weights",
        s(&run.join("checkpoint-00000002.bpk")),
        "--cases",
        "1",
    ]);
    assert!(text.contains("all"), "{text}");
    std::fs::remove_dir_all(&run).unwrap();
}

#[test]
fn deterministic_baseline_trains_and_evaluates_as_such() {
    let dir = out_dir("det");
    let mut args = TRAIN.to_vec();
    args.extend(["--steps", "3", "--deterministic", "--out", s(&dir)]);
    ok(&args);
    assert_eq!(read_json(&dir.join("final.json"))["deterministic"], true);
    let report = dir.join("eval.json");
    let text = ok(&[
        "eval",
        "--weights",
        s(&dir.join("final.bpk")),
        "--cases",
        "2",
        "--json",
        s(&report),
    ]);
    assert!(text.contains("deterministic (fcomb ignores z)"), "{text}");
    let doc = read_json(&report);
    assert_eq!(doc["deterministic"], true);
    // All samples are the same mask: diversity exactly 0.
    assert_eq!(doc["means"][0]["means"]["diversity"].as_f64().unwrap(), 0.0);
    assert_refused(
        &[
            "calibrate",
            "--weights",
            s(&dir.join("final.bpk")),
            "--out",
            s(&dir.join("calibrated.bpk")),
        ],
        "no prior to calibrate",
    );
    assert_refused(
        &[
            "fit-prior",
            "--weights",
            s(&dir.join("final.bpk")),
            "--out",
            s(&dir.join("fitted.bpk")),
            "--synthetic",
        ],
        "no prior to fit",
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
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `probunet args` must fail and say `message` on stderr.
fn assert_refused(args: &[&str], message: &str) {
    let out = probunet(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains(message),
        "{stderr}"
    );
}

/// `probunet <command> --help`, checked to mention every one of `options`; returns the text.
fn assert_help_lists(command: &str, options: &[&str]) -> String {
    let help = ok(&[command, "--help"]);
    for option in options {
        assert!(help.contains(option), "{command} --help lacks {option}");
    }
    help
}

#[test]
fn help_explains_every_option_and_bad_input_fails_cleanly() {
    let help = assert_help_lists(
        "train",
        &[
            "--synthetic",
            "--data",
            "--split",
            "--train-cases",
            "--preset",
            "--size",
            "--steps",
            "--batch-size",
            "--lr",
            "--lr-schedule",
            "--lr-min",
            "--lr-decay",
            "--lr-decay-every",
            "--lr-warmup",
            "--beta",
            "--kl-warmup",
            "--free-bits",
            "--fg-weight",
            "--grad-clip",
            "--seed",
            "--out",
            "--checkpoint-every",
            "--resume",
            "--deterministic",
            "--log-every",
        ],
    );
    assert!(!help.contains("--inject-nan-at"));
    assert_help_lists(
        "eval",
        &[
            "--weights",
            "--cases",
            "--seed-offset",
            "--data",
            "--split",
            "--every",
            "--size",
            "--sample-seed",
            "--json",
        ],
    );
    // Neither data source given; a size the preset cannot pool; weights that do not exist.
    let out = probunet(&["train", "--out", "/tmp/x"]);
    assert!(!out.status.success());
    let out = probunet(&[
        "train",
        "--synthetic",
        "--preset",
        "tiny",
        "--size",
        "34",
        "--out",
        "/tmp/x",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not divisible"));
    let out = probunet(&["eval", "--weights", "/nonexistent.bpk"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent.bpk"));

    assert_help_lists(
        "calibrate",
        &[
            "--weights",
            "--out",
            "--cases",
            "--temperatures",
            "--objective",
            "--size",
            "--sample-seed",
            "--half",
        ],
    );
    let shipped =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../public/model/probunet-small.bpk");
    assert_refused(
        &[
            "calibrate",
            "--weights",
            s(&shipped),
            "--out",
            "/tmp/x.bpk",
            "--temperatures",
            "0,-1",
        ],
        "--temperatures must be positive numbers",
    );

    assert_help_lists(
        "fit-prior",
        &[
            "--weights",
            "--out",
            "--synthetic",
            "--data",
            "--train-cases",
            "--size",
            "--steps",
            "--batch-size",
            "--samples",
            "--lr",
            "--grad-clip",
            "--seed",
            "--train-fcomb",
            "--gradient",
            "straight-through",
            "score-function",
            "--half",
            "--log-every",
        ],
    );
    assert_refused(
        &[
            "fit-prior",
            "--weights",
            s(&shipped),
            "--out",
            "/tmp/x.bpk",
            "--synthetic",
            "--samples",
            "1",
        ],
        "--samples must be at least 2",
    );
    assert_refused(
        &[
            "fit-prior",
            "--weights",
            s(&shipped),
            "--out",
            "/tmp/x.bpk",
            "--synthetic",
            "--samples",
            "2",
            "--gradient",
            "score-function",
        ],
        "--samples must be at least 3 with --gradient score-function",
    );
}

#[test]
fn the_hierarchical_model_trains_resumes_and_evaluates_on_lidc() {
    let dir = out_dir("hpunet");
    let data = two_patient_tars(&dir);
    let run = dir.join("run");
    let common = [
        "train",
        "--model",
        "hpunet",
        "--data",
        s(&data),
        "--preset",
        "tiny",
        "--size",
        "32",
        "--batch-size",
        "2",
        "--lr",
        "1e-3",
        "--checkpoint-every",
        "2",
        "--out",
        s(&run),
    ];
    let first = ok(&[&common[..], &["--steps", "2"]].concat());
    assert!(
        first.contains("hierarchical probabilistic U-Net (tiny preset"),
        "{first}"
    );
    let meta = read_json(&run.join("final.json"));
    assert_eq!(meta["preset"], "hpunet-tiny");
    assert!(meta["geco"]["lambda"].as_f64().unwrap() > 0.0, "{meta}");
    let resumed = ok(&[
        &common[..],
        &["--steps", "3", "--resume", s(&run), "--geco-lambda", "0.5"],
    ]
    .concat());
    // λ restarted at 0.5 and moved by one multiplicative step (|ν·C/kept| ≤ 1 per step).
    let lambda = read_json(&run.join("final.json"))["geco"]["lambda"]
        .as_f64()
        .unwrap();
    let e = std::f64::consts::E;
    assert!((0.5 / e..=0.5 * e).contains(&lambda), "{lambda}");
    assert!(
        resumed.contains("resuming from") && resumed.contains("at step 2"),
        "{resumed}"
    );

    let report = run.join("eval.json");
    // The f16 export is what a later stage resumes from and the page would load.
    let weights = run.join("hpu-f16.bpk");
    let exported = ok(&[
        "export",
        "--weights",
        s(&run.join("final.bpk")),
        "--out",
        s(&weights),
    ]);
    assert!(exported.contains("f16"), "{exported}");
    let table = ok(&[
        "eval",
        "--weights",
        s(&weights),
        "--data",
        s(&data),
        "--json",
        s(&report),
    ]);
    assert!(
        table.contains("hierarchical probabilistic U-Net"),
        "{table}"
    );
    let doc = read_json(&report);
    assert_eq!(doc["model"], "hierarchical probabilistic U-Net");
    assert_eq!(doc["config"]["latent_dims"], serde_json::json!([1, 1]));
    for slice in doc["per_case"].as_array().unwrap() {
        let recon = slice["reconstruction_iou"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&recon), "{slice}");
    }
    assert_all_finite(&doc["means"], "means");
    // The synthetic benchmark, decoder ceiling included (posterior chains of each hypothesis).
    let synthetic = run.join("synthetic.json");
    ok(&[
        "eval",
        "--weights",
        s(&weights),
        "--cases",
        "2",
        "--json",
        s(&synthetic),
    ]);
    let doc = read_json(&synthetic);
    assert_eq!(doc["mode"], "synthetic");
    for case in doc["per_case"].as_array().unwrap() {
        let shares: f64 = case["shares"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .sum();
        assert!((shares - 1.0).abs() < 1e-9, "{case}");
        for key in ["freq_error", "freq_error_ceiling", "ged100_ceiling"] {
            let v = case[key].as_f64().unwrap();
            assert!(v.is_finite() && v >= 0.0, "{key}: {case}");
        }
    }
    // `sample` takes either model: a DICOM slice, cropped by the weights' contract.
    let dicom =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/dicom/CT_small.dcm");
    let sampled = ok(&[
        "sample",
        "--weights",
        s(&weights),
        "--image",
        s(&dicom),
        "--n",
        "3",
        "--out",
        s(&run.join("samples")),
    ]);
    assert!(sampled.contains("wrote 3 samples"), "{sampled}");
    assert!(run.join("samples/sample-02.png").exists() && run.join("samples/mean.png").exists());
    // What it cannot do yet is refused, saying so.
    assert_refused(
        &[&common[..], &["--steps", "2", "--deterministic"]].concat(),
        "no hierarchical form",
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

//! The hierarchical model through the CLI: train, resume, evaluate on LIDC.

use std::path::Path;

use super::common::*;

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

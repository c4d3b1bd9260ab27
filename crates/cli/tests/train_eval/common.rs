//! What every end-to-end test of the CLI uses: running the binary, temporary folders, the
//! fixtures, JSON checks and the small training runs they share.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn out_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("probunet-cli-train-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs `probunet ARGS`, with one rayon thread (the CI machine is shared).
pub fn probunet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_probunet"))
        .args(args)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap()
}

pub fn ok(args: &[&str]) -> String {
    let out = probunet(args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "probunet {args:?} failed:\n{text}");
    text
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn lidc_fixture() -> PathBuf {
    Path::new(
        &std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"),
    )
    .join("../../../shared/fixtures/multirater/lidc0221")
}

pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every number anywhere in `v` is finite (NaN/inf would be serialised as null).
pub fn assert_all_finite(v: &serde_json::Value, at: &str) {
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

pub const TRAIN: [&str; 10] = [
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

/// A folder holding two patients' LIDC tars: one validation patient (LIDC-IDRI-0001 is in
/// docs/lidc-validation-patients.txt) and one training patient.
pub fn two_patient_tars(dir: &Path) -> PathBuf {
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
pub fn train_and_eval_on(data: &Path, run: &Path) -> (String, serde_json::Value) {
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

/// `probunet args` must fail and say `message` on stderr.
pub fn assert_refused(args: &[&str], message: &str) {
    let out = probunet(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains(message),
        "{stderr}"
    );
}

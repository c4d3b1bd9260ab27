//! The weights the page ships (`public/model/probunet-small.bpk`) load, and have really learnt a
//! distribution of segmentations: on held-out synthetic cases their samples are diverse and
//! beat what a single mask can reach. The bounds are set on these 20 cases, where the shipped
//! weights give GED₁₀₀ 0.099, diversity 0.434, frequency error 0.076 and HM-IoU₁₆ 0.789 (README:
//! the 100-case figures), with room for float differences between machines, while a broken
//! export, a collapsed posterior or untrained weights would fail them. The GED₁₀₀ bound also
//! fails the same weights before `probunet fit-prior` (0.130 here), and the frequency-error bound
//! the trained weights before any calibration (0.149).

use std::path::PathBuf;
use std::process::Command;

#[test]
fn shipped_weights_sample_a_learnt_distribution() {
    let root = PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"),
    )
    .join("../..");
    let weights = root.join("public/model/probunet-small.bpk");
    let json = std::env::temp_dir().join(format!("probunet-shipped-{}.json", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_probunet"))
        .args(["eval", "--cases", "20", "--weights"])
        .arg(&weights)
        .arg("--json")
        .arg(&json)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let all = &doc["means"][0];
    assert_eq!(all["group"], "all");
    let mean = |key: &str| all["means"][key].as_f64().unwrap();
    assert!(mean("ged100") < 0.115, "GED₁₀₀ {}", mean("ged100"));
    assert!(mean("diversity") > 0.15, "diversity {}", mean("diversity"));
    assert!(
        mean("freq_error") < 0.12,
        "frequency error {}",
        mean("freq_error")
    );
    assert!(mean("hm_iou16") > 0.65, "HM-IoU₁₆ {}", mean("hm_iou16"));
    // Decoding latents from the case's own posteriors (a perfect prior) must do better than the
    // prior: a posterior net that failed to load or learn would not.
    assert!(
        mean("ged100_ceiling") < mean("ged100"),
        "decoder ceiling GED₁₀₀ {} vs prior {}",
        mean("ged100_ceiling"),
        mean("ged100")
    );
    let fitted = doc["run"]["prior_fit"]["steps"].as_u64();
    assert!(
        fitted.is_some_and(|steps| steps > 0),
        "the shipped prior was fitted (probunet fit-prior): {fitted:?}"
    );
    assert_eq!(doc["size"], 64, "the size comes from the weights' sidecar");
}

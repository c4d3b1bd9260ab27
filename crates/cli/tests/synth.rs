//! `probunet synth` end to end: the files it writes, their layout and contents.

use std::path::PathBuf;
use std::process::Command;

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("probunet-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn probunet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_probunet"))
}

fn read_json(path: PathBuf) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn png_size(path: &PathBuf) -> (u32, u32, image::ColorType) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (img.width(), img.height(), img.color())
}

#[test]
fn writes_cases_raters_index_and_sheet() {
    let dir = out_dir("basic");
    let sheet = dir.join("sheet.png");
    let status = probunet()
        .args([
            "synth", "--count", "3", "--seed", "5", "--size", "64", "--raters", "4",
        ])
        .arg("--out")
        .arg(&dir)
        .arg("--contact-sheet")
        .arg(&sheet)
        .status()
        .unwrap();
    assert!(status.success());

    let index = read_json(dir.join("index.json"));
    assert_eq!(index["count"], 3);
    assert_eq!(index["split"], "train");
    let cases = index["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    assert_eq!(cases[0]["seed"], 5);
    assert_eq!(cases[2]["name"], "case-0002");

    for i in 0..3 {
        let name = format!("case-{i:04}");
        let doc = read_json(dir.join(format!("{name}.json")));
        let case = synth::Case::generate(5 + i, 64, 64);
        assert_eq!(doc["seed"], 5 + i);
        assert_eq!(doc["kind"], case.kind.name());
        let image = dir.join(format!("{name}_image.png"));
        assert_eq!(png_size(&image), (64, 64, image::ColorType::L8));
        let grey = image::open(&image).unwrap().into_luma8().into_raw();
        assert_eq!(grey, case.image_u8());
        let hyps = doc["hypotheses"].as_array().unwrap();
        assert_eq!(hyps.len(), case.hypotheses.len());
        let total: f64 = hyps
            .iter()
            .map(|h| h["probability"].as_f64().unwrap())
            .sum();
        assert!((total - 1.0).abs() < 1e-9);
        for (k, h) in case.hypotheses.iter().enumerate() {
            assert_eq!(hyps[k]["label"], h.label.as_str());
            let png = dir.join(format!("{name}_hyp-{k}.png"));
            let bytes = image::open(&png).unwrap().into_luma8().into_raw();
            let mask = metrics::Mask::from_u8(64, 64, &bytes, 127).unwrap();
            assert_eq!(mask, h.mask);
        }
        // The LIDC fixture layout: <stem>_image.png + <stem>_rater<R>.png.
        for r in 0..4 {
            let png = dir.join(format!("{name}_rater{r}.png"));
            assert_eq!(png_size(&png), (64, 64, image::ColorType::L8));
        }
        assert_eq!(doc["raters"].as_array().unwrap().len(), 4);
    }
    let (w, h, colour) = png_size(&sheet);
    assert_eq!(colour, image::ColorType::Rgb8);
    assert!(w > 64 * 9 && h > 64 * 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn eval_split_uses_held_out_seeds() {
    let dir = out_dir("eval");
    let status = probunet()
        .args(["synth", "--count", "1", "--split", "eval", "--size", "32"])
        .arg("--out")
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let doc = read_json(dir.join("case-0000.json"));
    assert_eq!(doc["seed"], synth::EVAL_SEED_BASE);
    assert_eq!(doc["split"], "eval");
    assert!(!dir.join("case-0000_rater0.png").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_options_fail_with_a_message() {
    let out = probunet()
        .args(["synth", "--out", "/tmp/x", "--size", "8"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--size must be at least"));
    let help = probunet().args(["synth", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for option in [
        "--out",
        "--count",
        "--seed",
        "--split",
        "--size",
        "--raters",
        "--contact-sheet",
    ] {
        assert!(text.contains(option), "--help lacks {option}");
    }
}

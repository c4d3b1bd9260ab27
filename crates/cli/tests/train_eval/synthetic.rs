//! Training on the synthetic benchmark: checkpoints, resume, eval, export and sample; the NaN
//! guard; the deterministic baseline.

use std::path::Path;

use super::common::*;

#[test]
fn train_checkpoint_resume_eval_export_sample() {
    let dir = out_dir("smoke");
    let run = dir.join("run");
    let mut args = TRAIN.to_vec();
    args.extend(["--steps", "4", "--checkpoint-every", "2", "--out", s(&run)]);
    ok(&args);
    assert!(run.join("checkpoint-00000002.bpk").exists());
    assert!(run.join("checkpoint-00000002.adam").exists());
    assert!(run.join("final.adam").exists());
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
    assert!(text.contains("Adam continues from"), "{text}");
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
fn a_resumed_run_takes_the_steps_of_the_uninterrupted_one() {
    let dir = out_dir("resume-adam");
    let (straight, resumed) = (dir.join("straight"), dir.join("resumed"));
    let train = |out: &Path, extra: &[&str]| {
        let mut args = TRAIN.to_vec();
        args.extend(["--steps", "6", "--checkpoint-every", "2", "--out", s(out)]);
        args.extend(extra);
        ok(&args)
    };
    train(&straight, &[]);
    let checkpoint = straight.join("checkpoint-00000004.bpk");
    let weights = |path: &Path| {
        let model =
            probunet::weights::load_weights_file(path, &burn::tensor::Device::flex()).unwrap();
        probunet::parameter_values(&model).unwrap()
    };

    // With Adam's state the resumed run's final weights are the uninterrupted run's, exactly.
    let text = train(&resumed, &["--resume", s(&checkpoint)]);
    assert!(text.contains("Adam continues from"), "{text}");
    assert!(weights(&resumed.join("final.bpk")) == weights(&straight.join("final.bpk")));

    // Without it Adam starts afresh, the run says so, and its weights differ.
    std::fs::remove_file(straight.join("checkpoint-00000004.adam")).unwrap();
    let text = train(&resumed, &["--resume", s(&checkpoint)]);
    assert!(text.contains("Adam starts afresh"), "{text}");
    assert!(weights(&resumed.join("final.bpk")) != weights(&straight.join("final.bpk")));

    // The state of another step (a stale file) is noticed: Adam starts afresh, the run says so.
    std::fs::copy(
        straight.join("checkpoint-00000002.adam"),
        straight.join("checkpoint-00000004.adam"),
    )
    .unwrap();
    let text = train(&resumed, &["--resume", s(&checkpoint)]);
    assert!(text.contains("belongs to step 2"), "{text}");
    assert!(weights(&resumed.join("final.bpk")) != weights(&straight.join("final.bpk")));

    // A file that is not Adam's state stops the run with a message, before any step.
    std::fs::write(straight.join("checkpoint-00000004.adam"), b"not adam").unwrap();
    let mut args = TRAIN.to_vec();
    args.extend([
        "--steps",
        "6",
        "--out",
        s(&resumed),
        "--resume",
        s(&checkpoint),
    ]);
    let out = probunet(&args);
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && text.contains("does not hold Adam's state"),
        "{text}"
    );
}

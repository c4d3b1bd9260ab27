//! Every option explained in `--help`, and bad input refused with a message.

use std::path::Path;

use super::common::*;

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

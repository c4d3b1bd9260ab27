//! Metrics (docs/CONVENTIONS.md, Metrics): hand-computed cases, invariances, and agreement with the independent
//! numpy/scipy implementation in `scripts/metrics_reference.py` (its output is committed as
//! `tests/data/metrics_vectors.json`).

use metrics::{
    IouMatrix, Mask, UncertaintyMap, binary_entropy, diversity, evaluate, ged, ged_weighted,
    hm_iou, hypothesis_frequencies, iou, iou_distance, ncc, variance_ncc,
};
use serde_json::Value;

const TOL: f64 = 1e-9;

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= TOL, "{what}: {a} vs {b}");
}

fn m4(bits: &str) -> Mask {
    Mask::parse_bits(4, 1, bits).unwrap()
}

/// Deterministic pseudo-random masks (xorshift64*), some of them empty.
fn random_masks(seed: u64, count: usize, w: usize, h: usize) -> Vec<Mask> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        s.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    (0..count)
        .map(|_| {
            let density = next() % 5; // 0 → empty mask
            Mask::from_fn(w, h, |_, _| next() % 8 < density)
        })
        .collect()
}

#[test]
fn iou_hand_cases_and_empty_rules() {
    assert_eq!(iou(&m4("0000"), &m4("0000")).unwrap(), 1.0);
    assert_eq!(iou_distance(&m4("0000"), &m4("0000")).unwrap(), 0.0);
    assert_eq!(iou(&m4("1000"), &m4("0000")).unwrap(), 0.0);
    assert_eq!(iou_distance(&m4("0000"), &m4("0001")).unwrap(), 1.0);
    assert_eq!(iou(&m4("1110"), &m4("0111")).unwrap(), 0.5);
    assert!(iou(&m4("1110"), &Mask::empty(2, 2)).is_err());
}

#[test]
fn ged_all_empty_and_one_empty() {
    let empty = vec![m4("0000"); 3];
    let g = ged(&empty, &empty[..2]).unwrap();
    assert_eq!(
        (g.squared, g.cross, g.samples, g.annotations),
        (0.0, 0.0, 0.0, 0.0)
    );
    // Empty samples vs one non-empty annotation: every cross distance is 1 → GED² = 2.
    let g = ged(&empty, &[m4("0110")]).unwrap();
    assert_eq!((g.squared, g.cross), (2.0, 1.0));
    assert_eq!(g.distance(), 2f64.sqrt());
    // Samples {0000, 0110} vs annotations {0110}: cross ½, samples ½ → GED² = ½.
    let g = ged(&[m4("0000"), m4("0110")], &[m4("0110")]).unwrap();
    assert_eq!(
        (g.squared, g.cross, g.samples, g.annotations),
        (0.5, 0.5, 0.5, 0.0)
    );
}

#[test]
fn distance_and_ged_are_symmetric() {
    let a = random_masks(1, 6, 10, 7);
    let b = random_masks(2, 4, 10, 7);
    for x in &a {
        for y in &b {
            assert_eq!(iou_distance(x, y).unwrap(), iou_distance(y, x).unwrap());
        }
    }
    let ab = ged(&a, &b).unwrap();
    let ba = ged(&b, &a).unwrap();
    close(ab.squared, ba.squared, "GED² swapped");
    close(ab.cross, ba.cross, "cross swapped");
    assert_eq!((ab.samples, ab.annotations), (ba.annotations, ba.samples));
}

#[test]
fn ged_is_zero_for_identical_distributions() {
    let a = random_masks(3, 5, 16, 16);
    assert!(ged(&a, &a).unwrap().squared.abs() < 1e-15);
    // The same distribution as a multiset: every annotation twice, in another order.
    let mut doubled: Vec<Mask> = a.iter().rev().cloned().collect();
    doubled.extend(a.iter().cloned());
    assert!(ged(&doubled, &a).unwrap().squared.abs() < 1e-12);
    // Weighted: annotations {a0: ⅔, a1: ⅓} against samples {a0, a0, a1}.
    let samples = [a[0].clone(), a[0].clone(), a[1].clone()];
    let g = ged_weighted(&samples, &a[..2], &[2.0, 1.0]).unwrap();
    assert!(g.squared.abs() < 1e-12, "{g}");
}

#[test]
fn weighted_equals_duplicated_unweighted() {
    let annotations = random_masks(4, 3, 12, 9);
    let samples = random_masks(5, 7, 12, 9);
    let weights = [2.0, 1.0, 3.0];
    let duplicated: Vec<Mask> = annotations
        .iter()
        .zip(weights)
        .flat_map(|(a, w)| std::iter::repeat_n(a.clone(), w as usize))
        .collect();
    let gw = ged_weighted(&samples, &annotations, &weights).unwrap();
    let gd = ged(&samples, &duplicated).unwrap();
    close(gw.squared, gd.squared, "GED²");
    close(gw.cross, gd.cross, "cross");
    close(gw.annotations, gd.annotations, "annotation term");
    // Scaling the weights changes nothing.
    let scaled = ged_weighted(&samples, &annotations, &[0.2, 0.1, 0.3]).unwrap();
    close(gw.squared, scaled.squared, "scaled weights");
    let mw = UncertaintyMap::from_weighted_masks(&annotations, &weights).unwrap();
    let md = UncertaintyMap::from_masks(&duplicated).unwrap();
    for (p, q) in mw.frequency().iter().zip(md.frequency()) {
        close(*p, *q, "annotation frequency");
    }
    close(
        variance_ncc(&samples, &annotations, Some(&weights)).unwrap(),
        variance_ncc(&samples, &duplicated, None).unwrap(),
        "NCC",
    );
}

#[test]
fn hm_iou_hand_case_and_order_invariance() {
    // Annotations A = 1100, B = 0011 tiled to (A, B, A, B); samples 1100, 1110, 0011, 0001.
    // IoU rows [1, 0], [2/3, 1/4], [0, 1], [0, 1/2] → best total 1 + 2/3 + 1 + 1/2 → mean 19/24.
    let annotations = [m4("1100"), m4("0011")];
    let samples = [m4("1100"), m4("1110"), m4("0011"), m4("0001")];
    let hm = hm_iou(&samples, &annotations).unwrap();
    close(hm.value, 19.0 / 24.0, "HM-IoU");
    assert_eq!(hm.assignment, [0, 0, 1, 1]);
    // n = 7, m = 3 (not a multiple): the value does not depend on the annotations' order.
    let a = random_masks(6, 3, 8, 8);
    let s = random_masks(7, 7, 8, 8);
    let forward = hm_iou(&s, &a).unwrap().value;
    let reversed: Vec<Mask> = a.iter().rev().cloned().collect();
    close(
        forward,
        hm_iou(&s, &reversed).unwrap().value,
        "HM-IoU, reversed annotations",
    );
}

#[test]
fn uncertainty_entropy_values() {
    // Four samples of one row: pixel frequencies 1, ¾, ½, 0.
    let samples = ["1110", "1100", "1110", "1000"].map(m4);
    let map = UncertaintyMap::from_masks(&samples).unwrap();
    assert_eq!(map.frequency(), [1.0, 0.75, 0.5, 0.0]);
    assert_eq!(map.variance(), [0.0, 0.1875, 0.25, 0.0]);
    let h = map.entropy();
    assert_eq!((h[0], h[2], h[3]), (0.0, 1.0, 0.0));
    close(h[1], 2.0 - 0.75 * 3f64.log2(), "H(3/4)");
    assert_eq!(binary_entropy(0.0), 0.0);
}

#[test]
fn ncc_edge_cases() {
    assert_eq!(ncc(&[0.0; 5], &[0.0; 5]), 1.0, "both constant and equal");
    assert_eq!(ncc(&[0.25; 5], &[0.0; 5]), 0.0, "both constant, different");
    assert_eq!(
        ncc(&[0.0, 0.1, 0.0, 0.0, 0.2], &[0.1; 5]),
        0.0,
        "one constant"
    );
    close(ncc(&[0.0, 0.1, 0.2], &[0.1, 0.2, 0.3]), 1.0, "shifted copy");
    close(ncc(&[0.0, 0.1, 0.2], &[0.2, 0.1, 0.0]), -1.0, "mirrored");
    // All samples identical and all annotations identical: zero-variance maps → 1.
    let one = vec![m4("0110"); 3];
    assert_eq!(variance_ncc(&one, &[m4("1000")], None).unwrap(), 1.0);
}

#[test]
fn hypothesis_frequency_hand_case() {
    let hypotheses = [m4("1100"), m4("0011")];
    let samples = ["1100", "1110", "0011", "1000", "0000"].map(m4);
    let f = hypothesis_frequencies(&samples, &hypotheses, &[0.5, 0.5]).unwrap();
    // 0000 has IoU 0 with both → the lower index.
    assert_eq!(f.assignment, [0, 0, 1, 0, 0]);
    assert_eq!(f.shares, [0.8, 0.2]);
    close(f.mean_abs_error, 0.3, "MAE");
}

#[test]
fn ged100_on_128x128_is_fast() {
    let samples = random_masks(8, 100, 128, 128);
    let annotations = random_masks(9, 4, 128, 128);
    let start = std::time::Instant::now();
    let e = evaluate(&samples, &annotations, None).unwrap();
    let elapsed = start.elapsed();
    eprintln!("GED₁₀₀ + HM-IoU + NCC on 128×128: {elapsed:?} ({})", e.ged);
    // Generous for an unoptimised test build on a busy 2-core machine; release is ~1 ms.
    assert!(elapsed.as_secs_f64() < 5.0, "{elapsed:?}");
    assert_eq!(e.diversity, diversity(&samples).unwrap());
}

// ---- agreement with scripts/metrics_reference.py ----

fn masks(case: &Value, key: &str) -> Vec<Mask> {
    let (w, h) = (
        case["width"].as_u64().unwrap(),
        case["height"].as_u64().unwrap(),
    );
    case[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| Mask::parse_bits(w as usize, h as usize, s.as_str().unwrap()).unwrap())
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn check_matrix(got: &IouMatrix, want: &Value, what: &str) {
    let rows = want.as_array().unwrap();
    assert_eq!(got.rows(), rows.len(), "{what} rows");
    for (i, row) in rows.iter().enumerate() {
        let row = floats(row);
        assert_eq!(got.cols(), row.len(), "{what} cols");
        for (j, v) in row.into_iter().enumerate() {
            close(got.iou(i, j), v, &format!("{what}[{i}][{j}]"));
        }
    }
}

/// Sum and index-weighted sum of a map, as the script summarises it.
fn check_map(got: &[f64], want: &Value, what: &str) {
    let sum: f64 = got.iter().sum();
    let weighted: f64 = got
        .iter()
        .enumerate()
        .map(|(i, v)| v * (i + 1) as f64)
        .sum();
    close(sum, want["sum"].as_f64().unwrap(), &format!("{what} sum"));
    close(
        weighted,
        want["index_weighted_sum"].as_f64().unwrap(),
        &format!("{what} weighted sum"),
    );
}

#[test]
fn agrees_with_numpy_reference() {
    let path = std::path::Path::new(
        &std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"),
    )
    .join("tests/data/metrics_vectors.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let samples = masks(case, "samples");
        let annotations = masks(case, "annotations");
        let weights = case["weights"].as_array().map(|_| floats(&case["weights"]));
        let uniform = vec![1.0; annotations.len()];
        let w = weights.as_deref().unwrap_or(&uniform);

        check_matrix(
            &IouMatrix::between(&samples, &annotations).unwrap(),
            &case["iou_cross"],
            name,
        );
        check_matrix(
            &IouMatrix::within(&samples).unwrap(),
            &case["iou_samples"],
            name,
        );
        check_matrix(
            &IouMatrix::within(&annotations).unwrap(),
            &case["iou_annotations"],
            name,
        );

        let e = evaluate(&samples, &annotations, weights.as_deref()).unwrap();
        let want = &case["ged"];
        close(
            e.ged.squared,
            want["squared"].as_f64().unwrap(),
            &format!("{name} GED²"),
        );
        close(
            e.ged.cross,
            want["cross"].as_f64().unwrap(),
            &format!("{name} cross"),
        );
        close(
            e.ged.samples,
            want["samples"].as_f64().unwrap(),
            &format!("{name} samples"),
        );
        close(
            e.ged.annotations,
            want["annotations"].as_f64().unwrap(),
            &format!("{name} annots"),
        );
        close(
            e.diversity,
            case["diversity"].as_f64().unwrap(),
            &format!("{name} diversity"),
        );
        close(
            e.hm_iou.value,
            case["hm_iou"].as_f64().unwrap(),
            &format!("{name} HM-IoU"),
        );
        close(e.ncc, case["ncc"].as_f64().unwrap(), &format!("{name} NCC"));
        let g = ged_weighted(&samples, &annotations, w).unwrap();
        close(
            g.squared,
            want["squared"].as_f64().unwrap(),
            &format!("{name} GED² weighted"),
        );

        let s_map = UncertaintyMap::from_masks(&samples).unwrap();
        check_map(s_map.frequency(), &case["sample_frequency"], name);
        check_map(&s_map.variance(), &case["sample_variance"], name);
        check_map(&s_map.entropy(), &case["sample_entropy"], name);
        let a_map = UncertaintyMap::from_weighted_masks(&annotations, w).unwrap();
        check_map(a_map.frequency(), &case["annotation_frequency"], name);
        check_map(&a_map.variance(), &case["annotation_variance"], name);

        let f = hypothesis_frequencies(&samples, &annotations, w).unwrap();
        let nearest: Vec<usize> = case["nearest_hypothesis"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(f.assignment, nearest, "{name} nearest hypothesis");
        for (got, want) in f.shares.iter().zip(floats(&case["hypothesis_shares"])) {
            close(*got, want, &format!("{name} share"));
        }
        close(
            f.mean_abs_error,
            case["frequency_mae"].as_f64().unwrap(),
            &format!("{name} MAE"),
        );
    }
}

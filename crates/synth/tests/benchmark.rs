//! The synthetic ambiguity benchmark: determinism, exact distributions, rater draws, and that
//! the images look like lung CT rather than flat shapes.
//!
//! Statistics run over a few hundred cases at 64 × 64 (the kind depends only on the seed, the
//! geometry only scales with the size) and a few dozen at 128 × 128, to keep the suite fast in
//! debug builds.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use metrics::{Mask, ged_weighted, iou};
use synth::SeededRng;
use synth::{
    AmbiguityKind, Benchmark, Case, EVAL_SEED_BASE, Split, draw_rater_indices, draw_raters,
    generate,
};

/// FNV-1a over the image bits and mask words: a fingerprint of a whole case.
fn fingerprint(case: &Case) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |v: u64| {
        for b in v.to_le_bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for v in &case.image {
        eat(v.to_bits() as u64);
    }
    for hyp in &case.hypotheses {
        eat(hyp.probability.to_bits());
        hyp.mask.words().iter().for_each(|&w| eat(w));
    }
    h
}

/// 240 training cases at 64 × 64, generated once and shared by the statistical tests.
fn cases_64() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| generate(0, 240, 64))
}

#[test]
fn same_seed_same_case_different_seed_different_case() {
    let a = Case::generate(7, 128, 128);
    let b = Case::generate(7, 128, 128);
    assert_eq!(a, b);
    assert_eq!(fingerprint(&a), fingerprint(&b));
    let c = Case::generate(8, 128, 128);
    assert_ne!(a.image, c.image);
    assert_eq!(Benchmark::new(Split::Train, 128).case(7), a);
}

/// Pins the generator's output bit for bit. The generator uses only IEEE-754 basic arithmetic
/// and `sqrt`, so this value must be the same on every platform (wasm included); it changes
/// only when the generator is changed on purpose (then update it, and regenerate any shipped
/// demo cases and reported numbers).
#[test]
fn output_is_pinned_bit_for_bit() {
    let prints: Vec<u64> = (0..3)
        .map(|s| fingerprint(&Case::generate(s, 64, 64)))
        .collect();
    assert_eq!(prints, GOLDEN, "generator output changed: {prints:#x?}");
}

const GOLDEN: [u64; 3] = [
    0x98b9_3d7e_7ee5_8712,
    0xdcb1_b0dc_4f53_e352,
    0x8b5a_d505_c8f1_073e,
];

#[test]
fn splits_never_share_a_seed() {
    let train = Benchmark::new(Split::Train, 64);
    let eval = Benchmark::new(Split::Eval, 64);
    assert_eq!(train.seed(0), 0);
    assert_eq!(eval.seed(0), EVAL_SEED_BASE);
    assert_eq!(Split::of_seed(train.seed(EVAL_SEED_BASE - 1)), Split::Train);
    let case = eval.case(2);
    assert_eq!(case.seed, EVAL_SEED_BASE + 2);
    assert_eq!(case.split(), Split::Eval);
    assert_eq!(eval.cases(0..3).count(), 3);
}

#[test]
fn every_kind_occurs_at_its_rate() {
    let n = 4000;
    let mut counts = BTreeMap::new();
    for seed in 0..n {
        *counts
            .entry(AmbiguityKind::for_seed(seed))
            .or_insert(0usize) += 1;
    }
    for (kind, per_mille) in AmbiguityKind::ALL.iter().zip(AmbiguityKind::PER_MILLE) {
        let p = per_mille as f64 / 1000.0;
        let share = counts.get(kind).copied().unwrap_or(0) as f64 / n as f64;
        let sigma = (p * (1.0 - p) / n as f64).sqrt();
        assert!((share - p).abs() < 5.0 * sigma, "{kind}: {share} vs {p}");
    }
    // A few hundred generated cases already contain every kind.
    let kinds: std::collections::BTreeSet<_> = cases_64().iter().map(|c| c.kind).collect();
    assert_eq!(kinds.len(), AmbiguityKind::ALL.len());
}

#[test]
fn hypotheses_are_distinct_distributions() {
    for case in cases_64().iter().chain(&generate(500, 24, 128)) {
        let total: f64 = case.probabilities().iter().sum();
        assert!(
            (total - 1.0).abs() < 1e-9,
            "seed {}: sum {total}",
            case.seed
        );
        assert_eq!(
            case.hypotheses.len(),
            case.kind.variants().len(),
            "seed {}",
            case.seed
        );
        for (i, a) in case.hypotheses.iter().enumerate() {
            assert!(a.probability > 0.0 && a.probability <= 1.0);
            assert_eq!(a.mask.shape(), (case.width, case.height));
            assert!(!a.label.is_empty());
            for b in &case.hypotheses[i + 1..] {
                assert_ne!(
                    a.mask, b.mask,
                    "seed {}: {} = {}",
                    case.seed, a.label, b.label
                );
                assert_ne!(a.label, b.label);
                let overlap = iou(&a.mask, &b.mask).unwrap();
                assert!(
                    overlap < 0.9,
                    "seed {}: {} ~ {} ({overlap})",
                    case.seed,
                    a.label,
                    b.label
                );
            }
        }
    }
}

#[test]
fn variants_nest_as_raters_would_draw_them() {
    let contains =
        |big: &Mask, small: &Mask| small.intersection_count(big) == small.foreground_count();
    for case in generate(1000, 80, 64) {
        let by_label: BTreeMap<&str, &Mask> = case
            .hypotheses
            .iter()
            .map(|h| (h.label.as_str(), &h.mask))
            .collect();
        if let (Some(t), Some(g)) = (by_label.get("tight"), by_label.get("generous")) {
            assert!(contains(g, t) && g.foreground_count() > t.foreground_count());
        }
        for (label, mask) in &by_label {
            if let Some(base) = label.strip_suffix(" with vessel") {
                assert!(
                    contains(mask, by_label[base]),
                    "seed {}: {label}",
                    case.seed
                );
            }
            if *label == "with vessel" {
                let base = by_label.get("nodule").or(by_label.get("lesion")).unwrap();
                assert!(contains(mask, base));
            }
            if *label == "with satellite" {
                assert!(contains(mask, by_label["nodule"]));
            }
        }
    }
}

#[test]
fn empty_and_rare_hypotheses_occur() {
    let cases = cases_64();
    let empty = cases
        .iter()
        .filter(|c| c.hypotheses.iter().any(|h| h.mask.is_empty()))
        .count();
    let rare = cases
        .iter()
        .filter(|c| c.hypotheses.iter().any(|h| h.is_rare()))
        .count();
    assert!(empty > 20, "{empty} cases with a missed-lesion hypothesis");
    assert!(rare > 20, "{rare} cases with a 10–20 % hypothesis");
    for case in cases {
        // Only faint lesions are missed, and a missed lesion is the empty mask.
        let has_empty = case.hypotheses.iter().any(|h| h.mask.is_empty());
        assert_eq!(has_empty, case.kind.is_faint(), "seed {}", case.seed);
    }
}

#[test]
fn rater_frequencies_match_the_probabilities() {
    let n = 4000;
    let mut rng = SeededRng::new(11);
    for kind in AmbiguityKind::ALL {
        let seed = (0..).find(|&s| AmbiguityKind::for_seed(s) == kind).unwrap();
        let case = Case::generate(seed, 64, 64);
        let mut counts = vec![0usize; case.hypotheses.len()];
        for k in draw_rater_indices(&case, n, &mut rng) {
            counts[k] += 1;
        }
        for (h, &c) in case.hypotheses.iter().zip(&counts) {
            let p = h.probability;
            let sigma = (p * (1.0 - p) / n as f64).sqrt().max(1e-3);
            let share = c as f64 / n as f64;
            assert!(
                (share - p).abs() < 5.0 * sigma,
                "{kind} {}: {share} vs {p}",
                h.label
            );
        }
    }
    // Four raters, like LIDC; the case's own stream gives the same four every time.
    let case = Case::generate(3, 64, 64);
    let a = draw_raters(&case, 4, &mut case.rater_rng());
    assert_eq!(a, draw_raters(&case, 4, &mut case.rater_rng()));
    assert!(
        a.iter()
            .all(|m| case.hypotheses.iter().any(|h| &h.mask == m))
    );
}

fn mean(values: &[f32]) -> f64 {
    values.iter().map(|&v| v as f64).sum::<f64>() / values.len().max(1) as f64
}

fn median(mut values: Vec<f32>) -> f64 {
    values.sort_by(f32::total_cmp);
    values[values.len() / 2] as f64
}

#[test]
fn images_are_textured_lung_windows() {
    for case in generate(2000, 16, 128) {
        assert_eq!(case.image.len(), 128 * 128);
        assert!(case.image.iter().all(|v| (0.0..=1.0).contains(v)));
        // Lung pixels well away from every hypothesis: dark, but not flat.
        let union = case
            .hypotheses
            .iter()
            .fold(Mask::empty(128, 128), |acc, h| {
                Mask::from_fn(128, 128, |x, y| acc.get(x, y) || h.mask.get(x, y))
            });
        let lung: Vec<f32> = (0..128 * 128)
            .filter(|&i| !union.get(i % 128, i / 128) && case.image[i] < 0.6)
            .map(|i| case.image[i])
            .collect();
        let m = mean(&lung);
        let std =
            (lung.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / lung.len() as f64).sqrt();
        assert!(
            (0.15..0.45).contains(&m),
            "seed {}: lung mean {m}",
            case.seed
        );
        assert!(std > 0.015, "seed {}: lung texture std {std}", case.seed);
        // Bright structures (vessels, wall) exist beyond the lesion.
        let bright = (0..128 * 128)
            .filter(|&i| !union.get(i % 128, i / 128) && case.image[i] > 0.7)
            .count();
        assert!(
            bright > 30,
            "seed {}: only {bright} bright pixels outside the lesion",
            case.seed
        );
    }
}

#[test]
fn lesions_stand_out_from_the_lung() {
    for case in generate(3000, 40, 128) {
        // The smallest non-empty hypothesis: the lesion core every non-missing rater includes.
        let core = case
            .hypotheses
            .iter()
            .filter(|h| !h.mask.is_empty())
            .min_by_key(|h| h.mask.foreground_count())
            .unwrap();
        let inside: Vec<f32> = core
            .mask
            .foreground_indices()
            .map(|i| case.image[i])
            .collect();
        let (cx, cy) = core
            .mask
            .foreground_indices()
            .fold((0.0, 0.0), |(x, y), i| {
                (x + (i % 128) as f64, y + (i / 128) as f64)
            });
        let n = core.mask.foreground_count() as f64;
        let (cx, cy, r) = (cx / n, cy / n, (n / std::f64::consts::PI).sqrt());
        let ring: Vec<f32> = (0..128 * 128)
            .filter(|&i| {
                let (dx, dy) = ((i % 128) as f64 - cx, (i / 128) as f64 - cy);
                let d = (dx * dx + dy * dy).sqrt();
                d > 2.2 * r + 4.0 && d < 3.2 * r + 8.0
            })
            .map(|i| case.image[i])
            .collect();
        let contrast = mean(&inside) - median(ring);
        let needed = if case.kind.is_faint() { 0.08 } else { 0.3 };
        assert!(
            contrast > needed,
            "seed {} ({}): contrast {contrast}",
            case.seed,
            case.kind
        );
    }
}

#[test]
fn true_distribution_has_zero_ged_against_itself() {
    for case in generate(4000, 24, 64) {
        let masks = case.masks();
        let p = case.probabilities();
        // Every probability is a multiple of 1/20: 20 samples reproduce the distribution exactly.
        let samples: Vec<Mask> = case
            .hypotheses
            .iter()
            .flat_map(|h| {
                std::iter::repeat_n(h.mask.clone(), (h.probability * 20.0).round() as usize)
            })
            .collect();
        assert_eq!(samples.len(), 20);
        let exact = ged_weighted(&samples, &masks, &p).unwrap();
        assert!(exact.squared.abs() < 1e-9, "seed {}: {exact}", case.seed);
        // Raters drawn from it: GED shrinks to sampling noise.
        let drawn = draw_raters(&case, 400, &mut case.rater_rng());
        let noisy = ged_weighted(&drawn, &masks, &p).unwrap();
        assert!(noisy.squared < 0.02, "seed {}: {noisy}", case.seed);
        // Always answering with the first hypothesis is clearly worse when raters disagree.
        if case.hypotheses.len() > 1 {
            let mode = vec![masks[0].clone(); 20];
            let collapsed = ged_weighted(&mode, &masks, &p).unwrap();
            // GED² of the mode h₀ is 2·Σⱼ pⱼ·d(h₀, hⱼ) − E[d(y, y′)] = 2·p₁²·d(h₀, h₁) for two
            // hypotheses: small when the other one is rare, but never zero.
            assert!(collapsed.squared > 0.004, "seed {}: {collapsed}", case.seed);
        }
    }
}

#[test]
fn any_size_and_aspect() {
    let case = Case::generate(5, 96, 64);
    assert_eq!(
        (case.width, case.height, case.image.len()),
        (96, 64, 96 * 64)
    );
    assert_eq!(case.kind, AmbiguityKind::for_seed(5));
    assert_eq!(case.kind, Case::generate(5, 128, 128).kind);
    assert!(case.hypotheses.iter().all(|h| h.mask.shape() == (96, 64)));
    assert!(std::panic::catch_unwind(|| Case::generate(5, 16, 16)).is_err());
}

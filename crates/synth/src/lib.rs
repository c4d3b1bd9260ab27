//! The synthetic ambiguity benchmark (docs/CONVENTIONS.md): lung-CT-like crops whose annotation
//! distribution is known exactly.
//!
//! LIDC-IDRI pixels cannot be had here, and even with them the "true" distribution behind four
//! raters is unknown. Each case here is an image plus a small set of plausible masks with exact
//! probabilities, drawn from these ambiguity types ([`AmbiguityKind`], tables in
//! [`AmbiguityKind::variants`]):
//!
//! * a faint ground-glass lesion some raters miss (an **empty** hypothesis);
//! * a blurred edge (solid core + ground-glass halo) drawn **tight** or **generous**;
//! * a vessel running through the lesion, its adjoining segment **included or not**;
//! * a satellite opacity that only a few raters include (a **rare** hypothesis, 10–20 %);
//! * combinations of these, and certain cases with one hypothesis.
//!
//! Images are painted in Hounsfield units (textured parenchyma, branching vessels with blurred
//! edges, end-on vessel dots, sometimes the chest wall, correlated noise) and lung-windowed to
//! `[0, 1]`. Training draws four raters per case ([`draw_raters`]); evaluation compares samples
//! against the weighted hypotheses, so GED and per-hypothesis frequency error are exact.
//!
//! **Splits.** Training uses seeds `0..EVAL_SEED_BASE` and evaluation `EVAL_SEED_BASE..`
//! ([`Split`]); [`Benchmark`] hands out cases of one split by index.
//!
//! **Determinism.** A case is a pure function of (seed, width, height), bit-identical on every
//! platform, wasm included: see [`seeds`] for how.
//!
//! ```
//! use synth::{Benchmark, Split, draw_raters};
//! let bench = Benchmark::new(Split::Train, 64);
//! let case = bench.case(3);
//! let total: f64 = case.hypotheses.iter().map(|h| h.probability).sum();
//! assert!((total - 1.0).abs() < 1e-9);
//! let raters = draw_raters(&case, 4, &mut case.rater_rng());
//! assert_eq!(raters.len(), 4);
//! ```

mod anatomy;
mod case;
mod geometry;
mod hypotheses;
mod kind;
mod nodule;
mod raters;
pub mod rng;
mod scene;
pub mod seeds;
mod texture;
mod vessels;

pub use anatomy::{LUNG_WINDOW, window};
pub use case::{Case, Hypothesis, MIN_SIZE};
pub use kind::{AmbiguityKind, Outline, Variant};
pub use raters::{draw_rater_indices, draw_raters};
pub use rng::SeededRng;
pub use seeds::{EVAL_SEED_BASE, Split};

/// The cases of one split at one size, generated on demand (a training loop can stream
/// millions of them without holding them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Benchmark {
    /// Which seeds the cases come from.
    pub split: Split,
    /// Image width in pixels.
    pub width: usize,
    /// Image height in pixels.
    pub height: usize,
}

impl Benchmark {
    /// Square `size × size` cases of `split` (the paper's model takes 128 × 128).
    pub fn new(split: Split, size: usize) -> Self {
        Self {
            split,
            width: size,
            height: size,
        }
    }

    /// The seed of case `index`.
    pub fn seed(&self, index: u64) -> u64 {
        self.split.seed(index)
    }

    /// Case `index` of the split.
    pub fn case(&self, index: u64) -> Case {
        Case::generate(self.seed(index), self.width, self.height)
    }

    /// Cases `range` of the split, generated lazily.
    pub fn cases(&self, range: std::ops::Range<u64>) -> impl Iterator<Item = Case> + '_ {
        range.map(|i| self.case(i))
    }
}

/// `count` square cases with consecutive seeds `first_seed, first_seed + 1, …`.
pub fn generate(first_seed: u64, count: usize, size: usize) -> Vec<Case> {
    (0..count as u64)
        .map(|i| Case::generate(first_seed + i, size, size))
        .collect()
}

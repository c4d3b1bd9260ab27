//! One benchmark case: the image, the exact annotation distribution, and where it came from.

use super::hypotheses;
use super::kind::AmbiguityKind;
use super::scene::Scene;
use super::seeds::{Split, Stream, stream};
use crate::rng::SeededRng;
use metrics::Mask;

/// The smallest crop side the generator accepts: below it, nodules and vessels shrink to a
/// pixel or two and the hypotheses stop being meaningful.
pub const MIN_SIZE: usize = 32;

/// One plausible annotation of a case and how likely a rater is to draw it.
#[derive(Clone, Debug, PartialEq)]
pub struct Hypothesis {
    /// The mask (empty for "missed").
    pub mask: Mask,
    /// Exact probability; the probabilities of a case sum to 1.
    pub probability: f64,
    /// What the rater did, e.g. "tight", "generous with vessel", "missed".
    pub label: String,
}

impl Hypothesis {
    /// A rare hypothesis in the sense of docs/CONVENTIONS.md: drawn by 10–20 % of raters.
    pub fn is_rare(&self) -> bool {
        (0.10 - 1e-9..=0.20 + 1e-9).contains(&self.probability)
    }
}

/// A synthetic lung-CT crop with the exact distribution of its plausible segmentations.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// The seed the case was generated from (see [`Split`] for which seeds are held out).
    pub seed: u64,
    /// Image width in pixels.
    pub width: usize,
    /// Image height in pixels.
    pub height: usize,
    /// Row-major lung-window intensities in `[0, 1]` (window L −600 / W 1500 HU): what the
    /// model sees.
    pub image: Vec<f32>,
    /// What the raters disagree about.
    pub kind: AmbiguityKind,
    /// The distinct plausible masks, probabilities summing to 1, in the kind's table order.
    pub hypotheses: Vec<Hypothesis>,
}

impl Case {
    /// The case of `seed` at `width × height`. The same arguments give the same case, bit for
    /// bit, on every platform; the kind depends on the seed only, the geometry scales with the
    /// size. Panics when a side is below [`MIN_SIZE`].
    pub fn generate(seed: u64, width: usize, height: usize) -> Case {
        assert!(
            width >= MIN_SIZE && height >= MIN_SIZE,
            "synthetic cases need at least {MIN_SIZE}×{MIN_SIZE} pixels, got {width}×{height}"
        );
        let kind = AmbiguityKind::for_seed(seed);
        let scene = Scene::layout(seed, kind, width, height);
        let image = scene.render(seed);
        let hypotheses = hypotheses::build(kind, &scene);
        Case {
            seed,
            width,
            height,
            image,
            kind,
            hypotheses,
        }
    }

    /// The split this case belongs to.
    pub fn split(&self) -> Split {
        Split::of_seed(self.seed)
    }

    /// The hypothesis masks, in order.
    pub fn masks(&self) -> Vec<Mask> {
        self.hypotheses.iter().map(|h| h.mask.clone()).collect()
    }

    /// The hypothesis probabilities, in order (the weights for `metrics::ged_weighted`).
    pub fn probabilities(&self) -> Vec<f64> {
        self.hypotheses.iter().map(|h| h.probability).collect()
    }

    /// This case's own rater stream: drawing raters from it gives the same "four raters" for
    /// the case everywhere (the CLI's `--raters` uses it).
    pub fn rater_rng(&self) -> SeededRng {
        stream(self.seed, Stream::Raters)
    }

    /// The image as 8-bit grey levels (round to nearest), for PNG export and previews.
    pub fn image_u8(&self) -> Vec<u8> {
        self.image
            .iter()
            .map(|&v| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8)
            .collect()
    }
}

//! The built-in teaching cases, shipped in `public/demo`, each with its set of plausible masks
//! and their probabilities:
//! - synthetic ambiguity-benchmark cases (written by `probunet synth --split eval
//!   --one-per-kind`), whose true distribution is known exactly;
//! - real LIDC-IDRI slices of validation patients (written by `scripts/lidc_teaching_cases.py`),
//!   where the four radiologists' outlines, identical ones merged, are the distribution.
//!
//! Each case says which shipped model it is for; masks are at the image's own size.

use std::sync::Arc;

use imaging::Slice;
use metrics::{HypothesisFrequencies, Mask};
use serde::Deserialize;
use session::Analysis;
use synth::AmbiguityKind;

use crate::browser::fetch_bytes;
use crate::workbench::ShippedModel;

/// Where the demo cases live, relative to the page.
const DEMO_DIR: &str = "public/demo";

/// Where a teaching case comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseSource {
    /// The synthetic ambiguity benchmark (`kind` says which ambiguity).
    #[default]
    Synthetic,
    /// A real LIDC-IDRI slice with its four readers' outlines.
    Lidc,
}

impl CaseSource {
    /// The shipped model trained on cases like this one.
    pub fn model(self) -> ShippedModel {
        match self {
            CaseSource::Synthetic => ShippedModel::Synthetic,
            CaseSource::Lidc => ShippedModel::Lidc,
        }
    }
}

/// One entry of `index.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DemoEntry {
    pub name: String,
    #[serde(default)]
    pub source: CaseSource,
    /// The synthetic case's kind of ambiguity (absent for LIDC cases).
    #[serde(default)]
    pub kind: Option<AmbiguityKind>,
    pub hypotheses: usize,
    pub file: String,
}

impl DemoEntry {
    /// A short name for menus: the ambiguity kind, or "LIDC".
    pub fn kind_label(&self) -> String {
        match (self.source, self.kind) {
            (CaseSource::Lidc, _) => "real CT, LIDC-IDRI".into(),
            (_, Some(kind)) => kind.name().replace('_', " "),
            (_, None) => "synthetic".into(),
        }
    }
}

#[derive(Deserialize)]
struct IndexDoc {
    cases: Vec<DemoEntry>,
}

#[derive(Deserialize)]
struct CaseDoc {
    name: String,
    #[serde(default)]
    kind: Option<AmbiguityKind>,
    /// Where the case comes from, in words (LIDC: patient, nodule, slice and attribution).
    #[serde(default)]
    description: Option<String>,
    image: String,
    hypotheses: Vec<HypothesisDoc>,
}

#[derive(Deserialize)]
struct HypothesisDoc {
    label: String,
    probability: f64,
    rare: bool,
    file: String,
}

/// One plausible segmentation of a demo case.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    pub label: String,
    pub probability: f64,
    pub rare: bool,
    pub mask: Mask,
}

/// A demo case ready to show: the image and its true distribution of masks.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoCase {
    pub name: String,
    pub source: CaseSource,
    /// A sentence on what the case shows.
    pub description: String,
    /// The case's image, decoded once.
    pub slice: Arc<Slice>,
    pub hypotheses: Vec<Hypothesis>,
}

async fn fetch_json<T: for<'de> Deserialize<'de>>(path: &str) -> Result<T, String> {
    let bytes = fetch_bytes(path, |_, _| {}).await?;
    serde_json::from_slice(&bytes).map_err(|error| format!("{path} is not valid: {error}"))
}

/// The list of demo cases.
pub async fn load_index() -> Result<Vec<DemoEntry>, String> {
    let index: IndexDoc = fetch_json(&format!("{DEMO_DIR}/index.json")).await?;
    Ok(index.cases)
}

/// Fetches one case with its hypothesis masks.
pub async fn load_case(entry: &DemoEntry) -> Result<DemoCase, String> {
    let doc: CaseDoc = fetch_json(&format!("{DEMO_DIR}/{}", entry.file)).await?;
    let description = match (doc.description, doc.kind) {
        (Some(text), _) => text,
        (None, Some(kind)) => kind.description().to_string(),
        (None, None) => String::new(),
    };
    let image_path = format!("{DEMO_DIR}/{}", doc.image);
    let image_bytes = fetch_bytes(&image_path, |_, _| {}).await?;
    let slice = imaging::decode(&image_bytes, Some(&doc.image))
        .map_err(|error| format!("{image_path}: {error}"))?;
    let mut hypotheses = Vec::with_capacity(doc.hypotheses.len());
    for hypothesis in doc.hypotheses {
        let path = format!("{DEMO_DIR}/{}", hypothesis.file);
        let bytes = fetch_bytes(&path, |_, _| {}).await?;
        let slice = imaging::decode(&bytes, Some(&hypothesis.file))
            .map_err(|error| format!("{path}: {error}"))?;
        let (w, h) = (slice.width as usize, slice.height as usize);
        // Any non-zero pixel is foreground, as in every input contract.
        let mask = Mask::from_fn(w, h, |x, y| slice.pixels[y * w + x] != 0.0);
        hypotheses.push(Hypothesis {
            label: hypothesis.label,
            probability: hypothesis.probability,
            rare: hypothesis.rare,
            mask,
        });
    }
    Ok(DemoCase {
        name: doc.name,
        source: entry.source,
        description,
        slice: Arc::new(slice),
        hypotheses,
    })
}

impl DemoCase {
    /// The model's predicted share of each true hypothesis (its samples assigned to the nearest
    /// by IoU), when the analysed crop lies inside this case at native scale.
    pub fn frequencies(&self, analysis: &Analysis) -> Option<HypothesisFrequencies> {
        let masks = self.hypotheses_in(&analysis.crop.map)?;
        let probabilities: Vec<f64> = self.hypotheses.iter().map(|h| h.probability).collect();
        analysis.frequencies(&masks, &probabilities)
    }

    /// The hypotheses' masks inside a model crop at native scale (`origin`: the crop's top-left
    /// image pixel, `side²` pixels), or `None` when the crop is resampled or leaves the image.
    pub fn hypotheses_in(&self, map: &imaging::CropMap) -> Option<Vec<Mask>> {
        let (ox, oy) = map.origin;
        let (side, _) = map.model_size;
        let fits = map.scale == (1.0, 1.0)
            && ox >= 0.0
            && oy >= 0.0
            && ox.fract() == 0.0
            && oy.fract() == 0.0
            && ox as u32 + side <= self.slice.width
            && oy as u32 + side <= self.slice.height;
        if !fits {
            return None;
        }
        let (x0, y0, side) = (ox as usize, oy as usize, side as usize);
        Some(
            self.hypotheses
                .iter()
                .map(|h| Mask::from_fn(side, side, |x, y| h.mask.get(x0 + x, y0 + y)))
                .collect(),
        )
    }
}

//! The built-in teaching cases: synthetic ambiguity-benchmark cases shipped in `public/demo`
//! (written by `probunet synth --split eval --one-per-kind`), each with its exact set of
//! plausible masks and their probabilities.

use std::sync::Arc;

use imaging::Slice;
use probunet::metrics::Mask;
use probunet::synth::AmbiguityKind;
use serde::Deserialize;

use crate::browser::fetch_bytes;

/// Where the demo cases live, relative to the page.
const DEMO_DIR: &str = "public/demo";

/// One entry of `index.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DemoEntry {
    pub name: String,
    pub kind: AmbiguityKind,
    pub hypotheses: usize,
    pub file: String,
}

#[derive(Deserialize)]
struct IndexDoc {
    cases: Vec<DemoEntry>,
}

#[derive(Deserialize)]
struct CaseDoc {
    name: String,
    kind: AmbiguityKind,
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
    pub kind: AmbiguityKind,
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
        let mask = Mask::from_fn(w, h, |x, y| slice.pixels[y * w + x] > 127.0);
        hypotheses.push(Hypothesis {
            label: hypothesis.label,
            probability: hypothesis.probability,
            rare: hypothesis.rare,
            mask,
        });
    }
    Ok(DemoCase {
        name: doc.name,
        kind: doc.kind,
        slice: Arc::new(slice),
        hypotheses,
    })
}

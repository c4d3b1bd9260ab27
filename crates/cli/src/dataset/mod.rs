//! Multi-rater training and evaluation data, read once into memory through the model-input
//! contract ([`imaging::InputContract`]).
//!
//! Three layouts are recognised from what a folder holds:
//! - a folder of per-patient `LIDC-IDRI-XXXX.tar` files (`shared/lidc-crops`), read straight
//!   from the archives ([`lidc`]);
//! - the same tree extracted (the Kaggle "LIDC-IDRI slices" layout:
//!   `<patient>/nodule-N/images/slice-K.png` + `mask-R/slice-K.png`), or one patient's folder;
//! - a flat folder of `<slice>_image.png` + `<slice>_rater<R>.png` (the `lidc0221` fixture,
//!   `probunet synth --raters N`) ([`flat`]).
//!
//! Every slice is decoded once and cropped/normalised by the contract, and its masks are kept
//! as bitsets, so the training loop never waits on PNG decoding.

pub mod flat;
pub mod lidc;
pub mod split;

use std::path::Path;

use anyhow::{Context, Result, bail};
use imaging::InputContract;
use metrics::Mask;

pub use split::PatientSplit;

/// One slice: the model-ready image and every rater's mask at the same size.
#[derive(Debug, Clone)]
pub struct MultiRaterSlice {
    /// Where the slice comes from, e.g. `LIDC-IDRI-0001/nodule-0/slice-3` or `z-103.5`.
    pub name: String,
    /// The patient the slice belongs to: splits are by patient, never by slice.
    pub patient: String,
    /// Row-major model input in `[0, 1]`, `model_side²`.
    pub image: Vec<f32>,
    /// One mask per annotation slot, in slot order; empty slots stay (as in the paper's LIDC
    /// set: a reader who did not mark the nodule on this slice).
    pub raters: Vec<Mask>,
}

impl MultiRaterSlice {
    /// Raters whose mask is not empty.
    pub fn raters_with_lesion(&self) -> usize {
        self.raters
            .iter()
            .filter(|m| m.foreground_count() > 0)
            .count()
    }
}

/// Reads every slice of `dir` (any of the three layouts) through `contract`, keeping the
/// patients `split` selects (`None`: `lidc_default` for LIDC patients; a flat folder, one
/// patient, is read whole).
pub fn read(
    dir: &Path,
    contract: &InputContract,
    split: Option<PatientSplit>,
    lidc_default: PatientSplit,
) -> Result<Vec<MultiRaterSlice>> {
    contract.check()?;
    let layout = lidc::Layout::of(dir)?;
    let lidc_split = split.unwrap_or(lidc_default);
    let slices = match layout {
        Some(layout) => lidc::read(dir, layout, contract, lidc_split)?,
        None => {
            if let Some(split) = split.filter(|&s| s != PatientSplit::All) {
                bail!(
                    "{} is a flat multi-rater folder (one patient): --split {} needs the LIDC \
                     layout; use --split all",
                    dir.display(),
                    split.name()
                );
            }
            flat::read(dir, contract)?
        }
    };
    if slices.is_empty() {
        bail!(
            "{} holds no slices of the {} split",
            dir.display(),
            lidc_split.name()
        );
    }
    Ok(slices)
}

/// Decodes one image file's bytes and prepares it by `contract` around its centre.
pub(crate) fn prepare_image(
    bytes: &[u8],
    name: &str,
    contract: &InputContract,
) -> Result<(Vec<f32>, (f32, f32))> {
    let slice = imaging::decode(bytes, Some(name)).with_context(|| format!("decoding {name}"))?;
    let center = (slice.width as f32 / 2.0, slice.height as f32 / 2.0);
    let prepared = contract
        .prepare(&slice, center)
        .with_context(|| format!("preparing {name}"))?;
    Ok((prepared.data, center))
}

/// Decodes one mask file's bytes and reads it by `contract` for the crop around `center`.
pub(crate) fn prepare_mask(
    bytes: &[u8],
    name: &str,
    contract: &InputContract,
    center: (f32, f32),
) -> Result<Mask> {
    let slice = imaging::decode(bytes, Some(name)).with_context(|| format!("decoding {name}"))?;
    let bits = contract
        .prepare_mask(&slice, center)
        .with_context(|| format!("reading mask {name}"))?;
    let side = contract.model_side as usize;
    Mask::from_bools(side, side, &bits).with_context(|| format!("mask {name}"))
}

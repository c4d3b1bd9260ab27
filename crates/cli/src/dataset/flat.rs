//! Flat multi-rater folders: `<slice>_image.png` plus `<slice>_rater<R>.png`, or DICOM
//! images with their SEG files.
//!
//! This is the layout of the LIDC fixture `shared/fixtures/multirater/lidc0221` (180×180 crops,
//! four radiologists) and of `probunet synth --raters N` (`case-0000_image.png`,
//! `case-0000_rater0.png`). Images of any size are prepared by the model's contract around
//! their centre (native pixel scale, never resized); the folder is one patient.

use std::path::Path;

use anyhow::{Context, Result, bail};
use imaging::InputContract;
use metrics::Mask;

use super::MultiRaterSlice;

/// Reads every slice of `dir`, sorted by name: files named `<slice>_image.<png|dcm|jpg>` with
/// `<slice>_rater<R>.png` masks, and DICOM images with the DICOM SEG files drawn on them
/// ([`imaging::group_annotated`], the page's rule). Files that fit neither are listed on
/// stderr and skipped.
pub fn read(dir: &Path, contract: &InputContract) -> Result<Vec<MultiRaterSlice>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("reading folder {}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.') || !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        files.push((name.to_string(), bytes));
    }
    let (annotated, problems) = imaging::group_annotated(files, contract);
    for problem in &problems {
        eprintln!("skipped in {}: {problem}", dir.display());
    }
    if annotated.is_empty() {
        bail!(
            "{} holds no annotated slices and no LIDC patients (expected <slice>_image.png + \
             <slice>_rater0.png, …, a DICOM image with its SEG files, or LIDC-IDRI-XXXX.tar / \
             LIDC-IDRI-XXXX/nodule-N/images/slice-K.png)",
            dir.display()
        );
    }
    let patient = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let side = contract.model_side as usize;
    annotated
        .into_iter()
        .map(|slice| {
            let raters = slice
                .masks
                .iter()
                .zip(&slice.mask_names)
                .map(|(bits, name)| {
                    Mask::from_bools(side, side, bits).with_context(|| format!("mask {name}"))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(MultiRaterSlice {
                name: slice.name,
                patient: patient.clone(),
                image: slice.image,
                raters,
            })
        })
        .collect()
}

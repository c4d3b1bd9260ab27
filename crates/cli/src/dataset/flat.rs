//! Flat multi-rater folders: `<slice>_image.png` plus `<slice>_rater<R>.png`.
//!
//! This is the layout of the LIDC fixture `shared/fixtures/multirater/lidc0221` (180×180 crops,
//! four radiologists) and of `probunet synth --raters N` (`case-0000_image.png`,
//! `case-0000_rater0.png`). Images of any size are prepared by the model's contract around
//! their centre (native pixel scale, never resized); the folder is one patient.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use imaging::InputContract;

use super::{MultiRaterSlice, prepare_image, prepare_mask};

/// Reads every slice of `dir`, sorted by name.
pub fn read(dir: &Path, contract: &InputContract) -> Result<Vec<MultiRaterSlice>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("reading folder {}", dir.display()))?;
    let mut stems: BTreeMap<String, BTreeMap<usize, PathBuf>> = BTreeMap::new();
    let mut raters: Vec<(String, usize, PathBuf)> = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if let Some(stem) = name.strip_suffix("_image.png") {
            stems.entry(stem.to_string()).or_default();
        } else if let Some((stem, rater)) = rater_of(name) {
            raters.push((stem.to_string(), rater, path.clone()));
        }
    }
    for (stem, rater, path) in raters {
        if let Some(slot) = stems.get_mut(&stem) {
            slot.insert(rater, path);
        }
    }
    if stems.is_empty() {
        bail!(
            "{} holds no `<slice>_image.png` files and no LIDC patients (expected \
             <slice>_image.png + <slice>_rater0.png, …, or LIDC-IDRI-XXXX.tar / \
             LIDC-IDRI-XXXX/nodule-N/images/slice-K.png)",
            dir.display()
        );
    }
    let patient = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let read =
        |path: &Path| std::fs::read(path).with_context(|| format!("reading {}", path.display()));
    let mut slices = Vec::with_capacity(stems.len());
    for (stem, rater_files) in stems {
        ensure!(
            !rater_files.is_empty(),
            "slice `{stem}` in {} has an image but no `{stem}_rater<R>.png` masks",
            dir.display()
        );
        let image_path = dir.join(format!("{stem}_image.png"));
        let (image, center) = prepare_image(
            &read(&image_path)?,
            &image_path.display().to_string(),
            contract,
        )?;
        let raters = rater_files
            .values()
            .map(|path| prepare_mask(&read(path)?, &path.display().to_string(), contract, center))
            .collect::<Result<Vec<_>>>()?;
        slices.push(MultiRaterSlice {
            name: stem,
            patient: patient.clone(),
            image,
            raters,
        });
    }
    Ok(slices)
}

/// `z-103.5_rater2.png` → (`z-103.5`, 2).
fn rater_of(file_name: &str) -> Option<(&str, usize)> {
    let base = file_name.strip_suffix(".png")?;
    let at = base.rfind("_rater")?;
    let rater = base[at + "_rater".len()..].parse().ok()?;
    Some((&base[..at], rater))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rater_names() {
        assert_eq!(rater_of("z-103.5_rater2.png"), Some(("z-103.5", 2)));
        assert_eq!(rater_of("case-0001_rater10.png"), Some(("case-0001", 10)));
        assert_eq!(rater_of("case-0001_hyp-0.png"), None);
        assert_eq!(rater_of("x_raterA.png"), None);
    }
}

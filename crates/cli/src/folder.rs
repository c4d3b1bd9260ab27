//! Reader for folders of multi-rater crops: `<slice>_image.png` plus `<slice>_rater<R>.png`.
//!
//! This is the layout of the LIDC fixture `shared/fixtures/multirater/lidc0221` (180×180 crops,
//! four radiologists) and of `probunet synth --raters N` (`case-0000_image.png`,
//! `case-0000_rater0.png`), so people with LIDC access can train and evaluate on their own crops
//! with the same commands as on synthetic data.
//!
//! Any image size is accepted: the largest centred square is cut out, then resized to the model
//! size (images bilinearly, masks bilinearly and thresholded at one half, which keeps thin
//! structures better than nearest-neighbour when shrinking). Images become 8-bit grey / 255,
//! the same windowed `[0, 1]` intensities the synthetic cases give directly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use image::imageops::FilterType;
use image::{DynamicImage, GrayImage};
use probunet::metrics::Mask;

/// One slice: the model-ready image and every rater's mask at the same size.
#[derive(Debug, Clone)]
pub struct MultiRaterSlice {
    /// The file stem shared by image and masks, e.g. `z-103.5` or `case-0003`.
    pub name: String,
    /// Row-major intensities in `[0, 1]`, `size × size`.
    pub image: Vec<f32>,
    /// One mask per rater, in rater order.
    pub raters: Vec<Mask>,
}

/// Reads every slice of `dir`, sorted by name, resized to `size × size`.
pub fn read_folder(dir: &Path, size: usize) -> Result<Vec<MultiRaterSlice>> {
    ensure!(size > 0, "the model size must be positive");
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
            "{} holds no `<slice>_image.png` files (expected the multi-rater layout: \
             <slice>_image.png + <slice>_rater0.png, <slice>_rater1.png, …)",
            dir.display()
        );
    }
    let mut slices = Vec::with_capacity(stems.len());
    for (stem, rater_files) in stems {
        ensure!(
            !rater_files.is_empty(),
            "slice `{stem}` in {} has an image but no `{stem}_rater<R>.png` masks",
            dir.display()
        );
        let image_path = dir.join(format!("{stem}_image.png"));
        let image = load_grey(&image_path, size)?
            .into_raw()
            .into_iter()
            .map(|v| v as f32 / 255.0)
            .collect();
        let raters = rater_files
            .values()
            .map(|path| {
                let grey = load_grey(path, size)?;
                Mask::from_u8(size, size, grey.as_raw(), 127)
                    .with_context(|| format!("mask {}", path.display()))
            })
            .collect::<Result<Vec<_>>>()?;
        slices.push(MultiRaterSlice {
            name: stem,
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

/// Decodes a PNG as 8-bit grey, centre-crops it square and resizes it to `size × size`.
pub fn load_grey(path: &Path, size: usize) -> Result<GrayImage> {
    let img = image::open(path).with_context(|| format!("decoding {}", path.display()))?;
    Ok(square_resize(&img, size))
}

/// The largest centred square of `img`, resized to `size × size`, as 8-bit grey.
pub fn square_resize(img: &DynamicImage, size: usize) -> GrayImage {
    let grey = img.to_luma8();
    let side = grey.width().min(grey.height());
    let x = (grey.width() - side) / 2;
    let y = (grey.height() - side) / 2;
    let square = image::imageops::crop_imm(&grey, x, y, side, side).to_image();
    if side as usize == size {
        square
    } else {
        image::imageops::resize(&square, size as u32, size as u32, FilterType::Triangle)
    }
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

    #[test]
    fn crops_to_the_centre_square() {
        // 6×4 image whose middle 4×4 square is white: the crop must keep only white.
        let img = GrayImage::from_fn(6, 4, |x, _| {
            image::Luma([if (1..5).contains(&x) { 255 } else { 0 }])
        });
        let out = square_resize(&DynamicImage::ImageLuma8(img), 4);
        assert!(out.as_raw().iter().all(|&v| v == 255));
        assert_eq!(out.dimensions(), (4, 4));
    }

    #[test]
    fn reads_the_lidc_fixture() {
        let dir = Path::new(
            &std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"),
        )
        .join("../../../shared/fixtures/multirater/lidc0221");
        let slices = read_folder(&dir, 64).unwrap();
        let names: Vec<&str> = slices.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["z-103.5", "z-108.5", "z-111.0", "z-118.5", "z-121.0"]
        );
        for s in &slices {
            assert_eq!(s.image.len(), 64 * 64);
            assert!(s.image.iter().all(|v| (0.0..=1.0).contains(v)));
            assert_eq!(s.raters.len(), 4, "{}", s.name);
            for r in &s.raters {
                assert_eq!(r.shape(), (64, 64));
                // A nodule of a few pixels at 64² (≈ 58 px at 180²/… scaled), never the whole crop.
                assert!(
                    r.foreground_count() > 0 && r.foreground_count() < 64 * 64 / 4,
                    "{}",
                    s.name
                );
            }
        }
        assert!(read_folder(Path::new("/nonexistent-folder"), 64).is_err());
    }
}

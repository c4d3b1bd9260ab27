//! PNG writing shared by the subcommands: 8-bit grey images and masks, RGB previews.

use std::path::Path;

use anyhow::{Context, Result};
use image::{GrayImage, RgbImage};
use metrics::Mask;

/// Writes row-major 8-bit grey levels as a PNG.
pub fn write_grey(path: &Path, width: usize, height: usize, pixels: Vec<u8>) -> Result<()> {
    let img = GrayImage::from_raw(width as u32, height as u32, pixels)
        .context("grey image buffer has the wrong length")?;
    img.save(path)
        .with_context(|| format!("writing {}", path.display()))
}

/// Writes a mask as a 0/255 grey PNG (the layout of the LIDC rater masks in the fixtures).
pub fn write_mask(path: &Path, mask: &Mask) -> Result<()> {
    let pixels = mask
        .to_bools()
        .into_iter()
        .map(|b| if b { 255 } else { 0 })
        .collect();
    write_grey(path, mask.width(), mask.height(), pixels)
}

/// Writes an RGB image (row-major `[r, g, b]` triples) as a PNG.
pub fn write_rgb(path: &Path, width: usize, height: usize, pixels: Vec<u8>) -> Result<()> {
    let img = RgbImage::from_raw(width as u32, height as u32, pixels)
        .context("RGB image buffer has the wrong length")?;
    img.save(path)
        .with_context(|| format!("writing {}", path.display()))
}

//! `probunet sample`: one image → N sample masks, the uncertainty map and the mean-latent mask,
//! with either model (the weights file says which).
//!
//! The image (PNG, JPEG or DICOM) is decoded by the `imaging` crate and prepared by the
//! weights' input contract around `--center` (default: the image centre) and encoded once; the
//! first model then decodes N prior latents through fcomb in one batched call, the hierarchical
//! one reruns its decoder for each sample. Uncertainty is the binary entropy (bits) of each pixel's foreground frequency over the
//! N samples, scaled to 0–255 (docs/CONVENTIONS.md, Metrics).

use std::path::PathBuf;

use anyhow::{Context, Result, ensure};
use clap::Args;
use metrics::UncertaintyMap;
use probunet::SeededRng;

use crate::png::{write_grey, write_mask};
use crate::segmenter::Segmenter;

/// Options of `probunet sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Weights file of either model (`probunet train` output or an exported f16 file).
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,

    /// Input image: PNG, JPEG or DICOM, any size; the model's input contract crops it at
    /// native scale around --center.
    #[arg(long, value_name = "FILE")]
    pub image: PathBuf,

    /// Crop centre in image pixels, `x,y` (column, row); default: the image centre.
    #[arg(long, value_name = "X,Y", value_parser = parse_center)]
    pub center: Option<(f32, f32)>,

    /// Number of samples to draw.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub n: usize,

    /// Model input size; default: the size in the weights' .json sidecar, else 128.
    #[arg(long, value_name = "PIXELS")]
    pub size: Option<usize>,

    /// Seed of the latent draws.
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub seed: u64,

    /// Folder for `input.png`, `sample-XX.png`, `uncertainty.png` and `mean.png`.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Runs `probunet sample`.
pub fn run(args: &SampleArgs) -> Result<()> {
    ensure!(args.n > 0, "--n must be at least 1");
    let (model, meta) = Segmenter::load(&args.weights)?;
    let size = model.size(args.size, meta.as_ref())?;
    let bytes =
        std::fs::read(&args.image).with_context(|| format!("reading {}", args.image.display()))?;
    let name = args.image.display().to_string();
    let slice = imaging::decode(&bytes, Some(&name)).with_context(|| format!("decoding {name}"))?;
    let center = args
        .center
        .unwrap_or((slice.width as f32 / 2.0, slice.height as f32 / 2.0));
    let image = model
        .contract_at(size)
        .prepare(&slice, center)
        .with_context(|| format!("preparing {name}"))?
        .data;
    let grey = image.iter().map(|&v| (v * 255.0).round() as u8).collect();
    let encoded = model.encode(&image, size);
    let samples = model.samples(&encoded, args.n, &mut SeededRng::new(args.seed))?;
    let mean = model.mean_mask(&encoded)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    write_grey(&args.out.join("input.png"), size, size, grey)?;
    let digits = (args.n - 1).to_string().len().max(2);
    for (i, mask) in samples.iter().enumerate() {
        write_mask(&args.out.join(format!("sample-{i:0digits$}.png")), mask)?;
    }
    let entropy = UncertaintyMap::from_masks(&samples)?.entropy();
    let pixels = entropy
        .iter()
        .map(|&h| (h.clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect();
    write_grey(&args.out.join("uncertainty.png"), size, size, pixels)?;
    write_mask(&args.out.join("mean.png"), &mean)?;
    let fg: Vec<usize> = samples.iter().map(|m| m.foreground_count()).collect();
    println!(
        "wrote {} samples (foreground pixels {:?}), uncertainty.png and mean.png to {}",
        args.n,
        fg,
        args.out.display()
    );
    Ok(())
}

/// `"12.5,40"` → (12.5, 40.0).
fn parse_center(text: &str) -> Result<(f32, f32), String> {
    let (x, y) = text
        .split_once(',')
        .ok_or_else(|| format!("`{text}` is not `x,y`"))?;
    let num = |v: &str| {
        v.trim()
            .parse::<f32>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("`{v}` is not a number"))
    };
    Ok((num(x)?, num(y)?))
}

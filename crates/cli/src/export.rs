//! `probunet export`: checkpoint → half-precision weights for the web page.
//!
//! f16 halves the download; the model's outputs move by ~1e-3 (weights.rs), far below what
//! changes a mask. The model config travels inside the file, so the page refuses weights of
//! another architecture with a clear message, and so does the input contract: written
//! explicitly even where the input file predates contracts (the synthetic one it implied).

use std::path::PathBuf;

use crate::model_io;
use crate::segmenter::Segmenter;
use anyhow::{Context, Result};
use clap::Args;

/// Options of `probunet export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Weights to convert (a checkpoint or final.bpk of `probunet train`, any precision).
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,

    /// Where to write the half-precision weights (the sidecar .json, if any, is copied beside).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Runs `probunet export`.
pub fn run(args: &ExportArgs) -> Result<()> {
    let (model, meta) = Segmenter::load(&args.weights)?;
    let bytes = model
        .half_precision_bytes()
        .context("serialising half-precision weights")?;
    model_io::write_weights(&args.out, &bytes)?;
    if let Some(meta) = meta {
        model_io::write_meta(&args.out, &meta)?;
    }
    let full = std::fs::metadata(&args.weights)
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "wrote {} ({} bytes = {:.2} MB, f16, {} parameters; input file {} bytes)",
        args.out.display(),
        bytes.len(),
        bytes.len() as f64 / 1e6,
        model.num_params(),
        full
    );
    Ok(())
}

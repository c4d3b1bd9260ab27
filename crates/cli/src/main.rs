//! `probunet`: the native command line of the probabilistic U-Net.
//!
//! This file holds only the clap definitions and dispatch; each subcommand lives in its own
//! module (`synth.rs`, `train.rs`, `eval.rs`, `calibrate.rs`, `fit_prior.rs`, `data_stats.rs`, `empty_odds/`, `sample.rs`, `export.rs`); `dataset/` reads
//! multi-rater crops and `model_io.rs` holds what the model-using commands share.

mod calibrate;
mod data_stats;
mod dataset;
mod device;
mod empty_odds;
mod eval;
mod export;
mod fit_prior;
mod model_io;
mod png;
mod sample;
mod segmenter;
mod synth;
mod train;

use clap::{Parser, Subcommand};

/// The probabilistic U-Net (Kohl et al., 2018): make data, train, evaluate, sample, export.
#[derive(Debug, Parser)]
#[command(name = "probunet", version, about, long_about = None)]
struct Cli {
    /// Where the tensors live: the CPU (burn's flex backend), or a GPU when this binary was
    /// built with the `wgpu` feature.
    #[arg(long, global = true, value_enum, default_value_t = device::DeviceChoice::Cpu)]
    device: device::DeviceChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write synthetic ambiguity-benchmark cases (image PNG, one PNG per hypothesis, JSON with
    /// labels and exact probabilities, optionally drawn rater masks) to a folder.
    Synth(synth::SynthArgs),
    /// Train the probabilistic U-Net (or, with --deterministic, the plain U-Net baseline) on
    /// synthetic cases or a multi-rater folder, with checkpoints, resume and a NaN/inf guard.
    /// Runs on burn's CPU backend (RAYON_NUM_THREADS=1 keeps it to one core) or, built with a
    /// GPU feature, on `--device wgpu`.
    Train(train::TrainArgs),
    /// Evaluate weights: GED₁₆/GED₁₀₀ against the exact hypothesis distribution, HM-IoU₁₆,
    /// diversity, per-hypothesis frequency error and the sampling-noise floor (or, with --data,
    /// against the raters of a multi-rater folder).
    Eval(eval::EvalArgs),
    /// Fit one factor on the prior's σ on training cases (frequency error or GED₁₀₀) and bake
    /// it into the weights: a short training run leaves the prior too narrow.
    Calibrate(calibrate::CalibrateArgs),
    /// Train the prior net alone, against the frozen decoder, on the energy distance between
    /// its samples and each image's raters: puts the prior's mass where the decoder draws each
    /// hypothesis in the right shares.
    FitPrior(fit_prior::FitPriorArgs),
    /// How the raters of a multi-rater folder agree: slices by how many drew, empty masks by
    /// lesion size, lesions by how many raters marked them, and the empty share on subset B of
    /// a sampler that knows only the lesion's size. No model involved.
    DataStats(data_stats::DataStatsArgs),
    /// How well the image alone predicts how many raters leave a slice empty: trains a
    /// classifier (the prior net's shape, one output) on the training patients and reports, on
    /// the validation patients, its calibration and the subset-B empty share of a sampler that
    /// follows it.
    EmptyOdds(empty_odds::EmptyOddsArgs),
    /// Sample an image: N sample masks, an uncertainty (entropy) map and the mean-latent mask
    /// as PNGs.
    Sample(sample::SampleArgs),
    /// Convert weights to half precision for the web page and print the size.
    Export(export::ExportArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    device::init(cli.device)?;
    match cli.command {
        Command::Synth(args) => synth::run(&args),
        Command::Train(args) => train::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Calibrate(args) => calibrate::run(&args),
        Command::FitPrior(args) => fit_prior::run(&args),
        Command::DataStats(args) => data_stats::run(&args),
        Command::EmptyOdds(args) => empty_odds::run(&args),
        Command::Sample(args) => sample::run(&args),
        Command::Export(args) => export::run(&args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}

//! `probunet`: the native command line of the probabilistic U-Net.
//!
//! This file holds only the clap definitions and dispatch; each subcommand lives in its own
//! module (`synth.rs`, …) so that train/eval/sample/export can be added side by side.

mod png;
mod synth;

use clap::{Parser, Subcommand};

/// The probabilistic U-Net (Kohl et al., 2018): make data, train, evaluate, sample, export.
#[derive(Debug, Parser)]
#[command(name = "probunet", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write synthetic ambiguity-benchmark cases (image PNG, one PNG per hypothesis, JSON with
    /// labels and exact probabilities, optionally drawn rater masks) to a folder.
    Synth(synth::SynthArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Synth(args) => synth::run(&args),
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

//! `probunet calibrate`: fit one factor on the prior's σ using training cases, bake it into the
//! weights (see `probunet::calibration` for why a short run needs it).
//!
//! Every candidate factor is scored on the same training-split cases, each encoded once, with
//! the same latent draws (common random numbers, so the comparison is not noise), by the mean
//! per-hypothesis frequency error or GED₁₀₀ as `probunet eval` defines them. Held-out seeds are
//! never touched: run `probunet eval` on the output to see whether the factor carries over.

use std::path::PathBuf;

use anyhow::{Context, Result, ensure};
use clap::{Args, ValueEnum};
use metrics::{ged_weighted, hypothesis_frequencies};
use probunet::{Encoded, Precision, ProbUNet, SeededRng, save_weights};
use synth::{Benchmark, Case, MIN_SIZE, Split};

use crate::eval::SAMPLES;
use crate::model_io::{self, RunMeta, images_tensor, masks_from_logits};

/// What the factor is chosen to minimise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Objective {
    /// GED₁₀₀ against the exact hypothesis distribution (the paper's measure of quality).
    Ged,
    /// Mean per-hypothesis frequency error (how well sample shares match the probabilities).
    /// Tends to choose a wider prior than GED does: shares improve while extra samples land
    /// between hypotheses and on certain cases.
    FreqError,
}

/// Options of `probunet calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Weights to calibrate (a probabilistic model; `train` output or an exported file).
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,

    /// Where to write the calibrated weights (and their sidecar .json, recording the factor).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// Training-split synthetic cases to score each factor on (seeds 0..N).
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub cases: u64,

    /// Candidate factors on σ, comma-separated (1 = leave the prior as it is).
    #[arg(
        long,
        value_delimiter = ',',
        default_values_t = [1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0],
        value_name = "T,T,…"
    )]
    pub temperatures: Vec<f64>,

    /// What the chosen factor minimises.
    #[arg(long, value_enum, default_value_t = Objective::Ged)]
    pub objective: Objective,

    /// Model input size; default: the size in the weights' .json sidecar, else 128.
    #[arg(long, value_name = "PIXELS")]
    pub size: Option<usize>,

    /// Seed of the latent draws (the same draws for every factor).
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub sample_seed: u64,

    /// Write half-precision weights (what the page ships) instead of full precision.
    #[arg(long)]
    pub half: bool,
}

/// Mean scores of one candidate factor.
struct Scored {
    temperature: f64,
    freq_error: f64,
    ged100: f64,
}

impl Scored {
    fn objective(&self, objective: Objective) -> f64 {
        match objective {
            Objective::FreqError => self.freq_error,
            Objective::Ged => self.ged100,
        }
    }
}

/// Runs `probunet calibrate`.
pub fn run(args: &CalibrateArgs) -> Result<()> {
    let (model, meta, size) =
        model_io::load_probabilistic_model(&args.weights, args.size, "calibrate")?;
    ensure!(
        size >= MIN_SIZE,
        "synthetic cases need a size of at least {MIN_SIZE}"
    );
    ensure!(args.cases > 0, "--cases must be at least 1");
    ensure!(
        !args.temperatures.is_empty()
            && args.temperatures.iter().all(|t| t.is_finite() && *t > 0.0),
        "--temperatures must be positive numbers"
    );
    let bench = Benchmark::new(Split::Train, size);
    let cases: Vec<_> = bench.cases(0..args.cases).collect();
    println!(
        "scoring {} factors on {} training cases at {size}×{size} (objective: {:?})",
        args.temperatures.len(),
        cases.len(),
        args.objective
    );
    let scored = score(&model, &args.temperatures, &cases, size, args.sample_seed)?;
    println!("{:>8} {:>10} {:>10}", "factor", "freq err", "GED100");
    for s in &scored {
        println!(
            "{:>8.3} {:>10.4} {:>10.4}",
            s.temperature, s.freq_error, s.ged100
        );
    }
    let best = scored
        .iter()
        .min_by(|a, b| {
            a.objective(args.objective)
                .total_cmp(&b.objective(args.objective))
        })
        .expect("at least one factor");
    let calibrated = model.widen_prior(best.temperature);
    let precision = if args.half {
        Precision::Half
    } else {
        Precision::Full
    };
    let bytes = save_weights(&calibrated, precision).context("serialising the weights")?;
    model_io::write_weights(&args.out, &bytes)?;
    if let Some(meta) = meta {
        let total = meta.prior_temperature.unwrap_or(1.0) * best.temperature;
        model_io::write_meta(
            &args.out,
            &RunMeta {
                prior_temperature: Some(total),
                ..meta
            },
        )?;
    }
    println!(
        "chose factor {} (freq err {:.4}, GED100 {:.4} on training cases); wrote {}; \
         check it on held-out seeds with `probunet eval --weights {}`",
        best.temperature,
        best.freq_error,
        best.ged100,
        args.out.display(),
        args.out.display()
    );
    Ok(())
}

/// Mean frequency error and GED₁₀₀ over `cases` for every factor in `temperatures`. Each case
/// is encoded once (a factor changes only the prior's σ, see [`probunet::DiagonalGaussian::widened`]) and
/// every factor scales the same ε, drawn from `sample_seed` and the case's index.
fn score(
    model: &ProbUNet,
    temperatures: &[f64],
    cases: &[Case],
    size: usize,
    sample_seed: u64,
) -> Result<Vec<Scored>> {
    let device = model.device();
    let mut sums = vec![(0.0, 0.0); temperatures.len()];
    for (index, case) in cases.iter().enumerate() {
        let encoded = model.encode(images_tensor(&[&case.image], size, &device));
        let (hypotheses, probabilities) = (case.masks(), case.probabilities());
        for (sum, &temperature) in sums.iter_mut().zip(temperatures) {
            let widened = Encoded {
                prior: encoded.prior.widened(temperature),
                ..encoded.clone()
            };
            let mut rng = SeededRng::new(sample_seed.wrapping_add(index as u64));
            let samples = masks_from_logits(model.sample_n(&widened, SAMPLES, &mut rng).logits)?;
            let context = || format!("case seed {}, factor {temperature}", case.seed);
            sum.0 += hypothesis_frequencies(&samples, &hypotheses, &probabilities)
                .with_context(context)?
                .mean_abs_error;
            sum.1 += ged_weighted(&samples, &hypotheses, &probabilities)
                .with_context(context)?
                .squared;
        }
    }
    let n = cases.len() as f64;
    Ok(temperatures
        .iter()
        .zip(sums)
        .map(|(&temperature, (freq_error, ged100))| Scored {
            temperature,
            freq_error: freq_error / n,
            ged100: ged100 / n,
        })
        .collect())
}

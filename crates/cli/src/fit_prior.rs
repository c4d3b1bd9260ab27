//! `probunet fit-prior`: train the prior net alone, against a trained (frozen) decoder, on the
//! energy distance between its samples and each image's raters (see `probunet::prior_fit` for
//! why the KL term leaves the prior's hypothesis shares wrong and why this objective is sound).
//!
//! Training data are the same as `probunet train`'s (synthetic training seeds or a multi-rater
//! folder), but each image comes with all its raters at once. Held-out seeds are never touched:
//! run `probunet eval` on the output.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use burn::tensor::{Tensor, TensorData};
use clap::{Args, ValueEnum};
use probunet::prior_fit::{PriorFitConfig, PriorFitter, PriorGradient, PriorObjective, RaterBatch};
use probunet::{Precision, save_weights};

use crate::model_io::{self, PriorFitRecord, RunMeta};
use crate::train::DataArgs;
use crate::train::progress::Progress;
use crate::train::schedule::{Schedule, ScheduleKind};
use crate::train::source::{RATERS_PER_CASE, noise_rng, prefetch};
use crate::train::step::all_finite;

/// Options of `probunet fit-prior`.
#[derive(Debug, Args)]
pub struct FitPriorArgs {
    /// A trained probabilistic model (`train` output, calibrated or exported weights).
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,

    /// Where to write the weights with the fitted prior (and their .json sidecar).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    #[command(flatten)]
    pub source: DataArgs,

    /// Model input size; default: the size in the weights' .json sidecar, else 128.
    #[arg(long, value_name = "PIXELS")]
    pub size: Option<usize>,

    /// Prior-net optimisation steps.
    #[arg(long, default_value_t = 600, value_name = "N")]
    pub steps: usize,

    /// Images per step.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub batch_size: usize,

    /// Prior samples per image and step (at least 2; 3 with `--gradient score-function`): more
    /// give a less noisy gradient.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub samples: usize,

    /// Peak Adam learning rate, annealed by a cosine to 1/100 of it over the run.
    #[arg(long, default_value_t = 1e-4, value_name = "LR")]
    pub lr: f64,

    /// Clip each gradient to this L2 norm (off by default).
    #[arg(long, value_name = "NORM")]
    pub grad_clip: Option<f32>,

    /// Seed of the data order and the latent noise.
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub seed: u64,

    /// Train fcomb (the decoder head, 1×1 convs after the U-Net) on the same objective too:
    /// lets the decoder sharpen hypotheses it draws as blends. The U-Net and the posterior stay
    /// frozen.
    #[arg(long)]
    pub train_fcomb: bool,

    /// How the prior net's gradient is estimated (the masks are hard, so the objective is
    /// piecewise constant in z): `straight-through` moves each sample towards the raters near
    /// it through the soft foreground probability (biased, but works from any start, even a
    /// collapsed prior); `score-function` is the unbiased REINFORCE gradient of the objective
    /// itself, which moves the prior's mass between hypotheses (noisier; needs --samples ≥ 3
    /// and samples that differ). fcomb, with --train-fcomb, learns straight-through either way.
    #[arg(long, value_enum, default_value_t = GradientArg::StraightThrough, value_name = "HOW")]
    pub gradient: GradientArg,

    /// What the prior is fitted to: `energy` — the energy distance between its decoded samples
    /// and each image's raters; `posterior-mixture` — the reverse KL divergence to the mixture
    /// of the raters' posteriors (no decoding: keeps the prior's mass where some rater's
    /// posterior is; see `probunet::prior_fit`).
    #[arg(long, value_enum, default_value_t = ObjectiveArg::Energy, value_name = "WHAT")]
    pub objective: ObjectiveArg,

    /// With `--objective posterior-mixture`: weight of training's forward KL term (the mean
    /// over raters of KL(posterior ‖ prior)) added to the reverse divergence; 0 leaves it out.
    #[arg(long, default_value_t = 0.0, value_name = "W")]
    pub forward_kl_weight: f32,

    /// Write half-precision weights (what the page ships) instead of full precision.
    #[arg(long)]
    pub half: bool,

    /// When stderr is not a terminal, print a progress line every N steps.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub log_every: usize,
}

/// `--gradient` values (clap's side of [`PriorGradient`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GradientArg {
    StraightThrough,
    ScoreFunction,
}

impl From<GradientArg> for PriorGradient {
    fn from(arg: GradientArg) -> Self {
        match arg {
            GradientArg::StraightThrough => PriorGradient::StraightThrough,
            GradientArg::ScoreFunction => PriorGradient::ScoreFunction,
        }
    }
}

/// `--objective` values (clap's side of [`PriorObjective`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ObjectiveArg {
    Energy,
    PosteriorMixture,
}

impl From<ObjectiveArg> for PriorObjective {
    fn from(arg: ObjectiveArg) -> Self {
        match arg {
            ObjectiveArg::Energy => PriorObjective::EnergyDistance,
            ObjectiveArg::PosteriorMixture => PriorObjective::PosteriorMixture,
        }
    }
}

/// Runs `probunet fit-prior`.
pub fn run(args: &FitPriorArgs) -> Result<()> {
    let (model, meta, size) = model_io::load_probabilistic_model(&args.weights, args.size, "fit")?;
    ensure!(
        model.config().num_classes == 2,
        "fit-prior compares binary masks; this model has {} classes",
        model.config().num_classes
    );
    ensure!(
        args.steps > 0 && args.batch_size > 0,
        "--steps and --batch-size must be positive"
    );
    let least = PriorGradient::from(args.gradient).min_samples();
    ensure!(
        args.samples >= least,
        "--samples must be at least {least} with --gradient {}",
        args.gradient
            .to_possible_value()
            .expect("no skipped values")
            .get_name()
    );
    ensure!(
        args.lr.is_finite() && args.lr > 0.0,
        "--lr must be a positive number"
    );
    let mixture = args.objective == ObjectiveArg::PosteriorMixture;
    ensure!(
        !(mixture && args.train_fcomb),
        "--train-fcomb needs --objective energy: the posterior mixture never decodes a sample"
    );
    ensure!(
        !(mixture && args.gradient == GradientArg::ScoreFunction),
        "--gradient applies to --objective energy: the posterior mixture is differentiated through its reparameterised samples"
    );
    ensure!(
        args.forward_kl_weight.is_finite() && args.forward_kl_weight >= 0.0,
        "--forward-kl-weight must be a number ≥ 0"
    );
    let source = args.source.source(&model_io::contract_at(&model, size))?;
    let schedule = Schedule {
        kind: ScheduleKind::Cosine,
        base: args.lr,
        min: args.lr / 100.0,
        decay: 1.0,
        decay_every: 1,
        warmup: 0,
        total: args.steps,
    };
    eprintln!(
        "fitting the prior net of {} at {size}×{size} on {}: {} steps, batch {}, {} samples per image",
        args.weights.display(),
        source.describe(),
        args.steps,
        args.batch_size,
        args.samples
    );
    let device = model.device();
    let config = PriorFitConfig::new()
        .with_samples(args.samples)
        .with_grad_clip(args.grad_clip)
        .with_train_fcomb(args.train_fcomb)
        .with_gradient(args.gradient.into())
        .with_objective(args.objective.into())
        .with_forward_kl_weight(args.forward_kl_weight)
        .with_seed(noise_rng(args.seed, 0).next_u64());
    let mut fitter = PriorFitter::new(model, config);
    let started = Instant::now();
    let mut progress = Progress::new(0, args.steps, args.log_every);
    let (seed, batch_size) = (args.seed, args.batch_size);
    let batches = {
        let source = source.clone();
        prefetch(0, args.steps, move |step| {
            source.rater_batch(seed, step, batch_size, RATERS_PER_CASE)
        })
    };
    for step in 0..args.steps {
        let host = batches.recv().context("the data thread stopped")?;
        let (b, k) = (host.batch_size, RATERS_PER_CASE);
        let batch = RaterBatch {
            images: Tensor::from_data(TensorData::new(host.images, [b, 1, size, size]), &device),
            raters: Tensor::from_data(
                TensorData::new(
                    host.masks.into_iter().map(|v| v as f32).collect(),
                    [b, k, size, size],
                ),
                &device,
            ),
        };
        let lr = schedule.at(step);
        let values = fitter.step(&batch, lr);
        if !values.objective.is_finite() {
            progress.finish();
            bail!(
                "fitting stopped at step {step}: the objective is {}; nothing written. Try a lower --lr or --grad-clip.",
                values.objective
            );
        }
        let shown = match values.ged {
            Some(ged) => ("batch GED", ged),
            None => ("objective", values.objective),
        };
        progress.update(step, &[(shown.0, shown.1, 4)], "", lr);
    }
    progress.finish();
    let fitted = fitter.inference_model();
    ensure!(
        all_finite(&fitted),
        "the fitted weights are not finite; nothing written. Try a lower --lr or --grad-clip."
    );
    let precision = if args.half {
        Precision::Half
    } else {
        Precision::Full
    };
    let bytes = save_weights(&fitted, precision).context("serialising the weights")?;
    model_io::write_weights(&args.out, &bytes)?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(meta) = meta {
        let before = meta.prior_fit.clone();
        let record = PriorFitRecord {
            steps: args.steps + before.as_ref().map_or(0, |r| r.steps),
            fcomb_steps: if args.train_fcomb { args.steps } else { 0 }
                + before.as_ref().map_or(0, |r| r.fcomb_steps),
            score_function_steps: if args.gradient == GradientArg::ScoreFunction && !mixture {
                args.steps
            } else {
                0
            } + before.as_ref().map_or(0, |r| r.score_function_steps),
            posterior_mixture_steps: if mixture { args.steps } else { 0 }
                + before.as_ref().map_or(0, |r| r.posterior_mixture_steps),
            samples: args.samples,
            data: source.describe(),
            seconds: seconds + before.map_or(0.0, |r| r.seconds),
        };
        model_io::write_meta(
            &args.out,
            &RunMeta {
                prior_fit: Some(record),
                ..meta
            },
        )?;
    }
    println!(
        "fitted the prior in {seconds:.1} s ({:.2} steps/s); wrote {}; check it on held-out \
         seeds with `probunet eval --weights {}`",
        args.steps as f64 / seconds.max(1e-9),
        args.out.display(),
        args.out.display()
    );
    Ok(())
}

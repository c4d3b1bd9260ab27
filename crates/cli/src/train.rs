//! `probunet train`: Adam on CE + β·KL (or the deterministic baseline), on synthetic cases or a
//! multi-rater folder, with checkpoints, resume and a NaN/inf guard.
//!
//! Threads: burn's CPU backend uses rayon; set `RAYON_NUM_THREADS=1` to keep a run to one core
//! on a shared machine (case generation runs on its own helper thread).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use clap::{ArgGroup, Args, ValueEnum};
use probunet::synth::MIN_SIZE;
use probunet::{LossConfig, Precision, ProbUNet, ProbUNetConfig};

use crate::folder::read_folder;
use crate::model_io::{self, RunMeta};

mod checkpoint;
mod progress;
mod schedule;
mod source;
pub mod step;

use schedule::{Schedule, ScheduleKind};
use source::Source;

/// Model presets (crates/probunet/src/config.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// 3 levels [8, 16, 32], 2 convs per level, latent 2: for tests and smoke runs.
    Tiny,
    /// The paper's depth at half its width [16, 32, 64, 96], latent 6: the shipped page's model.
    Small,
    /// Kohl et al.'s LIDC model [32, 64, 128, 192], latent 6 (5.0 M parameters).
    Paper,
}

impl Preset {
    pub fn config(self) -> ProbUNetConfig {
        match self {
            Preset::Tiny => ProbUNetConfig::tiny(),
            Preset::Small => ProbUNetConfig::small(),
            Preset::Paper => ProbUNetConfig::paper(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Preset::Tiny => "tiny",
            Preset::Small => "small",
            Preset::Paper => "paper",
        }
    }
}

/// Options of `probunet train`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["synthetic", "data"])))]
pub struct TrainArgs {
    /// Train on synthetic ambiguity-benchmark cases generated on the fly from the training seeds
    /// (never the held-out eval seeds); four raters are drawn per case and one of them, at
    /// random, is the target at each step.
    #[arg(long)]
    pub synthetic: bool,

    /// Train on a folder of multi-rater crops: `<slice>_image.png` + `<slice>_rater<R>.png`
    /// (the LIDC fixture layout, or `probunet synth --raters 4` output). Images of any size are
    /// centre-cropped square and resized to --size; grey level / 255 is the model input.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// With --synthetic: draw cases from the first N training seeds only (a fixed training set,
    /// like a real data set). 0 draws from the whole training split (almost every case new).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub train_cases: u64,

    /// Model size: tiny (tests), small (the web page's model), paper (Kohl et al. 2018).
    #[arg(long, value_enum, default_value_t = Preset::Small)]
    pub preset: Preset,

    /// Side of the square model input in pixels; must be divisible by 2^(levels−1) and, for
    /// synthetic data, at least 32. Default: 32 for tiny, 128 for small and paper.
    #[arg(long, value_name = "PIXELS")]
    pub size: Option<usize>,

    /// Total optimisation steps (a resumed run continues up to this number).
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub steps: usize,

    /// Images per step.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub batch_size: usize,

    /// Peak Adam learning rate (the paper used 1e-4 on LIDC).
    #[arg(long, default_value_t = 1e-4, value_name = "LR")]
    pub lr: f64,

    /// Learning-rate schedule over the run: constant, step (× --lr-decay every
    /// --lr-decay-every steps) or cosine (down to --lr-min at --steps).
    #[arg(long, value_enum, default_value_t = ScheduleKind::Cosine, value_name = "KIND")]
    pub lr_schedule: ScheduleKind,

    /// Final learning rate of the cosine schedule.
    #[arg(long, default_value_t = 1e-6, value_name = "LR")]
    pub lr_min: f64,

    /// Factor of the step schedule.
    #[arg(long, default_value_t = 0.5, value_name = "F")]
    pub lr_decay: f64,

    /// Interval of the step schedule, in steps.
    #[arg(long, default_value_t = 5_000, value_name = "N")]
    pub lr_decay_every: usize,

    /// Linear learning-rate warm-up over the first N steps (0: none).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub lr_warmup: usize,

    /// Weight β of KL(q(z|x,y) ‖ p(z|x)) after warm-up (1 = the ELBO, as in the paper).
    #[arg(long, default_value_t = 1.0, value_name = "BETA")]
    pub beta: f32,

    /// KL warm-up: β ramps linearly from 0 to --beta over these steps (guards against posterior
    /// collapse early in training). 0: none.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub kl_warmup: usize,

    /// Free bits: nats per latent dimension below which the KL is not pushed further (the loss
    /// uses Σ_d max(λ, KL_d)); keeps the latent in use. 0: off.
    #[arg(long, default_value_t = 0.0, value_name = "NATS")]
    pub free_bits: f32,

    /// Cross-entropy weight of lesion pixels (background weighs 1); > 1 counters "no lesion"
    /// predictions on small nodules.
    #[arg(long, default_value_t = 1.0, value_name = "W")]
    pub fg_weight: f32,

    /// Clip each gradient to this L2 norm (off by default).
    #[arg(long, value_name = "NORM")]
    pub grad_clip: Option<f32>,

    /// Seed of the weight initialisation, the data order and the latent noise. The same seed and
    /// options give the same run.
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub seed: u64,

    /// Folder for checkpoints (`checkpoint-<step>.bpk`, full precision, with a `.json` sidecar)
    /// and the final weights `final.bpk` + `final.json`. Created if missing.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Write a checkpoint every N steps (the newest 3 are kept). 0: only the final weights.
    #[arg(long, default_value_t = 500, value_name = "N")]
    pub checkpoint_every: usize,

    /// Continue from a checkpoint file, or from the newest checkpoint in a folder: weights and
    /// step count are restored, the schedule and data continue where they were (Adam's moment
    /// estimates restart).
    #[arg(long, value_name = "PATH")]
    pub resume: Option<PathBuf>,

    /// Train the deterministic U-Net baseline instead: the same network and data with the latent
    /// switched off (fcomb's z weights zeroed, z = 0, cross-entropy only, β = 0). Evaluate it
    /// with the same `probunet eval`.
    #[arg(long)]
    pub deterministic: bool,

    /// When stderr is not a terminal, print a progress line every N steps.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub log_every: usize,

    /// Testing hook: poison the input batch of this step with NaN to exercise the NaN/inf guard.
    #[arg(long, hide = true, value_name = "STEP")]
    pub inject_nan_at: Option<usize>,
}

/// Runs `probunet train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    let config = args.preset.config();
    let size = args.size.unwrap_or(match args.preset {
        Preset::Tiny => 32,
        _ => 128,
    });
    ensure!(
        size % config.size_divisor() == 0,
        "--size {size} is not divisible by {} (the {} preset pools {} times)",
        config.size_divisor(),
        args.preset.name(),
        config.levels() - 1
    );
    ensure!(
        args.batch_size > 0 && args.steps > 0,
        "--batch-size and --steps must be positive"
    );
    ensure!(
        args.lr.is_finite() && args.lr > 0.0,
        "--lr must be a positive number"
    );
    let source = match &args.data {
        Some(dir) => {
            let slices = read_folder(dir, size)?;
            Source::Folder {
                size,
                slices: Arc::new(slices),
            }
        }
        None => {
            ensure!(
                size >= MIN_SIZE,
                "synthetic cases need --size of at least {MIN_SIZE}"
            );
            Source::Synthetic {
                size,
                cases: args.train_cases,
            }
        }
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;

    let device = model_io::device();
    let (model, start, seconds_before) = initial_model(args, &config, size, &device)?;
    let schedule = Schedule {
        kind: args.lr_schedule,
        base: args.lr,
        min: args.lr_min,
        decay: args.lr_decay,
        decay_every: args.lr_decay_every,
        warmup: args.lr_warmup,
        total: args.steps,
    };
    let loss = LossConfig::new()
        .with_beta(args.beta)
        .with_kl_warmup_steps(args.kl_warmup)
        .with_free_bits(args.free_bits)
        .with_foreground_weight(args.fg_weight);
    let mut learner =
        step::Learner::new(model, args.deterministic, loss, args.grad_clip, args.seed);
    let what = if args.deterministic {
        "deterministic U-Net baseline"
    } else {
        "probabilistic U-Net"
    };
    eprintln!(
        "training the {what} ({} preset, {} parameters) at {size}×{size} on {}, steps {start}..{}, batch {}",
        args.preset.name(),
        config.num_params(),
        source.describe(),
        args.steps,
        args.batch_size
    );

    let started = Instant::now();
    let mut progress = progress::Progress::new(start, args.steps, args.log_every);
    let meta = |step: usize, last: [f32; 3]| RunMeta {
        step,
        total_steps: args.steps,
        size,
        preset: args.preset.name().into(),
        deterministic: args.deterministic,
        seed: args.seed,
        data: source.describe(),
        train_seconds: seconds_before + started.elapsed().as_secs_f64(),
        last_loss: last,
    };
    let mut last_good: Option<(usize, PathBuf)> = None;
    let mut last = [0.0; 3];
    let batches = source.prefetch(args.seed, start, args.steps, args.batch_size);
    for step in start..args.steps {
        let mut batch = batches.recv().context("the data thread stopped")?;
        if args.inject_nan_at == Some(step) {
            batch.images[0] = f32::NAN;
        }
        let lr = schedule.at(step);
        let loss = learner.step(&batch, lr);
        if !loss.is_finite() {
            progress.finish();
            let kept = match &last_good {
                Some((s, p)) => format!("the last good checkpoint is {} (step {s})", p.display()),
                None => "no checkpoint had been written yet".into(),
            };
            bail!(
                "training stopped at step {step}: the loss is not finite (total {}, CE {}, KL {}); \
                 {kept}; later weights were not written. Try a lower --lr or --grad-clip.",
                loss.total,
                loss.ce,
                loss.kl
            );
        }
        last = [loss.total, loss.ce, loss.kl];
        progress.update(step, &loss, lr);
        let done = step + 1;
        if args.checkpoint_every > 0 && done % args.checkpoint_every == 0 && done < args.steps {
            let model = finite_model(&learner, done)?;
            let path = checkpoint::write(
                &args.out,
                &checkpoint::checkpoint_stem(done),
                &model,
                &meta(done, last),
                Precision::Full,
            )?;
            checkpoint::prune(&args.out)?;
            last_good = Some((done, path));
        }
    }
    progress.finish();
    let model = finite_model(&learner, args.steps)?;
    let path = checkpoint::write(
        &args.out,
        "final",
        &model,
        &meta(args.steps, last),
        Precision::Full,
    )?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "trained steps {start}..{} in {secs:.1} s ({:.2} steps/s); final loss {:.2} (CE {:.2}, KL {:.3}); weights: {}",
        args.steps,
        (args.steps - start) as f64 / secs.max(1e-9),
        last[0],
        last[1],
        last[2],
        path.display()
    );
    Ok(())
}

/// A fresh seeded model at step 0, or the resumed checkpoint with its step and time so far.
fn initial_model(
    args: &TrainArgs,
    config: &ProbUNetConfig,
    size: usize,
    device: &burn::tensor::Device,
) -> Result<(ProbUNet, usize, f64)> {
    let Some(resume) = &args.resume else {
        return Ok((ProbUNet::new_seeded(config, args.seed, device), 0, 0.0));
    };
    let path = checkpoint::resolve_resume(resume)?;
    let (model, meta) = model_io::load_model(&path, device)?;
    ensure!(
        model.config() == config,
        "{} holds a different model than --preset {} ({:?} vs {:?})",
        path.display(),
        args.preset.name(),
        model.config().filters,
        config.filters
    );
    let meta = meta.with_context(|| {
        format!(
            "{} has no .json sidecar: cannot tell its step",
            path.display()
        )
    })?;
    ensure!(
        meta.size == size,
        "{} was trained at {}×{0}, not --size {size}",
        path.display(),
        meta.size
    );
    ensure!(
        meta.deterministic == args.deterministic,
        "{} is {} model: pass --deterministic consistently when resuming",
        path.display(),
        if meta.deterministic {
            "a deterministic"
        } else {
            "a probabilistic"
        }
    );
    ensure!(
        meta.step < args.steps,
        "{} is already at step {} ≥ --steps {}",
        path.display(),
        meta.step,
        args.steps
    );
    eprintln!("resuming from {} at step {}", path.display(), meta.step);
    Ok((model, meta.step, meta.train_seconds))
}

/// The current weights, refusing to hand out non-finite ones (they are never written).
fn finite_model(learner: &step::Learner, step: usize) -> Result<ProbUNet> {
    let model = learner.inference_model();
    if !step::all_finite(&model) {
        bail!(
            "the weights after step {step} are not finite; nothing written. Try a lower --lr or --grad-clip."
        );
    }
    Ok(model)
}

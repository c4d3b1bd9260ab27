//! `probunet train`: Adam on CE + β·KL (or the deterministic baseline), on synthetic cases or a
//! multi-rater folder, with checkpoints, resume and a NaN/inf guard.
//!
//! Threads: burn's CPU backend uses rayon; set `RAYON_NUM_THREADS=1` to keep a run to one core
//! on a shared machine (case generation runs on its own helper thread).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use probunet::{LossConfig, Precision, ProbUNet, ProbUNetConfig};

use crate::model_io::{self, RunMeta};

mod args;
mod checkpoint;
mod hierarchical;
pub mod progress;
pub mod schedule;
pub mod source;
pub mod step;

pub use args::{DataArgs, ModelChoice, Preset, TrainArgs};
use schedule::Schedule;

/// Runs `probunet train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    if args.model == ModelChoice::Hpunet {
        return hierarchical::run(args);
    }
    let size = args.size.unwrap_or(match args.preset {
        Preset::Tiny => 32,
        _ => 128,
    });
    // Fine-tuning continues at the β the run finishes with (0 for the baseline: no KL).
    let final_beta = if args.deterministic { 0.0 } else { args.beta };
    let contract = args.source.contract(size, final_beta);
    let config = args.preset.config().with_input(Some(contract.clone()));
    check_run(args, size, config.size_divisor())?;
    let source = args.source.source(&contract)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;

    let device = crate::device::device();
    let (model, start, seconds_before, resumed) = initial_model(args, &config, size, &device)?;
    let schedule = schedule(args);
    let loss = LossConfig::new()
        .with_beta(args.beta)
        .with_kl_warmup_steps(args.kl_warmup)
        .with_free_bits(args.free_bits)
        .with_foreground_weight(args.fg_weight);
    let mut trainer = step::trainer(model, args.deterministic, loss, args.grad_clip);
    if let Some(weights) = &resumed {
        checkpoint::resume_optimizer(trainer.learner_mut(), weights, start)?;
    }
    let what = if args.deterministic {
        "deterministic U-Net baseline"
    } else {
        "probabilistic U-Net"
    };
    eprintln!(
        "training the {what} ({} preset, {} parameters) at {size}×{size} on {}, steps {start}..{}, batch {}, tensors on {}",
        args.preset.name(),
        config.num_params(),
        source.describe(),
        args.steps,
        args.batch_size,
        crate::device::describe()
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
        prior_temperature: None,
        prior_fit: None,
        geco: None,
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
        let loss = step::step(&mut trainer, &batch, lr, args.seed);
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
        progress.update(
            step,
            &[
                ("loss", loss.total, 1),
                ("CE", loss.ce, 1),
                ("KL", loss.kl, 2),
            ],
            &format!("β {:.2}", loss.beta),
            lr,
        );
        let done = step + 1;
        if args.checkpoint_every > 0
            && done.is_multiple_of(args.checkpoint_every)
            && done < args.steps
        {
            let model = finite_model(&trainer, done)?;
            let path = checkpoint::write(
                &args.out,
                &checkpoint::checkpoint_stem(done),
                &model,
                &trainer.learner().optimizer_state()?,
                &meta(done, last),
                Precision::Full,
            )?;
            checkpoint::prune(&args.out)?;
            last_good = Some((done, path));
        }
    }
    progress.finish();
    let model = finite_model(&trainer, args.steps)?;
    let path = checkpoint::write(
        &args.out,
        "final",
        &model,
        &trainer.learner().optimizer_state()?,
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

/// The checks every training run makes before it reads any data: the size fits the model's
/// pooling (`divisor` = 2^(levels−1)), steps, batch and learning rate are usable.
fn check_run(args: &TrainArgs, size: usize, divisor: usize) -> Result<()> {
    ensure!(
        size.is_multiple_of(divisor),
        "--size {size} is not divisible by {divisor} (the {} preset pools {} times)",
        args.preset.name(),
        divisor.trailing_zeros()
    );
    ensure!(
        args.batch_size > 0 && args.steps > 0,
        "--batch-size and --steps must be positive"
    );
    ensure!(
        args.lr.is_finite() && args.lr > 0.0,
        "--lr must be a positive number"
    );
    Ok(())
}

/// The learning-rate schedule the options describe.
fn schedule(args: &TrainArgs) -> Schedule {
    Schedule {
        kind: args.lr_schedule,
        base: args.lr,
        min: args.lr_min,
        decay: args.lr_decay,
        decay_every: args.lr_decay_every,
        warmup: args.lr_warmup,
        total: args.steps,
    }
}

/// A fresh seeded model at step 0, or the resumed checkpoint with its step, time so far and
/// path.
fn initial_model(
    args: &TrainArgs,
    config: &ProbUNetConfig,
    size: usize,
    device: &burn::tensor::Device,
) -> Result<(ProbUNet, usize, f64, Option<PathBuf>)> {
    let Some(resume) = &args.resume else {
        return Ok((
            ProbUNet::new_seeded(config, args.seed, device),
            0,
            0.0,
            None,
        ));
    };
    let path = checkpoint::resolve_resume(resume)?;
    let (model, meta) = model_io::load_model(&path, device)?;
    let architecture = |c: &ProbUNetConfig| c.clone().with_input(None);
    ensure!(
        architecture(model.config()) == architecture(config),
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
    if let Some(old) = &model.config().input {
        ensure!(
            old.intensity == config.contract().intensity && old.model_side as usize == size,
            "{} was trained on other inputs ({}) than this run's data",
            path.display(),
            old.expects
        );
    }
    eprintln!("resuming from {} at step {}", path.display(), meta.step);
    // The run's contract replaces the checkpoint's: β may change between stages.
    let model = model.with_input(config.input.clone());
    Ok((model, meta.step, meta.train_seconds, Some(path)))
}

/// The current weights, refusing to hand out non-finite ones (they are never written).
fn finite_model(trainer: &probunet::Trainer, step: usize) -> Result<ProbUNet> {
    let model = trainer.inference_model();
    if !step::all_finite(&model) {
        bail!(
            "the weights after step {step} are not finite; nothing written. Try a lower --lr or --grad-clip."
        );
    }
    Ok(model)
}

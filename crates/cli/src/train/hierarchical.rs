//! `probunet train --model hpunet`: the hierarchical probabilistic U-Net under GECO, on the
//! same data, schedule, checkpoints and NaN guard as the first model.

use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use probunet::Precision;
use probunet::hierarchical::{GecoConfig, GecoState, HierarchicalProbUNet, HpuTrainer};
use probunet::weights::load_stored;

use super::source::noise_rng;
use super::{TrainArgs, checkpoint, progress};
use crate::model_io::{RunMeta, read_meta};

/// Runs the hierarchical model's training.
pub fn run(args: &TrainArgs) -> Result<()> {
    ensure!(
        !args.deterministic,
        "--deterministic trains the first model's baseline; it has no hierarchical form"
    );
    ensure!(
        args.top_k > 0.0 && args.top_k <= 1.0,
        "--top-k must be in (0, 1]"
    );
    ensure!(
        args.kappa >= 0.0 && args.geco_rate >= 0.0,
        "--kappa and --geco-rate must not be negative"
    );
    let size = args.size.unwrap_or(64);
    // GECO has no β: the contract records 1 (the KL enters unweighted beside λ·C).
    let contract = args.source.contract(size, 1.0);
    let config = args
        .preset
        .hierarchical()
        .with_input(Some(contract.clone()));
    super::check_run(args, size, config.size_divisor())?;
    let source = args.source.source(&contract)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let device = crate::device::device();
    let geco = GecoConfig::new()
        .with_kappa(args.kappa)
        .with_top_k(args.top_k)
        .with_rate(args.geco_rate);

    let (model, start, seconds_before, state, resumed) = match &args.resume {
        None => (
            HierarchicalProbUNet::new_seeded(&config, args.seed, &device),
            0,
            0.0,
            None,
            None,
        ),
        Some(resume) => {
            let path = checkpoint::resolve_resume(resume)?;
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let model: HierarchicalProbUNet = load_stored(&bytes, &device)
                .with_context(|| format!("loading {}", path.display()))?;
            ensure!(
                model.config().clone().with_input(None) == config.clone().with_input(None),
                "{} holds another hierarchical preset than --preset {}",
                path.display(),
                args.preset.name()
            );
            let meta = read_meta(&path)?
                .with_context(|| format!("{} has no .json sidecar", path.display()))?;
            ensure!(
                meta.size == size,
                "{} was trained at {}², not {size}²",
                path.display(),
                meta.size
            );
            ensure!(
                meta.step < args.steps,
                "{} is already at step {}",
                path.display(),
                meta.step
            );
            eprintln!("resuming from {} at step {}", path.display(), meta.step);
            (model, meta.step, meta.train_seconds, meta.geco, Some(path))
        }
    };
    if let Some(lambda) = args.geco_lambda {
        ensure!(
            lambda.is_finite() && lambda > 0.0,
            "--geco-lambda must be a positive number"
        );
    }
    let mut state: GecoState = state.unwrap_or_else(|| geco.init());
    if let Some(lambda) = args.geco_lambda {
        state.lambda = lambda;
    }
    let mut trainer = HpuTrainer::new(model, geco, args.grad_clip).with_state(state);
    if let Some(weights) = &resumed {
        checkpoint::resume_optimizer(trainer.learner_mut(), weights, start)?;
    }
    let schedule = super::schedule(args);
    eprintln!(
        "training the hierarchical probabilistic U-Net ({} preset, {} parameters) at {size}×{size} on {}, steps {start}..{}, batch {}, GECO κ {} top-k {}, tensors on {}",
        args.preset.name(),
        config.num_params(),
        source.describe(),
        args.steps,
        args.batch_size,
        args.kappa,
        args.top_k,
        crate::device::describe()
    );
    let started = Instant::now();
    let meta = |step: usize, last: [f32; 3], trainer: &HpuTrainer| RunMeta {
        step,
        total_steps: args.steps,
        size,
        preset: format!("hpunet-{}", args.preset.name()),
        deterministic: false,
        seed: args.seed,
        data: source.describe(),
        train_seconds: seconds_before + started.elapsed().as_secs_f64(),
        last_loss: last,
        prior_temperature: None,
        prior_fit: None,
        geco: Some(trainer.state()),
    };
    let mut progress = progress::Progress::new(start, args.steps, args.log_every);
    let mut last = [0.0; 3];
    let batches = source.prefetch(args.seed, start, args.steps, args.batch_size);
    for step in start..args.steps {
        let batch = batches.recv().context("the data thread stopped")?;
        let lr = schedule.at(step);
        let mut rng = noise_rng(args.seed, step);
        let v = trainer.step(&batch.tensors(&device), lr, &mut rng);
        let kl = v.kl_sum();
        if !(v.loss.is_finite() && v.reconstruction.is_finite() && kl.is_finite()) {
            progress.finish();
            bail!(
                "training stopped at step {step}: the loss is not finite ({v:?}); later weights \
                 were not written. Try a lower --lr or --grad-clip."
            );
        }
        last = [v.loss, v.reconstruction, kl];
        let per_scale: Vec<String> = v.kl.iter().map(|k| format!("{k:.2}")).collect();
        progress.update(
            step,
            &[("CE/px", v.ce_per_kept_pixel, 3), ("KL", kl, 2)],
            &format!("λ {:.3} KL/scale [{}]", v.lambda, per_scale.join(" ")),
            lr,
        );
        let done = step + 1;
        if args.checkpoint_every > 0
            && done.is_multiple_of(args.checkpoint_every)
            && done < args.steps
        {
            let model = trainer.inference_model();
            checkpoint::write(
                &args.out,
                &checkpoint::checkpoint_stem(done),
                &model,
                &trainer.learner().optimizer_state()?,
                &meta(done, last, &trainer),
                Precision::Full,
            )?;
            checkpoint::prune(&args.out)?;
        }
    }
    progress.finish();
    let model = trainer.inference_model();
    let path = checkpoint::write(
        &args.out,
        "final",
        &model,
        &trainer.learner().optimizer_state()?,
        &meta(args.steps, last, &trainer),
        Precision::Full,
    )?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "trained steps {start}..{} in {secs:.1} s ({:.2} steps/s); last reconstruction {:.2}, ΣKL {:.3}; weights: {}",
        args.steps,
        (args.steps - start) as f64 / secs.max(1e-9),
        last[1],
        last[2],
        path.display()
    );
    Ok(())
}

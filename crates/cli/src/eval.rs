//! `probunet eval`: how well a model's samples match the annotation distribution.
//!
//! Synthetic mode (default) uses held-out evaluation seeds, never seen in training, and the
//! exact hypothesis distribution (see `eval/synthetic.rs` for every metric's definition);
//! `--data DIR` evaluates against the raters of a multi-rater folder (`eval/folder.rs`). Each
//! prints a table of means (all cases, then per ambiguity kind) and, with `--json`, writes the
//! means and every case's numbers.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use clap::Args;
use probunet::SeededRng;
use serde_json::json;
use synth::{Benchmark, MIN_SIZE, Split};

use crate::dataset::{self, PatientSplit};
use crate::segmenter::Segmenter;
use crate::train::step::ignores_latent;

mod folder;
mod metric;
mod summary;
mod synthetic;

/// Samples drawn per image: the N of GED₁₀₀, and what the frequency error and diversity use
/// (`probunet calibrate` scores with the same count).
pub(crate) const SAMPLES: usize = 100;

/// Options of `probunet eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Weights to evaluate (`probunet train` output or an exported f16 file).
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,

    /// Number of held-out synthetic cases (ignored with --data).
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub cases: u64,

    /// Index of the first evaluation case: cases use eval seeds 1000000000 + offset + i.
    #[arg(long, default_value_t = 0, value_name = "I")]
    pub seed_offset: u64,

    /// Evaluate on multi-rater data against its raters, with uniform weights, instead of
    /// synthetic cases: LIDC-IDRI-XXXX.tar files, their extracted tree, or a flat
    /// `<slice>_image.png` + `<slice>_rater<R>.png` folder (e.g. the lidc0221 fixture). Images
    /// are prepared by the weights' input contract.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// With LIDC --data: which patients. Default: validation (never trained on).
    #[arg(long, value_enum, value_name = "SPLIT")]
    pub split: Option<PatientSplit>,

    /// With --data: evaluate every Nth slice only (1: all), for a quick estimate.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub every: usize,

    /// Model input size; default: the size in the weights' .json sidecar, else 128.
    #[arg(long, value_name = "PIXELS")]
    pub size: Option<usize>,

    /// Seed of the latent draws and of the noise-floor draws.
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub sample_seed: u64,

    /// Also write the means and every case's numbers to this JSON file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// Runs `probunet eval`.
pub fn run(args: &EvalArgs) -> Result<()> {
    let (model, meta) = Segmenter::load(&args.weights)?;
    let size = model.size(args.size, meta.as_ref())?;
    let deterministic = match &model {
        Segmenter::Probabilistic(m) => ignores_latent(m)?,
        Segmenter::Hierarchical(_) => false,
    };
    println!(
        "{}: {}, {} parameters, evaluated at {size}×{size}",
        args.weights.display(),
        if deterministic {
            "deterministic (fcomb ignores z) baseline"
        } else {
            model.name()
        },
        model.num_params()
    );
    let started = Instant::now();
    let mut rng = SeededRng::new(args.sample_seed);
    let mut floor_rng = SeededRng::new(args.sample_seed ^ 0x0046_4C4F_4F52);
    let (groups, cases): (_, serde_json::Value) = match &args.data {
        Some(dir) => {
            ensure!(args.every > 0, "--every must be at least 1");
            let contract = model.contract_at(size);
            let slices = dataset::read(dir, &contract, args.split, PatientSplit::Validation)?;
            let mut rows = Vec::new();
            let mut results = Vec::new();
            for slice in slices.iter().step_by(args.every) {
                let r = folder::evaluate_slice(&model, slice, size, &mut rng, &mut floor_rng)
                    .with_context(|| format!("evaluating slice {}", slice.name))?;
                rows.push((folder::group_of(slice), r.row()));
                results.push(r);
            }
            (summary::by_group(&rows), serde_json::to_value(results)?)
        }
        None => {
            ensure!(
                size >= MIN_SIZE,
                "synthetic cases need a size of at least {MIN_SIZE}"
            );
            ensure!(args.cases > 0, "--cases must be at least 1");
            let bench = Benchmark::new(Split::Eval, size);
            let mut rows = Vec::new();
            let mut results = Vec::new();
            for i in 0..args.cases {
                let case = bench.case(args.seed_offset + i);
                let r = synthetic::evaluate_case(&model, &case, &mut rng, &mut floor_rng)
                    .with_context(|| format!("evaluating case seed {}", case.seed))?;
                rows.push((r.kind.clone(), r.row()));
                results.push(r);
            }
            (summary::by_group(&rows), serde_json::to_value(results)?)
        }
    };
    summary::print_table(&groups);
    println!(
        "GED is GED² (Kohl et al.); floorN: the true distribution against N draws from itself; \
         {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.json {
        let doc = json!({
            "weights": args.weights,
            "config": model.config_json(),
            "model": model.name(),
            "deterministic": deterministic,
            "size": size,
            "mode": if args.data.is_some() { "folder" } else { "synthetic" },
            "data": args.data,
            "cases": args.cases,
            "seed_offset": args.seed_offset,
            "sample_seed": args.sample_seed,
            "samples": [16, 100],
            "run": meta,
            "means": groups,
            "per_case": cases,
        });
        let text = serde_json::to_string_pretty(&doc)? + "\n";
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

//! `probunet empty-odds`: how well the image alone tells how many raters leave a slice empty.
//!
//! Why: the LIDC issue asks for ≤ 5 % empty samples on subset B (slices every rater drew),
//! while GED rewards a model whose samples are empty as often as the raters' masks are on each
//! kind of image. A calibrated model can only draw fewer empty samples on subset B than
//! elsewhere as far as the image tells it which lesions every rater will draw. `data-stats`
//! measured a sampler that knows the lesion's size only; this command trains a network for
//! nothing but that question — the prior net's architecture with one output, on the training
//! patients, a soft cross-entropy to each slice's share of empty masks — and reports on the
//! validation patients how calibrated its predictions are and the empty share on subset B of a
//! sampler that follows them. What it reports bounds what one more training objective of the
//! probabilistic U-Net could buy there, as far as a network of this size can see.

mod report;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, ensure};
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::activation::{sigmoid, softplus};
use burn::tensor::{Device, Tensor, TensorData};
use clap::Args;
use imaging::InputContract;
use probunet::gaussian_encoder::GaussianEncoder;
use probunet::{Learner, ProbUNet, ProbUNetConfig, SeededRng};

use crate::dataset::{self, MultiRaterSlice, PatientSplit};
use crate::device;
use crate::model_io::to_vec;
use crate::train::Preset;
pub use report::OddsReport;

/// Options of `probunet empty-odds`.
#[derive(Debug, Args)]
pub struct EmptyOddsArgs {
    /// LIDC data: LIDC-IDRI-XXXX.tar files or their extracted tree (it needs the patient split).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,

    /// Adam steps on the training patients.
    #[arg(long, default_value_t = 3000, value_name = "N")]
    pub steps: usize,

    /// Slices per step.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub batch_size: usize,

    /// Adam learning rate (constant).
    #[arg(long, default_value_t = 3e-4, value_name = "LR")]
    pub lr: f64,

    /// Report on the validation patients every N steps (and at the end).
    #[arg(long, default_value_t = 500, value_name = "N")]
    pub eval_every: usize,

    /// Seed of the weights, the data order and the flips.
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub seed: u64,

    /// Side of the centre crop the network sees (the LIDC model's input: 64).
    #[arg(long, default_value_t = 64, value_name = "PX")]
    pub side: u32,

    /// Whose prior net the classifier copies: small (the shipped model's) or paper (Kohl et
    /// al.'s, twice as wide).
    #[arg(long, value_enum, default_value_t = Preset::Small)]
    pub preset: Preset,
}

pub fn run(args: &EmptyOddsArgs) -> Result<()> {
    ensure!(
        args.steps > 0 && args.batch_size > 0 && args.eval_every > 0,
        "--steps, --batch-size and --eval-every must be at least 1"
    );
    ensure!(
        dataset::lidc::Layout::of(&args.data)?.is_some(),
        "{} is not LIDC data (per-patient tars or their extracted tree): the classifier trains \
         on the training patients and reports on the validation patients, so it needs patients",
        args.data.display()
    );
    let contract = InputContract::lidc(args.side, 1.0);
    let read = |split| dataset::read(&args.data, &contract, Some(split), split);
    let (train, held_out) = (read(PatientSplit::Train)?, read(PatientSplit::Validation)?);
    ensure!(
        !train.is_empty() && !held_out.is_empty(),
        "{} has no slices of the training or of the validation patients",
        args.data.display()
    );
    println!(
        "{} training slices, {} validation slices; the prior net's architecture ({} preset) \
         with one output on {}",
        train.len(),
        held_out.len(),
        args.preset.name(),
        device::describe()
    );
    let config = OddsConfig {
        steps: args.steps,
        batch_size: args.batch_size,
        lr: args.lr,
        seed: args.seed,
    };
    let started = Instant::now();
    let mut last = None;
    train_classifier(
        &args.preset.config(),
        &train,
        &config,
        &device::device(),
        |step, learner| {
            if step % args.eval_every != 0 && step != config.steps {
                return Ok(());
            }
            let classifier = learner.inference_model();
            let report = OddsReport::of(&predict(&classifier, &held_out)?, &held_out);
            println!(
                "\nstep {step} ({:.0} s): {}",
                started.elapsed().as_secs_f64(),
                report.summary()
            );
            last = Some(report);
            Ok(())
        },
    )?;
    if let Some(report) = last {
        println!(
            "\nvalidation patients, last step:\n{}",
            report.reliability()
        );
    }
    Ok(())
}

/// How the classifier is trained.
#[derive(Debug, Clone)]
pub struct OddsConfig {
    pub steps: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub seed: u64,
}

/// The prior net of `shape` with a single output: the logit of a slot's mask being empty.
fn new_classifier(shape: &ProbUNetConfig, seed: u64, device: &Device) -> GaussianEncoder {
    ProbUNet::new_seeded(&shape.clone().with_latent_dim(1), seed, device).prior
}

/// Trains a classifier on `slices` and calls `after_step(step, learner)` after every step
/// (1-based; `learner.inference_model()` gives the current weights); stops at the first error
/// it returns.
pub fn train_classifier(
    shape: &ProbUNetConfig,
    slices: &[MultiRaterSlice],
    config: &OddsConfig,
    device: &Device,
    mut after_step: impl FnMut(usize, &Learner<GaussianEncoder>) -> Result<()>,
) -> Result<()> {
    let mut learner = Learner::new(new_classifier(shape, config.seed, device).train(), None);
    let mut rng = SeededRng::new(config.seed ^ 0x0DD5);
    for step in 1..=config.steps {
        let picks: Vec<&MultiRaterSlice> = (0..config.batch_size)
            .map(|_| &slices[(rng.next_u64() % slices.len() as u64) as usize])
            .collect();
        let flips: Vec<bool> = picks.iter().map(|_| rng.next_u64() & 1 == 1).collect();
        let targets: Vec<f32> = picks.iter().map(|s| empty_share(s) as f32).collect();
        learner.step(config.lr, |model| {
            let device = model.head.weight.device();
            let logits = logits(model, images(&picks, &flips, &device));
            let target = Tensor::<1>::from_data(TensorData::new(targets, [picks.len()]), &device);
            // Cross-entropy to a soft target t: softplus(l) − t·l.
            let loss = (softplus(logits.clone(), 1.0) - logits * target).mean();
            (GradientsParams::from_grads(loss.backward(), model), ())
        });
        after_step(step, &learner)?;
    }
    Ok(())
}

/// The classifier's probability that a slot's mask is empty, per slice.
pub fn predict(classifier: &GaussianEncoder, slices: &[MultiRaterSlice]) -> Result<Vec<f64>> {
    let device = classifier.head.weight.device();
    slices
        .chunks(64)
        .map(|chunk| {
            let chunk: Vec<&MultiRaterSlice> = chunk.iter().collect();
            let no_flips = vec![false; chunk.len()];
            let p = sigmoid(logits(classifier, images(&chunk, &no_flips, &device)));
            Ok(to_vec(p)?.into_iter().map(f64::from).collect::<Vec<_>>())
        })
        .collect::<Result<Vec<_>>>()
        .map(|chunks| chunks.concat())
}

/// The share of a slice's mask slots that are empty: the classifier's target.
pub fn empty_share(slice: &MultiRaterSlice) -> f64 {
    let slots = slice.raters.len().max(1);
    (slots - slice.raters_with_lesion()) as f64 / slots as f64
}

fn logits(classifier: &GaussianEncoder, images: Tensor<4>) -> Tensor<1> {
    let (mu, _) = classifier.forward_raw(images);
    let b = mu.dims()[0];
    mu.reshape([b])
}

/// The slices' images as a `[B, 1, S, S]` batch, each mirrored left–right where `flips` says.
fn images(slices: &[&MultiRaterSlice], flips: &[bool], device: &Device) -> Tensor<4> {
    let side = slices[0].image.len().isqrt(); // the contract makes every image square
    let mut data = Vec::with_capacity(slices.len() * side * side);
    for (slice, &flip) in slices.iter().zip(flips) {
        for row in slice.image.chunks(side) {
            if flip {
                data.extend(row.iter().rev());
            } else {
                data.extend_from_slice(row);
            }
        }
    }
    Tensor::from_data(TensorData::new(data, [slices.len(), 1, side, side]), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics::Mask;

    /// A 16² slice: bright when `all_drew` (every rater drew a square), dark when only one did.
    fn slice(all_drew: bool, k: usize) -> MultiRaterSlice {
        let level = if all_drew { 0.8 } else { 0.2 };
        MultiRaterSlice {
            name: format!("p{k}/nodule-0/slice-0"),
            patient: format!("p{k}"),
            image: (0..256).map(|i| level + 0.01 * (i % 7) as f32).collect(),
            raters: (0..4)
                .map(|r| Mask::from_fn(16, 16, |x, y| (all_drew || r == 0) && x < 6 && y < 6))
                .collect(),
        }
    }

    #[test]
    fn learns_the_empty_share_an_image_tells() {
        let slices: Vec<_> = (0..16).map(|k| slice(k % 2 == 0, k)).collect();
        let config = OddsConfig {
            steps: 120,
            batch_size: 8,
            lr: 3e-3,
            seed: 1,
        };
        let mut last = None;
        train_classifier(
            &ProbUNetConfig::tiny(),
            &slices,
            &config,
            &Device::flex(),
            |_, learner| {
                last = Some(predict(&learner.inference_model(), &slices)?);
                Ok(())
            },
        )
        .unwrap();
        let last = last.unwrap();
        let report = OddsReport::of(&last, &slices);
        // The bright slices (every rater drew: subset B) lose their empty odds, the dark ones
        // (three of four empty) gain them.
        assert!(report.subset_b < 0.15, "{}", report.summary());
        assert!(report.some_drew > 0.6, "{}", report.summary());
        assert_eq!(last.len(), slices.len());
    }
}

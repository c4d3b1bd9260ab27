//! Where training batches come from: synthetic cases generated on the fly, or a multi-rater
//! folder held in memory. Either way each batch slot is one image with ONE rater's mask, the
//! rater picked at random per step as in Kohl et al.'s LIDC training.
//!
//! A batch is a pure function of (seed, step), so a resumed run sees exactly the batches the
//! uninterrupted run would have seen. Batches are built on a helper thread one or two steps
//! ahead: case generation is single-threaded host code and overlaps the tensor work.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};

use anyhow::{Result, ensure};
use metrics::Mask;
use probunet::SeededRng;
use synth::{Case, EVAL_SEED_BASE, MIN_SIZE, Split, draw_rater_indices};

use imaging::InputContract;

use crate::dataset::{self, MultiRaterSlice, PatientSplit};

/// Raters drawn per synthetic case (LIDC has four).
pub const RATERS_PER_CASE: usize = 4;

/// A batch on the host: images `[B, 1, S, S]` and label maps `[B, S, S]` (one rater each, from
/// [`Source::batch`]) or `[B, K, S, S]` (K raters each, from [`Source::rater_batch`]), row-major.
#[derive(Debug, Clone)]
pub struct HostBatch {
    pub step: usize,
    pub images: Vec<f32>,
    pub masks: Vec<i64>,
    pub batch_size: usize,
    /// Side S of the square images.
    pub size: usize,
}

impl HostBatch {
    /// The one-rater batch as tensors on `device`.
    pub fn tensors(&self, device: &burn::tensor::Device) -> probunet::Batch {
        use burn::tensor::{Int, Tensor, TensorData};
        let (s, b) = (self.size, self.batch_size);
        probunet::Batch {
            images: Tensor::from_data(TensorData::new(self.images.clone(), [b, 1, s, s]), device),
            masks: Tensor::<3, Int>::from_data(
                TensorData::new(self.masks.clone(), [b, s, s]),
                device,
            ),
        }
    }
}

/// The training data.
#[derive(Debug, Clone)]
pub enum Source {
    /// Cases of the synthetic benchmark's training split.
    Synthetic {
        size: usize,
        /// Draw case indices from `0..cases` (0: from the whole training split, so nearly every
        /// case is new).
        cases: u64,
    },
    /// Slices read by [`crate::dataset::read`], already prepared by the model's contract.
    Folder {
        size: usize,
        slices: Arc<Vec<MultiRaterSlice>>,
    },
}

impl Source {
    /// The `split` of the multi-rater data `data`, prepared by `contract`, or else synthetic
    /// training cases at the contract's side (from the first `train_cases` seeds; 0: the whole
    /// split).
    pub fn new(
        data: Option<&Path>,
        contract: &InputContract,
        split: Option<PatientSplit>,
        train_cases: u64,
    ) -> Result<Self> {
        let size = contract.model_side as usize;
        Ok(match data {
            Some(dir) => Source::Folder {
                size,
                slices: Arc::new(dataset::read(dir, contract, split, PatientSplit::Train)?),
            },
            None => {
                ensure!(
                    size >= MIN_SIZE,
                    "synthetic cases need --size of at least {MIN_SIZE}"
                );
                Source::Synthetic {
                    size,
                    cases: train_cases,
                }
            }
        })
    }

    /// Side of the square images.
    pub fn size(&self) -> usize {
        match self {
            Source::Synthetic { size, .. } | Source::Folder { size, .. } => *size,
        }
    }

    /// A short description for logs and the run metadata.
    pub fn describe(&self) -> String {
        match self {
            Source::Synthetic { cases: 0, .. } => "synthetic (whole training split)".into(),
            Source::Synthetic { cases, .. } => format!("synthetic (first {cases} training cases)"),
            Source::Folder { slices, .. } => {
                let mut patients: Vec<&str> = slices.iter().map(|s| s.patient.as_str()).collect();
                patients.dedup();
                let plural = if patients.len() == 1 { "" } else { "s" };
                format!(
                    "{} slices of {} patient{plural}",
                    slices.len(),
                    patients.len()
                )
            }
        }
    }

    /// The batch of optimisation step `step`: one rater's mask per image, the rater drawn at
    /// random.
    pub fn batch(&self, seed: u64, step: usize, batch_size: usize) -> HostBatch {
        self.assemble(seed, step, batch_size, |raters, rng| {
            let pick = (rng.next_u64() % raters.len() as u64) as usize;
            vec![raters[pick].clone()]
        })
    }

    /// The batch of step `step` with every rater: `raters` masks per image, `[B, raters, S, S]`
    /// in `masks`. A folder slice with fewer (or more) raters repeats (or drops) them in order.
    pub fn rater_batch(
        &self,
        seed: u64,
        step: usize,
        batch_size: usize,
        raters: usize,
    ) -> HostBatch {
        self.assemble(seed, step, batch_size, |drawn, _| {
            drawn.iter().cycle().take(raters).cloned().collect()
        })
    }

    /// `batch_size` images drawn with the stream of `step`, each with the masks `choose` keeps
    /// of its raters (it may draw from the same stream).
    fn assemble(
        &self,
        seed: u64,
        step: usize,
        batch_size: usize,
        choose: impl Fn(&[Mask], &mut SeededRng) -> Vec<Mask>,
    ) -> HostBatch {
        let mut rng = step_rng(seed, step);
        let s = self.size();
        let mut images = Vec::with_capacity(batch_size * s * s);
        let mut masks = Vec::new();
        for _ in 0..batch_size {
            let (image, raters) = self.draw(&mut rng);
            images.extend_from_slice(&image);
            for mask in choose(&raters, &mut rng) {
                masks.extend(mask.to_bools().into_iter().map(i64::from));
            }
        }
        HostBatch {
            step,
            images,
            masks,
            batch_size,
            size: s,
        }
    }

    /// One image and its raters' masks, chosen with `rng`: a synthetic case's own four raters
    /// (fixed per case, like LIDC), or a folder slice's.
    fn draw(&self, rng: &mut SeededRng) -> (Vec<f32>, Vec<Mask>) {
        let s = self.size();
        match self {
            Source::Synthetic { cases, .. } => {
                let range = if *cases == 0 { EVAL_SEED_BASE } else { *cases };
                let index = rng.next_u64() % range;
                let case = Case::generate(Split::Train.seed(index), s, s);
                let raters = draw_rater_indices(&case, RATERS_PER_CASE, &mut case.rater_rng())
                    .into_iter()
                    .map(|k| case.hypotheses[k].mask.clone())
                    .collect();
                (case.image, raters)
            }
            Source::Folder { slices, .. } => {
                let slice = &slices[(rng.next_u64() % slices.len() as u64) as usize];
                (slice.image.clone(), slice.raters.clone())
            }
        }
    }

    /// Builds `batch(seed, step, batch_size)` for the steps `from..to` on a helper thread, at
    /// most two ahead.
    pub fn prefetch(
        &self,
        seed: u64,
        from: usize,
        to: usize,
        batch_size: usize,
    ) -> Receiver<HostBatch> {
        let source = self.clone();
        prefetch(from, to, move |step| source.batch(seed, step, batch_size))
    }
}

/// Runs `make(step)` for the steps `from..to` on a helper thread, at most two ahead.
pub fn prefetch(
    from: usize,
    to: usize,
    make: impl Fn(usize) -> HostBatch + Send + 'static,
) -> Receiver<HostBatch> {
    let (tx, rx) = sync_channel(2);
    std::thread::spawn(move || {
        for step in from..to {
            if tx.send(make(step)).is_err() {
                return; // the consumer stopped early
            }
        }
    });
    rx
}

/// The random stream of step `step`: data choice and (through [`noise_rng`]) the
/// reparameterisation noise, independent of how many steps ran before in this process.
pub fn step_rng(seed: u64, step: usize) -> SeededRng {
    let base = SeededRng::new(seed ^ 0x7452_4149_4E21).next_u64();
    SeededRng::new(base ^ (step as u64).wrapping_mul(0xD1B5_4A32_D192_ED03))
}

/// The ε stream of step `step`, separate from the data stream.
pub fn noise_rng(seed: u64, step: usize) -> SeededRng {
    step_rng(seed ^ 0x004E_4F49_5345, step)
}

//! Fine-tuning on a person's own annotated slices: the loop the web page runs in the browser
//! and the CLI tests natively — the same code on every backend.
//!
//! A [`Pair`] is one image with one mask per rater. Each step draws `batch_size` (image, rater)
//! combinations at random, augments them on the host ([`Augmentation`]), and takes one
//! [`Trainer`] step (posterior path, CE + β·KL, Adam). A step whose loss is not finite is
//! undone: the weights go back to the last good step and the caller is told why
//! ([`FineTuneError::Diverged`]), so a bad learning rate never destroys the model.

mod augment;

use burn::tensor::{Int, Tensor, TensorData};

pub use augment::Augmentation;

use crate::explore::{HostPrior, ReadError, decode_masks};
use crate::init::SeededRng;
use crate::loss::{LossConfig, LossValues};
use crate::model::ProbUNet;
use crate::train::{Batch, Trainer, TrainerConfig};
use metrics::{Mask, ged};

/// One training image (`side × side`, intensities in \[0, 1\]) and its raters' masks.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub name: String,
    pub image: Vec<f32>,
    pub side: usize,
    pub masks: Vec<Mask>,
}

/// Settings of a fine-tuning run (serialisable: the page hands them to its fine-tuning worker).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FineTuneConfig {
    /// Adam learning rate (small: the model is already trained).
    pub learning_rate: f64,
    /// β of the KL term.
    pub beta: f32,
    /// (image, rater) combinations per step.
    pub batch_size: usize,
    pub augmentation: Augmentation,
    /// Seed of the batch draws, the augmentation and ε.
    pub seed: u64,
}

impl Default for FineTuneConfig {
    fn default() -> Self {
        Self {
            learning_rate: 1e-4,
            beta: 1.0,
            batch_size: 4,
            augmentation: Augmentation::default(),
            seed: 0,
        }
    }
}

/// Why fine-tuning cannot start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum FineTuneError {
    #[error("add at least one image with at least one mask first")]
    NoPairs,
    #[error(
        "{name}: every image and mask must be {expected}×{expected} pixels (a multiple of {divisor})"
    )]
    BadSize {
        name: String,
        expected: usize,
        divisor: usize,
    },
    #[error(
        "the loss became {loss} at step {step}; the weights were restored to step {restored} \
         (try a smaller learning rate)"
    )]
    Diverged {
        step: usize,
        restored: usize,
        loss: f32,
    },
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// The fine-tuning loop's state: the model in training, its Adam moments and the data.
pub struct FineTuner {
    trainer: Trainer,
    pairs: Vec<Pair>,
    config: FineTuneConfig,
    rng: SeededRng,
    last_good: ProbUNet,
    good_steps: usize,
}

impl FineTuner {
    /// Checks the pairs against the model and starts from `model`'s weights.
    pub fn new(
        model: ProbUNet,
        pairs: Vec<Pair>,
        config: FineTuneConfig,
    ) -> Result<Self, FineTuneError> {
        let pairs: Vec<Pair> = pairs.into_iter().filter(|p| !p.masks.is_empty()).collect();
        let first = pairs.first().ok_or(FineTuneError::NoPairs)?;
        let (side, divisor) = (first.side, model.config().size_divisor());
        for pair in &pairs {
            let fits = pair.side == side
                && side % divisor == 0
                && pair.image.len() == side * side
                && pair.masks.iter().all(|m| m.shape() == (side, side));
            if !fits {
                return Err(FineTuneError::BadSize {
                    name: pair.name.clone(),
                    expected: side,
                    divisor,
                });
            }
        }
        let trainer_config = TrainerConfig::new()
            .with_learning_rate(config.learning_rate)
            .with_loss(LossConfig::new().with_beta(config.beta))
            .with_seed(config.seed);
        Ok(Self {
            trainer: Trainer::new(model.clone(), trainer_config),
            rng: SeededRng::new(config.seed ^ 0x5EED),
            last_good: model,
            good_steps: 0,
            pairs,
            config,
        })
    }

    /// Steps completed (a restored step does not count).
    pub fn steps_done(&self) -> usize {
        self.good_steps
    }

    /// The current weights, for sampling and saving.
    pub fn model(&self) -> ProbUNet {
        self.trainer.inference_model()
    }

    /// `batch_size` random (image, rater) combinations, augmented, on the model's device.
    fn batch(&mut self) -> Batch {
        let side = self.pairs[0].side;
        let n = self.config.batch_size.max(1);
        let mut images = Vec::with_capacity(n * side * side);
        let mut labels = Vec::with_capacity(n * side * side);
        for _ in 0..n {
            let pair = &self.pairs[(self.rng.next_u64() % self.pairs.len() as u64) as usize];
            let mask = &pair.masks[(self.rng.next_u64() % pair.masks.len() as u64) as usize];
            let (image, mask) = self
                .config
                .augmentation
                .apply(&pair.image, mask, &mut self.rng);
            images.extend(image);
            labels.extend(mask.to_bools().into_iter().map(i64::from));
        }
        let device = self.trainer.model().device();
        Batch {
            images: Tensor::from_data(TensorData::new(images, [n, 1, side, side]), &device),
            masks: Tensor::<3, Int>::from_data(TensorData::new(labels, [n, side, side]), &device),
        }
    }

    /// One optimisation step. A non-finite loss restores the last good weights (with a fresh
    /// Adam) and returns [`FineTuneError::Diverged`]; the tuner stays usable. Async because the
    /// loss is read back asynchronously (WebGPU requires it).
    pub async fn step(&mut self) -> Result<LossValues, FineTuneError> {
        let batch = self.batch();
        let parts = self.trainer.step(&batch);
        let values = parts.values_async().await?;
        if !values.is_finite() {
            let config = self.trainer_config();
            self.trainer = Trainer::new(self.last_good.clone(), config);
            return Err(FineTuneError::Diverged {
                step: self.good_steps + 1,
                restored: self.good_steps,
                loss: values.total,
            });
        }
        self.good_steps += 1;
        self.last_good = self.trainer.inference_model();
        Ok(values)
    }

    fn trainer_config(&self) -> TrainerConfig {
        TrainerConfig::new()
            .with_learning_rate(self.config.learning_rate)
            .with_loss(LossConfig::new().with_beta(self.config.beta))
            .with_seed(self.config.seed.wrapping_add(self.good_steps as u64))
    }
}

/// GED² between `n` samples of `model` on `pair`'s image and its raters' masks (uniform
/// weights): the held-out number reported before and after fine-tuning.
pub async fn held_out_ged(
    model: &ProbUNet,
    pair: &Pair,
    n: usize,
    seed: u64,
) -> Result<f64, FineTuneError> {
    let side = pair.side;
    let x = Tensor::<4>::from_data(
        TensorData::new(pair.image.clone(), [1, 1, side, side]),
        &model.device(),
    );
    let encoded = model.encode(x);
    let prior = HostPrior::read(&encoded, 0).await?;
    let zs = prior.draw(n, &mut SeededRng::new(seed));
    let samples = decode_masks(model, &encoded, &zs).await?;
    Ok(ged(&samples, &pair.masks)
        .map(|g| g.squared)
        .unwrap_or(f64::NAN))
}

//! The options of `probunet train` and the model presets they name.

use std::path::PathBuf;

use clap::{ArgGroup, Args, ValueEnum};
use probunet::ProbUNetConfig;

use imaging::InputContract;

use super::schedule::ScheduleKind;
use super::source::Source;
use crate::dataset::PatientSplit;

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

    /// The hierarchical model's preset of the same size.
    pub fn hierarchical(self) -> probunet::hierarchical::HpuNetConfig {
        use probunet::hierarchical::HpuNetConfig;
        match self {
            Preset::Tiny => HpuNetConfig::tiny(),
            Preset::Small => HpuNetConfig::small(),
            Preset::Paper => HpuNetConfig::paper(),
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

/// Where training images and their raters come from (shared by `train` and `fit-prior`).
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["synthetic", "data"])))]
pub struct DataArgs {
    /// Train on synthetic ambiguity-benchmark cases generated on the fly from the training seeds
    /// (never the held-out eval seeds), four raters drawn per case (`train` takes one of them,
    /// at random, as the target of each step; `fit-prior` all four).
    #[arg(long)]
    pub synthetic: bool,

    /// Train on multi-rater crops: a folder of LIDC-IDRI-XXXX.tar files (`shared/lidc-crops`),
    /// the same extracted (`<patient>/nodule-N/images/slice-K.png` + `mask-R/slice-K.png`), or
    /// a flat `<slice>_image.png` + `<slice>_rater<R>.png` folder. Images are prepared by the
    /// LIDC input contract (a 128² native crop around the centre, min–max scaled, its central
    /// --size² for the model); any non-zero mask pixel is foreground.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// With --data: which patients (docs/lidc-validation-patients.txt lists the validation
    /// ones). Default: train. A flat folder is one patient: use all.
    #[arg(long, value_enum, value_name = "SPLIT")]
    pub split: Option<PatientSplit>,

    /// With --synthetic: draw cases from the first N training seeds only (a fixed training set,
    /// like a real data set). 0 draws from the whole training split (almost every case new).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub train_cases: u64,
}

impl DataArgs {
    /// The input contract a new model trained on this data gets, at `size`, finishing at `beta`.
    pub fn contract(&self, size: usize, beta: f32) -> InputContract {
        match self.data {
            Some(_) => InputContract::lidc(size as u32, beta),
            None => InputContract::synthetic(size as u32, beta),
        }
    }

    /// The source these options name, prepared by `contract`.
    pub fn source(&self, contract: &InputContract) -> anyhow::Result<Source> {
        Source::new(self.data.as_deref(), contract, self.split, self.train_cases)
    }
}

/// Which model `probunet train` trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelChoice {
    /// The probabilistic U-Net (Kohl et al., 2018).
    Prob,
    /// The hierarchical probabilistic U-Net (Kohl et al., 2019), trained with GECO.
    Hpunet,
}

/// Options of `probunet train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub source: DataArgs,

    /// Which model: prob (the probabilistic U-Net) or hpunet (the hierarchical one; its presets
    /// are crates/probunet/src/hierarchical/config.rs, trained with GECO: --kappa, --top-k).
    #[arg(long, value_enum, default_value_t = ModelChoice::Prob)]
    pub model: ModelChoice,

    /// hpunet: GECO's target mean cross-entropy (nats) on the kept pixels.
    #[arg(long, default_value_t = 0.05, value_name = "NATS")]
    pub kappa: f32,

    /// hpunet: fraction of the batch's pixels the reconstruction term keeps (stochastic top-k).
    #[arg(long, default_value_t = 0.02, value_name = "F")]
    pub top_k: f32,

    /// hpunet: rate ν of GECO's multiplicative λ update.
    #[arg(long, default_value_t = 0.01, value_name = "NU")]
    pub geco_rate: f32,

    /// hpunet: start (or, with --resume, restart) GECO's λ at this value instead of 1 (or the
    /// checkpoint's): a new stage with another --kappa need not inherit a λ grown under the old.
    #[arg(long, value_name = "LAMBDA")]
    pub geco_lambda: Option<f32>,

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

    /// Continue from a checkpoint file, or from the newest checkpoint in a folder: weights, step
    /// count and Adam's state (the `.adam` file beside the weights; weights without one, such as
    /// an f16 export, resume with Adam afresh) are restored, the schedule and data continue
    /// where they were (a larger --steps than the original run stretches the LR schedule).
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

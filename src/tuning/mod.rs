//! On-device fine-tuning, the page's side: the person's pairs, the run's settings and
//! progress, and the loop that drives [`probunet::FineTuner`] one step at a time, yielding to
//! the browser between steps and, on the CPU, between the one-image passes inside a step (the
//! page blocks for one pass at most), with pause and cancel. Nothing is uploaded; the tuned
//! weights stay in this page until the person saves them.
//!
//! Training runs on the backend the page samples with (WebGPU or the CPU), starting from the
//! weights in use; every operation of the model has a gradient there (the decoder's upsampling
//! is written for it, see `probunet::upsample`). Losses are read asynchronously, as WebGPU
//! requires.

pub mod drawing;
mod pairs;

use std::sync::Arc;

use burn::tensor::Device;
use leptos::prelude::*;
use leptos::task::spawn_local;
use probunet::{FineTuneConfig, FineTuner, LossValues, Pair, Precision, held_out_ged};

pub use pairs::pairs_from_files;

use crate::backend::BackendKind;
use crate::browser::{now_ms, sleep_ms, yield_now};
use crate::workbench::Workbench;

/// Samples drawn for the held-out GED.
const GED_SAMPLES: usize = 16;

/// Where a run is.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    Idle,
    Running,
    Paused,
    /// Steps done; measuring GED on the held-out pair and saving the weights (seconds on a
    /// software WebGPU adapter). Pause and cancel no longer apply.
    Finishing,
    Finished,
    /// Stopped with a reason (cancelled, diverged, …).
    Stopped(String),
}

impl RunState {
    /// Whether a run is under way (no new run may start).
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            RunState::Running | RunState::Paused | RunState::Finishing
        )
    }

    /// Whether pause and cancel apply.
    pub fn is_controllable(&self) -> bool {
        matches!(self, RunState::Running | RunState::Paused)
    }

    pub fn id(&self) -> &'static str {
        match self {
            RunState::Idle => "idle",
            RunState::Running => "running",
            RunState::Paused => "paused",
            RunState::Finishing => "finishing",
            RunState::Finished => "finished",
            RunState::Stopped(_) => "stopped",
        }
    }
}

/// Steps done of the total, and the pace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub step: usize,
    pub total: usize,
    pub steps_per_s: f64,
    /// Where the steps run.
    pub backend: BackendKind,
}

/// What a training loop hands back: the tuned weights (f16 burnpack, the shipped format), the
/// steps taken, and why it stopped early (cancelled, diverged), if it did.
struct FinishedRun {
    weights: Vec<u8>,
    steps: usize,
    stopped: Option<String>,
}

/// What the person asked the running loop to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Control {
    Run,
    Pause,
    Cancel,
}

/// The fine-tuning panel's state. `Copy`: signals are handles.
#[derive(Clone, Copy)]
pub struct Tuning {
    pub pairs: RwSignal<Vec<Arc<Pair>>>,
    /// Index of the pair kept out of training to measure GED before and after.
    pub held_out: RwSignal<Option<usize>>,
    pub steps: RwSignal<usize>,
    pub learning_rate: RwSignal<f64>,
    pub state: RwSignal<RunState>,
    pub progress: RwSignal<Option<Progress>>,
    pub history: RwSignal<Vec<LossValues>>,
    pub ged_before: RwSignal<Option<f64>>,
    pub ged_after: RwSignal<Option<f64>>,
    /// Files that could not be used, in plain words.
    pub problems: RwSignal<Vec<String>>,
    control: StoredValue<Control>,
}

impl Tuning {
    pub fn new() -> Self {
        Self {
            pairs: RwSignal::new(Vec::new()),
            held_out: RwSignal::new(None),
            steps: RwSignal::new(20),
            learning_rate: RwSignal::new(1e-4),
            state: RwSignal::new(RunState::Idle),
            progress: RwSignal::new(None),
            history: RwSignal::new(Vec::new()),
            ged_before: RwSignal::new(None),
            ged_after: RwSignal::new(None),
            problems: RwSignal::new(Vec::new()),
            control: StoredValue::new(Control::Run),
        }
    }

    /// Adds pairs read from the person's files (a pair with an existing name is replaced).
    pub fn add_files(self, files: Vec<(String, Vec<u8>)>) {
        let (new, problems) = pairs_from_files(files);
        self.problems.set(problems);
        self.pairs.update(|pairs| {
            for pair in new {
                pairs.retain(|p| p.name != pair.name);
                pairs.push(Arc::new(pair));
            }
        });
        if self.held_out.get_untracked().is_none() && self.pairs.with_untracked(|p| p.len() >= 2) {
            let last = self.pairs.with_untracked(Vec::len) - 1;
            self.held_out.set(Some(last));
        }
    }

    /// Adds one pair made in the page (a crop and masks drawn over it).
    pub fn add_pair(self, pair: Pair) {
        self.pairs.update(|pairs| {
            pairs.retain(|p| p.name != pair.name);
            pairs.push(Arc::new(pair));
        });
    }

    pub fn remove(self, index: usize) {
        self.pairs.update(|pairs| {
            if index < pairs.len() {
                pairs.remove(index);
            }
        });
        self.held_out.set(None);
    }

    pub fn pause(self, paused: bool) {
        self.control
            .set_value(if paused { Control::Pause } else { Control::Run });
        self.state.set(if paused {
            RunState::Paused
        } else {
            RunState::Running
        });
    }

    pub fn cancel(self) {
        self.control.set_value(Control::Cancel);
    }

    /// Fine-tunes the model in use on the pairs (all but the held-out one), then makes the
    /// result the model in use.
    pub fn start(self, wb: Workbench) {
        let Some(weights) = wb.weights() else {
            self.state
                .set(RunState::Stopped("the model has not loaded yet".into()));
            return;
        };
        if self.state.get_untracked().is_busy() {
            return;
        }
        self.control.set_value(Control::Run);
        self.state.set(RunState::Running);
        self.history.set(Vec::new());
        self.ged_before.set(None);
        self.ged_after.set(None);
        spawn_local(async move {
            let (device, backend) = wb.engine().map_or((Device::flex(), BackendKind::Cpu), |e| {
                (e.backend.device.clone(), e.backend.kind)
            });
            // The run ends (finished or stopped) only once its weights are in use, so what the
            // panel says is always true of the model that samples.
            let outcome = self.run(&weights, &device, backend).await.and_then(|run| {
                let origin = format!("fine-tuned in this page, {} steps", run.steps);
                wb.install_weights(run.weights, origin)?;
                Ok(run.stopped)
            });
            self.state.set(match outcome {
                Ok(None) => RunState::Finished,
                Ok(Some(reason)) | Err(reason) => RunState::Stopped(reason),
            });
        });
    }

    /// Trains from `weights` on `device`; returns the tuned weights and why the loop stopped
    /// early, if it did.
    async fn run(
        self,
        weights: &[u8],
        device: &Device,
        backend: BackendKind,
    ) -> Result<FinishedRun, String> {
        let model = probunet::load_weights(weights, device).map_err(|e| e.to_string())?;
        let all = self.pairs.get_untracked();
        let held_out = self
            .held_out
            .get_untracked()
            .and_then(|i| all.get(i).cloned());
        let training: Vec<Pair> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != self.held_out.get_untracked())
            .map(|(_, pair)| (**pair).clone())
            .collect();
        if let Some(pair) = &held_out {
            let ged = held_out_ged(&model, pair, GED_SAMPLES, 0).await;
            self.ged_before.set(ged.ok());
        }
        let defaults = FineTuneConfig::default();
        let config = FineTuneConfig {
            learning_rate: self.learning_rate.get_untracked(),
            images_per_pass: images_per_pass(backend, defaults.batch_size),
            ..defaults
        };
        let mut tuner = FineTuner::new(model, training, config).map_err(|e| e.to_string())?;
        let total = self.steps.get_untracked();
        let started = now_ms();
        let mut paused_ms = 0.0;
        let mut stop = None;
        while tuner.steps_done() < total {
            yield_now().await;
            while self.control.get_value() == Control::Pause {
                let pause_start = now_ms();
                sleep_ms(100).await;
                paused_ms += now_ms() - pause_start;
            }
            if self.control.get_value() == Control::Cancel {
                stop = Some(format!(
                    "cancelled after {} steps; the model keeps them",
                    tuner.steps_done()
                ));
                break;
            }
            match tuner.step_yielding(yield_now).await {
                Ok(values) => self.history.update(|h| h.push(values)),
                Err(error) => {
                    stop = Some(error.to_string());
                    break;
                }
            }
            let seconds = (now_ms() - started - paused_ms) / 1000.0;
            self.progress.set(Some(Progress {
                step: tuner.steps_done(),
                total,
                steps_per_s: tuner.steps_done() as f64 / seconds.max(1e-3),
                backend,
            }));
        }
        self.state.set(RunState::Finishing);
        yield_now().await; // let the panel say so before the blocking work on the CPU
        let model = tuner.model();
        if let Some(pair) = &held_out {
            let ged = held_out_ged(&model, pair, GED_SAMPLES, 0).await;
            self.ged_after.set(ged.ok());
        }
        let weights = probunet::save_weights_async(&model, Precision::Half)
            .await
            .map_err(|e| e.to_string())?;
        Ok(FinishedRun {
            weights,
            steps: tuner.steps_done(),
            stopped: stop,
        })
    }
}

/// On the CPU the model's work blocks the page, so a step runs one image per pass with a yield
/// between (blocks ~0.6 s instead of ~2 s, for ~25 % fewer steps/s: `tuning.test.mjs` prints
/// both). On WebGPU the work is queued to the GPU and more passes only add launches.
pub(crate) fn images_per_pass(backend: BackendKind, batch_size: usize) -> usize {
    match backend {
        BackendKind::Cpu => 1,
        BackendKind::WebGpu => batch_size,
    }
}

impl Default for Tuning {
    fn default() -> Self {
        Self::new()
    }
}

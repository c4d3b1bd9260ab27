//! On-device fine-tuning, the page's side: the person's pairs, the run's settings and
//! progress, and where the loop ([`run::train`], driving [`probunet::FineTuner`] one step at a
//! time, with pause and cancel) runs. Nothing is uploaded; the tuned weights stay in this page
//! until the person saves them.
//!
//! Training runs on the backend the page samples with, starting from the weights in use; every
//! operation of the model has a gradient there (the decoder's upsampling is written for it, see
//! `probunet::upsample`). It runs in a worker ([`worker`]), so the page never blocks while it
//! trains; where a browser offers WebGPU to pages only, a WebGPU run falls back to the page's
//! thread, yielding between steps. Losses are read asynchronously, as WebGPU requires.

pub mod drawing;
mod pairs;
mod run;
mod wire;
mod worker;

use std::sync::Arc;

use burn::tensor::Device;
use imaging::InputContract;
use leptos::prelude::*;
use leptos::task::spawn_local;
use probunet::weights::ModelKind;
use probunet::{FineTuneConfig, LossValues, Pair};

pub use pairs::pairs_from_files;
pub use worker::tuning_worker;

use crate::backend::BackendKind;
use crate::workbench::Workbench;
use run::{Control, FinishedRun, RunObserver, RunRequest};
use worker::WorkerError;

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

/// Which thread runs the loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Thread {
    /// The fine-tuning worker: the page stays responsive.
    Worker,
    /// The page's own, because the worker could not open WebGPU (why).
    Page(String),
}

/// Steps done of the total, and the pace.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub step: usize,
    pub total: usize,
    pub steps_per_s: f64,
    /// Where the steps run.
    pub backend: BackendKind,
    pub thread: Thread,
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
    /// The input contract the pairs were prepared by.
    prepared_for: StoredValue<Option<InputContract>>,
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
            prepared_for: StoredValue::new(None),
        }
    }

    /// Adds pairs read from the person's files (a pair with an existing name is replaced),
    /// prepared by `contract`, the input contract of the model in use.
    pub fn add_files(self, files: Vec<(String, Vec<u8>)>, contract: &InputContract) {
        let (new, mut problems) = pairs_from_files(files, contract);
        problems.extend(self.prepare_for(contract));
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

    /// Adds one pair made in the page (a crop, prepared by `contract`, and masks drawn over it).
    pub fn add_pair(self, pair: Pair, contract: &InputContract) {
        if let Some(problem) = self.prepare_for(contract) {
            self.problems.set(vec![problem]);
        }
        self.pairs.update(|pairs| {
            pairs.retain(|p| p.name != pair.name);
            pairs.push(Arc::new(pair));
        });
    }

    /// Pairs prepared for one model's inputs are wrong for another's: when the contract
    /// changes, the old pairs go, and the returned line says so.
    fn prepare_for(self, contract: &InputContract) -> Option<String> {
        let same = self
            .prepared_for
            .with_value(|old| old.as_ref().is_none_or(|old| old == contract));
        self.prepared_for.set_value(Some(contract.clone()));
        if same || self.pairs.with_untracked(Vec::is_empty) {
            return None;
        }
        self.pairs.set(Vec::new());
        self.held_out.set(None);
        Some(
            "the pairs added before were prepared for another model's inputs and were removed"
                .into(),
        )
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
        let Some(engine) = wb.engine() else {
            self.state
                .set(RunState::Stopped("the model has not loaded yet".into()));
            return;
        };
        if engine.kind() != ModelKind::Probabilistic {
            self.state.set(RunState::Stopped(
                "fine-tuning in the page works on the probabilistic U-Net: choose a \
                 probabilistic U-Net model first"
                    .into(),
            ));
            return;
        }
        let contract = engine.contract();
        if self
            .prepared_for
            .with_value(|c| c.as_ref().is_some_and(|c| c != &contract))
        {
            self.state.set(RunState::Stopped(
                "the pairs were prepared for another model's inputs: add them again".into(),
            ));
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
            let beta = contract.training.beta;
            let outcome = self
                .run(&weights, &device, backend, beta)
                .await
                .and_then(|run| {
                    let origin = format!("fine-tuned in this page, {}", run::steps_text(run.steps));
                    wb.install_weights(run.weights, origin)?;
                    Ok(run.stopped)
                });
            self.state.set(match outcome {
                Ok(None) => RunState::Finished,
                Ok(Some(reason)) | Err(reason) => RunState::Stopped(reason),
            });
        });
    }

    /// Trains from `weights` on `backend`, in a worker (on `device`, the page's own, only where
    /// the worker has no WebGPU); returns the tuned weights and why the loop stopped early, if
    /// it did.
    async fn run(
        self,
        weights: &[u8],
        device: &Device,
        backend: BackendKind,
        beta: f32,
    ) -> Result<FinishedRun, String> {
        let all = self.pairs.get_untracked();
        let held_out_index = self.held_out.get_untracked();
        let held_out = held_out_index
            .and_then(|i| all.get(i))
            .map(|p| (**p).clone());
        let training: Vec<Pair> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != held_out_index)
            .map(|(_, pair)| (**pair).clone())
            .collect();
        let request = RunRequest {
            weights,
            training,
            held_out,
            // β: the one the model finished training with (its input contract), so fine-tuning
            // continues the same objective.
            config: FineTuneConfig {
                learning_rate: self.learning_rate.get_untracked(),
                beta,
                ..FineTuneConfig::default()
            },
            steps: self.steps.get_untracked(),
        };
        let panel = Panel {
            tuning: self,
            backend,
            total: request.steps,
            thread: Thread::Worker,
        };
        match worker::train_in_worker(&request, backend, &panel).await {
            Ok(run) => Ok(run),
            Err(WorkerError::Failed(message)) => Err(message),
            Err(WorkerError::NoWebGpu(why)) => {
                let panel = Panel {
                    thread: Thread::Page(why),
                    ..panel
                };
                run::train(request, device, &panel).await
            }
        }
    }
}

/// The panel's signals as the loop's [`RunObserver`].
struct Panel {
    tuning: Tuning,
    backend: BackendKind,
    total: usize,
    thread: Thread,
}

impl RunObserver for Panel {
    fn ged_before(&self, ged: Option<f64>) {
        self.tuning.ged_before.set(ged);
    }
    fn step(&self, values: LossValues, steps_done: usize, steps_per_s: f64) {
        self.tuning.history.update(|h| h.push(values));
        self.tuning.progress.set(Some(Progress {
            step: steps_done,
            total: self.total,
            steps_per_s,
            backend: self.backend,
            thread: self.thread.clone(),
        }));
    }
    fn finishing(&self) {
        self.tuning.state.set(RunState::Finishing);
    }
    fn ged_after(&self, ged: Option<f64>) {
        self.tuning.ged_after.set(ged);
    }
    fn control(&self) -> Control {
        self.tuning.control.get_value()
    }
}

impl Default for Tuning {
    fn default() -> Self {
        Self::new()
    }
}

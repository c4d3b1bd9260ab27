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
mod launch;
mod pairs;
mod resume;
mod run;
mod wire;
mod worker;

use std::sync::Arc;

use futures::channel::mpsc::UnboundedSender;

use imaging::InputContract;
use leptos::prelude::*;
use probunet::{LossValues, Pair};

pub use pairs::pairs_from_files;
pub use worker::tuning_worker;

use crate::backend::BackendKind;
use crate::workbench::{CurrentModel, ModelStatus};
use resume::Interrupted;
use run::Control;

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
    /// Steps held by the run's last checkpoint in this browser's storage.
    pub kept_step: RwSignal<Option<usize>>,
    /// A run that a closed tab or a dead worker interrupted, found in storage.
    interrupted: RwSignal<Option<Arc<Interrupted>>>,
    control: StoredValue<Control>,
    /// Where pause and cancel go while a worker runs the loop.
    controls: StoredValue<Option<UnboundedSender<Control>>>,
    /// The input contract the pairs were prepared by.
    prepared_for: StoredValue<Option<InputContract>>,
    /// What a run starts from and replaces.
    model: CurrentModel,
}

impl Tuning {
    pub fn new(model: CurrentModel) -> Self {
        Self {
            model,
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
            kept_step: RwSignal::new(None),
            interrupted: RwSignal::new(None),
            control: StoredValue::new(Control::Run),
            controls: StoredValue::new(None),
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

    /// The input contract of the model in use (how pairs must be prepared), once it has
    /// loaded.
    pub fn contract(self) -> Option<InputContract> {
        self.model.engine().map(|engine| engine.contract())
    }

    /// Whether the model in use is ready (a run can start from it).
    pub fn model_ready(self) -> bool {
        matches!(self.model.status().get(), ModelStatus::Ready { .. })
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
}

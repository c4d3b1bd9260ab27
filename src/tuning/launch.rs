//! A run from the panel: start, pause and cancel it, train in the worker (or on the page's
//! thread where the worker has no WebGPU), keep checkpoints, and settle what the page shows
//! when it ends.

use std::sync::Arc;

use burn::tensor::Device;
use futures::channel::mpsc::unbounded;
use leptos::prelude::*;
use leptos::task::spawn_local;
use probunet::weights::ModelKind;
use probunet::{FineTuneConfig, LossValues, Pair};

use super::resume::{self, Checkpoints, RunRecord};
use super::run::{self, Control, FinishedRun, RunObserver, RunRequest};
use super::wire::WirePair;
use super::worker::{self, WorkerError};
use super::{Progress, RunState, Thread, Tuning};
use crate::backend::BackendKind;

impl Tuning {
    pub fn pause(self, paused: bool) {
        self.send(if paused { Control::Pause } else { Control::Run });
        self.state.set(if paused {
            RunState::Paused
        } else {
            RunState::Running
        });
    }

    pub fn cancel(self) {
        self.send(Control::Cancel);
    }

    /// Tells the loop, wherever it runs: the page's thread reads `control` between steps, a
    /// worker hears it through `controls`.
    fn send(self, control: Control) {
        self.control.set_value(control);
        self.controls.with_value(|to_worker| {
            if let Some(to_worker) = to_worker {
                let _ = to_worker.unbounded_send(control);
            }
        });
    }

    /// Fine-tunes the model in use on the pairs (all but the held-out one), then makes the
    /// result the model in use.
    pub fn start(self) {
        let model = self.model;
        let Some(weights) = model.weights() else {
            self.state
                .set(RunState::Stopped("the model has not loaded yet".into()));
            return;
        };
        if self.state.get_untracked().is_busy() {
            return;
        }
        let Some(engine) = model.engine() else {
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
        self.interrupted.set(None);
        self.kept_step.set(None);
        self.history.set(Vec::new());
        self.ged_before.set(None);
        self.ged_after.set(None);
        spawn_local(async move {
            let device = model
                .engine()
                .map_or(Device::flex(), |e| e.device().clone());
            let backend = model.backend();
            // The run ends (finished or stopped) only once its weights are in use, so what the
            // panel says is always true of the model that samples.
            let beta = contract.training.beta;
            let outcome = self
                .run(&weights, &device, backend, beta)
                .await
                .and_then(|run| {
                    let origin = format!("fine-tuned in this page, {}", run::steps_text(run.steps));
                    model.install(run.weights, origin)?;
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
        let record = RunRecord {
            pairs: all.iter().map(|pair| WirePair::from_pair(pair)).collect(),
            held_out: held_out_index,
            config: request.config.clone(),
            total: request.steps,
            steps_done: 0,
        };
        let checkpoints = Checkpoints::new(record, move |kept| match kept {
            Ok(steps) => self.kept_step.set(Some(steps)),
            Err(error) => self
                .problems
                .set(vec![format!("could not keep a checkpoint: {error}")]),
        });
        let (to_worker, controls) = unbounded();
        self.controls.set_value(Some(to_worker));
        let panel = Panel {
            tuning: self,
            backend,
            total: request.steps,
            thread: Thread::Worker,
            checkpoints,
        };
        let outcome = match worker::train_in_worker(&request, backend, controls, &panel).await {
            Ok(run) => Ok(run),
            Err(WorkerError::Failed(message)) => Err(message),
            Err(WorkerError::NoWebGpu(why)) => {
                let panel = Panel {
                    thread: Thread::Page(why),
                    ..panel
                };
                let outcome = run::train(request, device, &panel).await;
                return self.after_run(outcome, panel.checkpoints).await;
            }
        };
        self.after_run(outcome, panel.checkpoints).await
    }

    /// A run that ended in the page needs no checkpoint; one that failed keeps its last, and
    /// the page offers to resume it.
    async fn after_run(
        self,
        outcome: Result<FinishedRun, String>,
        checkpoints: Checkpoints,
    ) -> Result<FinishedRun, String> {
        self.controls.set_value(None);
        let ended = outcome.is_ok();
        let closed = checkpoints.close(ended).await;
        if ended {
            return outcome;
        }
        let found = resume::find().await.ok().flatten();
        let kept = match (&found, closed) {
            (Some(run), Ok(())) => format!(
                " The weights after {} are kept in this browser: resume or discard them below.",
                run.summary()
            ),
            (_, Err(error)) => format!(" Its checkpoint could not be kept: {error}."),
            (None, Ok(())) => " It stopped before its first checkpoint.".into(),
        };
        self.interrupted.set(found.map(Arc::new));
        outcome.map_err(|message| message + &kept)
    }
}

/// The panel's signals as the loop's [`RunObserver`].
struct Panel {
    tuning: Tuning,
    backend: BackendKind,
    total: usize,
    thread: Thread,
    checkpoints: Checkpoints,
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
    fn checkpoint(&self, weights: Vec<u8>, steps_done: usize) {
        self.checkpoints.keep(weights, steps_done);
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

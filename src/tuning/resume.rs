//! A fine-tuning run's checkpoint in this browser: the weights after the last few steps and
//! what it takes to go on (the pairs, which one is held out, the settings, steps done of how
//! many). Written every [`run::CHECKPOINT_EVERY`](super::run::CHECKPOINT_EVERY) steps and on
//! pause, deleted when a run ends in the page; so what survives a reload is a run that a
//! closed tab, a crash or a dead worker interrupted, and the page offers to resume or discard
//! it.
//!
//! Resuming restarts the optimiser (Adam's moments are not kept: they would double what is
//! stored), from the checkpoint's weights, for the steps that were left.

use std::cell::RefCell;
use std::sync::Arc;

use futures::StreamExt;
use futures::channel::{mpsc, oneshot};
use leptos::prelude::*;
use leptos::task::spawn_local;
use probunet::{FineTuneConfig, Pair};
use serde::{Deserialize, Serialize};

use super::wire::WirePair;
use super::{RunState, Tuning};
use crate::storage;

const RECORD_KEY: &str = "/probseg-tuning-checkpoint.json";
const WEIGHTS_KEY: &str = "/probseg-tuning-checkpoint.bpk";

/// What a run needs to go on, beside its weights.
#[derive(Serialize, Deserialize)]
pub struct RunRecord {
    pub pairs: Vec<WirePair>,
    pub held_out: Option<usize>,
    pub config: FineTuneConfig,
    /// Steps the run was asked for, and steps done when the weights were kept.
    pub total: usize,
    pub steps_done: usize,
}

/// A run found in this browser's storage: its record and its weights.
pub struct Interrupted {
    pub record: RunRecord,
    pub weights: Vec<u8>,
}

impl Interrupted {
    /// The pairs, back in the page's form; a pair that no longer reads is left out.
    pub fn pairs(&self) -> Vec<Arc<Pair>> {
        self.record
            .pairs
            .iter()
            .filter_map(|pair| pair.to_pair().ok().map(Arc::new))
            .collect()
    }

    /// "12 of 40 steps".
    pub fn summary(&self) -> String {
        format!("{} of {} steps", self.record.steps_done, self.record.total)
    }
}

/// Keeps `weights` as the checkpoint `record` (JSON) describes, replacing the last one. The
/// weights go first: a record always has weights at least as new as it says.
async fn keep(record: &[u8], weights: &[u8]) -> Result<(), String> {
    storage::put(WEIGHTS_KEY, weights).await?;
    storage::put(RECORD_KEY, record).await
}

/// One checkpoint on its way to storage.
struct Save {
    steps_done: usize,
    record: Vec<u8>,
    weights: Vec<u8>,
}

/// Writes one run's checkpoints to storage in the order they come, one at a time, beside the
/// steps (storage is asynchronous; the loop does not wait for it).
pub struct Checkpoints {
    record: RefCell<RunRecord>,
    queue: mpsc::UnboundedSender<Save>,
    written: oneshot::Receiver<()>,
}

impl Checkpoints {
    /// `on_kept` hears each write: the steps it holds, or why it failed.
    pub fn new(record: RunRecord, on_kept: impl Fn(Result<usize, String>) + 'static) -> Self {
        let (queue, mut saves) = mpsc::unbounded::<Save>();
        let (all_written, written) = oneshot::channel();
        spawn_local(async move {
            while let Some(save) = saves.next().await {
                let kept = keep(&save.record, &save.weights).await;
                on_kept(kept.map(|()| save.steps_done));
            }
            let _ = all_written.send(());
        });
        Self {
            record: RefCell::new(record),
            queue,
            written,
        }
    }

    /// Queues `weights`, the run's state after `steps_done` steps.
    pub fn keep(&self, weights: Vec<u8>, steps_done: usize) {
        let mut record = self.record.borrow_mut();
        record.steps_done = steps_done;
        if let Ok(json) = serde_json::to_vec(&*record) {
            let save = Save {
                steps_done,
                record: json,
                weights,
            };
            let _ = self.queue.unbounded_send(save);
        }
    }

    /// Waits until every queued checkpoint is written; then, for a run that ended in the page
    /// (its weights are in use), deletes the checkpoint.
    pub async fn close(self, run_ended: bool) -> Result<(), String> {
        drop(self.queue);
        let _ = self.written.await;
        if run_ended { discard().await } else { Ok(()) }
    }
}

/// The interrupted run kept in this browser, if there is one. A browser without storage for
/// the page kept nothing; a record that no longer reads (another version of the page wrote
/// it) or lost its weights is discarded, and the error says so.
pub async fn find() -> Result<Option<Interrupted>, String> {
    let Ok(Some(json)) = storage::get(RECORD_KEY).await else {
        return Ok(None);
    };
    let unusable = async |why: String| {
        let _ = discard().await;
        Err(format!("a fine-tuning checkpoint {why} and was discarded"))
    };
    let record: RunRecord = match serde_json::from_slice(&json) {
        Ok(record) => record,
        Err(e) => {
            return unusable(format!(
                "from another version of this page did not read ({e})"
            ))
            .await;
        }
    };
    match storage::get(WEIGHTS_KEY).await {
        Ok(Some(weights)) => Ok(Some(Interrupted { record, weights })),
        _ => unusable("had lost its weights".into()).await,
    }
}

/// Deletes the checkpoint (the run ended in the page, or the person discarded it).
pub async fn discard() -> Result<(), String> {
    storage::delete(RECORD_KEY).await?;
    storage::delete(WEIGHTS_KEY).await
}

impl Tuning {
    /// Looks for a run a closed tab or a dead worker interrupted (once, when the panel opens).
    pub fn look_for_interrupted(self) {
        spawn_local(async move {
            match find().await {
                Ok(found) => self.interrupted.set(found.map(Arc::new)),
                Err(error) => self.problems.set(vec![error]),
            }
        });
    }

    /// "12 of 40 steps" for the interrupted run, if there is one.
    pub fn interrupted_summary(self) -> Option<String> {
        self.interrupted
            .with(|run| run.as_ref().map(|run| run.summary()))
    }

    /// Goes on with the interrupted run: its weights become the model in use, its pairs and
    /// settings come back, and the steps it had left run.
    pub fn resume(self) {
        let Some(run) = self.interrupted.get_untracked() else {
            return;
        };
        if self.state.get_untracked().is_busy() {
            return;
        }
        let origin = format!("a fine-tuning checkpoint after {}", run.summary());
        if let Err(error) = self.model.install(run.weights.clone(), origin) {
            self.state.set(RunState::Stopped(format!(
                "the checkpoint's weights do not load: {error}"
            )));
            return;
        }
        let record = &run.record;
        self.prepared_for.set_value(self.contract());
        self.pairs.set(run.pairs());
        self.held_out
            .set(record.held_out.filter(|&i| i < record.pairs.len()));
        self.learning_rate.set(record.config.learning_rate);
        self.steps
            .set(record.total.saturating_sub(record.steps_done).max(1));
        self.interrupted.set(None);
        self.start();
    }

    /// Deletes the interrupted run's checkpoint.
    pub fn discard_interrupted(self) {
        self.interrupted.set(None);
        spawn_local(async move {
            if let Err(error) = discard().await {
                self.problems
                    .set(vec![format!("could not discard the checkpoint: {error}")]);
            }
        });
    }
}

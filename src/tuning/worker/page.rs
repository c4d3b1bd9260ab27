//! The page's side: starts the worker, hands it the run, forwards the person's pause and
//! cancel, and replays the worker's reports into the panel. Both directions are awaited
//! (channels fed by the event handlers), never polled; every way the run can end terminates
//! the worker and is reported once.

use futures::channel::mpsc::UnboundedReceiver;
use futures::{StreamExt, select};
use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::Worker;

use super::to_json;
use crate::backend::BackendKind;
use crate::browser::js_error;
use crate::tuning::run::{Control, FinishedRun, RunObserver, RunRequest};
use crate::tuning::wire::{Report, WirePair, WireRequest};
use crate::wasm_worker::{self, Incoming};

/// The worker's script, next to the page's loader.
const WORKER_SCRIPT: &str = "public/tuning-worker.js";

/// Why a run in the worker did not come back.
#[derive(Debug)]
pub enum WorkerError {
    /// The worker has no WebGPU: the caller may train on the page's thread instead.
    NoWebGpu(String),
    /// The run failed; the message says why, in plain words.
    Failed(String),
}

impl From<String> for WorkerError {
    fn from(message: String) -> Self {
        WorkerError::Failed(message)
    }
}

impl From<&str> for WorkerError {
    fn from(message: &str) -> Self {
        WorkerError::Failed(message.into())
    }
}

/// Runs `request` in a fine-tuning worker on `backend`, forwarding `controls` (the person's
/// pause/cancel) and replaying its reports into `panel`.
pub async fn train_in_worker(
    request: &RunRequest<'_>,
    backend: BackendKind,
    controls: UnboundedReceiver<Control>,
    panel: &impl RunObserver,
) -> Result<FinishedRun, WorkerError> {
    let wire = WireRequest {
        training: request.training.iter().map(WirePair::from_pair).collect(),
        held_out: request.held_out.as_ref().map(WirePair::from_pair),
        config: request.config.clone(),
        steps: request.steps,
        webgpu: backend == BackendKind::WebGpu,
    };
    let weights = Uint8Array::from(request.weights);
    let fields = [
        ("request", JsValue::from_str(&to_json(&wire)?)),
        ("weights", weights.clone().into()),
    ];
    let (worker, messages) = wasm_worker::start(
        WORKER_SCRIPT,
        "probsegTuningWorker",
        &fields,
        &Array::of1(&weights.buffer()),
        "the fine-tuning worker",
    )?;
    // Dropping `worker` terminates it, however the run ended.
    follow(&worker.worker, messages, controls, panel).await
}

/// Replays the worker's reports into `panel` and forwards the person's pause/cancel until the
/// run ends.
async fn follow(
    worker: &Worker,
    mut messages: UnboundedReceiver<Incoming>,
    mut controls: UnboundedReceiver<Control>,
    panel: &impl RunObserver,
) -> Result<FinishedRun, WorkerError> {
    // The worker listens once it says it started (loading it may take a second); a control
    // that comes before waits, and only the latest counts.
    let mut listening = false;
    let mut waiting: Option<Control> = None;
    let send = |control: Control| -> Result<(), WorkerError> {
        worker
            .post_message(&JsValue::from_str(&to_json(&control)?))
            .map_err(|e| js_error(e).into())
    };
    loop {
        select! {
            control = controls.next() => match control {
                Some(control) if listening => send(control)?,
                Some(control) => waiting = Some(control),
                None => {}
            },
            message = messages.next() => {
                let data = message.ok_or("the fine-tuning worker went away without a word")??;
                let (report, weights) = read(&data)?;
                match report {
                    Report::Started => {
                        listening = true;
                        if let Some(control) = waiting.take() {
                            send(control)?;
                        }
                    }
                    Report::NoWebGpu { why } => return Err(WorkerError::NoWebGpu(why)),
                    Report::GedBefore { ged } => panel.ged_before(ged),
                    Report::Step { values, steps_done, steps_per_s } => {
                        panel.step(values, steps_done, steps_per_s)
                    }
                    Report::Checkpoint { steps_done } => {
                        let weights = weights.ok_or("a checkpoint came without weights")?;
                        panel.checkpoint(weights, steps_done);
                    }
                    Report::Finishing => panel.finishing(),
                    Report::GedAfter { ged } => panel.ged_after(ged),
                    Report::Done { steps, stopped } => {
                        let weights = weights.ok_or("the fine-tuning worker finished without weights")?;
                        return Ok(FinishedRun { weights, steps, stopped });
                    }
                    Report::Failed { message } => {
                        return Err(WorkerError::Failed(format!("fine-tuning failed: {message}")));
                    }
                }
            }
            complete => return Err("the fine-tuning worker went away without a word".into()),
        }
    }
}

/// A message's report and the weights beside it, if any.
fn read(data: &JsValue) -> Result<(Report, Option<Vec<u8>>), WorkerError> {
    let report = Reflect::get(data, &"report".into())
        .ok()
        .and_then(|r| r.as_string())
        .and_then(|json| serde_json::from_str(&json).ok())
        .ok_or("the fine-tuning worker sent a message this page does not understand")?;
    let weights = Reflect::get(data, &"weights".into())
        .ok()
        .and_then(|w| w.dyn_into::<Uint8Array>().ok())
        .map(|w| w.to_vec());
    Ok((report, weights))
}

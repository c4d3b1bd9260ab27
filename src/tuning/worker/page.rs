//! The page's side: starts the worker, hands it the run, forwards the person's pause and
//! cancel, and replays the worker's reports into the panel. Both directions are awaited
//! (channels fed by the event handlers), never polled; every way the run can end terminates
//! the worker and is reported once.

use futures::channel::mpsc::{UnboundedReceiver, unbounded};
use futures::{StreamExt, select};
use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

use super::{envelope, to_json};
use crate::backend::BackendKind;
use crate::browser::js_error;
use crate::tuning::run::{Control, FinishedRun, RunObserver, RunRequest};
use crate::tuning::wire::{Report, WirePair, WireRequest};

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

/// What arrives from the worker: a message, or the error event of a worker that failed.
type Incoming = Result<JsValue, String>;

/// Runs `request` in a fine-tuning worker on `backend`, forwarding `controls` (the person's
/// pause/cancel) and replaying its reports into `panel`.
pub async fn train_in_worker(
    request: &RunRequest<'_>,
    backend: BackendKind,
    controls: UnboundedReceiver<Control>,
    panel: &impl RunObserver,
) -> Result<FinishedRun, WorkerError> {
    let (wasm_js, wasm) = app_files()?;
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Module);
    let worker = Worker::new_with_options(WORKER_SCRIPT, &options)
        .map_err(|e| format!("could not start the fine-tuning worker: {}", js_error(e)))?;
    let (inbox, messages) = unbounded::<Incoming>();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
        let inbox = inbox.clone();
        move |event: MessageEvent| {
            let _ = inbox.unbounded_send(Ok(event.data()));
        }
    });
    // An error thrown in the worker comes as an ErrorEvent; a script that cannot be loaded as
    // a plain Event.
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        event.prevent_default();
        let why = event
            .dyn_ref::<web_sys::ErrorEvent>()
            .map(|error| error.message())
            .unwrap_or_else(|| "its script could not be loaded".into());
        let _ = inbox.unbounded_send(Err(format!("the fine-tuning worker failed: {why}")));
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));

    let outcome = match start(&worker, request, backend, &wasm_js, &wasm) {
        Ok(()) => follow(&worker, messages, controls, panel).await,
        Err(error) => Err(error),
    };
    worker.set_onmessage(None);
    worker.set_onerror(None);
    worker.terminate();
    outcome
}

/// Posts the run: the app's files, the pairs and settings, the weights transferred.
fn start(
    worker: &Worker,
    request: &RunRequest<'_>,
    backend: BackendKind,
    wasm_js: &str,
    wasm: &str,
) -> Result<(), WorkerError> {
    let wire = WireRequest {
        training: request.training.iter().map(WirePair::from_pair).collect(),
        held_out: request.held_out.as_ref().map(WirePair::from_pair),
        config: request.config.clone(),
        steps: request.steps,
        webgpu: backend == BackendKind::WebGpu,
    };
    let weights = Uint8Array::from(request.weights);
    let message = envelope(&[
        ("wasmJs", JsValue::from_str(wasm_js)),
        ("wasm", JsValue::from_str(wasm)),
        ("request", JsValue::from_str(&to_json(&wire)?)),
        ("weights", weights.clone().into()),
    ]);
    worker
        .post_message_with_transfer(&message, &Array::of1(&weights.buffer()))
        .map_err(|e| format!("could not hand the run to the worker: {}", js_error(e)).into())
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

/// The hashed wasm files the loader started the page with (its script tag names them).
fn app_files() -> Result<(String, String), String> {
    let tag = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("script[data-wasm-js]").ok().flatten())
        .ok_or("the fine-tuning worker needs the page's loader script")?;
    let attribute = |name| {
        tag.get_attribute(name)
            .ok_or(format!("the loader script has no {name}"))
    };
    Ok((attribute("data-wasm-js")?, attribute("data-wasm")?))
}

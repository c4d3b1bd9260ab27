//! Fine-tuning in a dedicated worker, so the page never blocks while it trains: on the CPU the
//! steps themselves would block it, on WebGPU the kernels' compilation and launches (seconds
//! at a time on a software adapter).
//!
//! The worker is a second instance of this same wasm (`public/tuning-worker.js` imports the
//! page's own files, already in the browser's cache), started without the UI (`main.rs`): no
//! second build, and the model code is the page's. It opens its own device on the page's
//! backend. The page posts the run (weights, pairs, settings) and then only pause/cancel; the
//! worker runs [`run::train`] and posts a [`Report`] per event, the weights last. Nothing
//! leaves the browser: a worker is the page's own thread, of the page's own origin.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use burn::tensor::Device;
use js_sys::{Array, Object, Reflect, Uint8Array};
use probunet::LossValues;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, Worker, WorkerOptions, WorkerType};

use super::run::{self, Control, FinishedRun, RunObserver, RunRequest};
use super::wire::{Report, WirePair, WireRequest};
use crate::backend::{self, BackendKind};
use crate::browser::{js_error, sleep_ms};

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

/// Runs `request` in a fine-tuning worker on `backend`, replaying its reports into `panel`.
pub async fn train_in_worker(
    request: &RunRequest<'_>,
    backend: BackendKind,
    panel: &impl RunObserver,
) -> Result<FinishedRun, WorkerError> {
    let (wasm_js, wasm) = app_files()?;
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Module);
    let worker = Worker::new_with_options(WORKER_SCRIPT, &options)
        .map_err(|e| format!("could not start the fine-tuning worker: {}", js_error(e)))?;
    let inbox = Rc::new(RefCell::new(VecDeque::<Result<JsValue, String>>::new()));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
        let inbox = inbox.clone();
        move |event: MessageEvent| inbox.borrow_mut().push_back(Ok(event.data()))
    });
    // An error thrown in the worker comes as an ErrorEvent; a script that cannot be loaded as
    // a plain Event.
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new({
        let inbox = inbox.clone();
        move |event: web_sys::Event| {
            event.prevent_default();
            let why = event
                .dyn_ref::<web_sys::ErrorEvent>()
                .map(|error| error.message())
                .unwrap_or_else(|| "its script could not be loaded".into());
            inbox
                .borrow_mut()
                .push_back(Err(format!("the fine-tuning worker failed: {why}")));
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));

    let wire = WireRequest {
        training: request.training.iter().map(WirePair::from_pair).collect(),
        held_out: request.held_out.as_ref().map(WirePair::from_pair),
        config: request.config.clone(),
        steps: request.steps,
        webgpu: backend == BackendKind::WebGpu,
    };
    let weights = Uint8Array::from(request.weights);
    let start = object(&[
        ("wasmJs", JsValue::from_str(&wasm_js)),
        ("wasm", JsValue::from_str(&wasm)),
        ("request", JsValue::from_str(&to_json(&wire)?)),
        ("weights", weights.clone().into()),
    ]);
    worker
        .post_message_with_transfer(&start, &Array::of1(&weights.buffer()))
        .map_err(|e| format!("could not hand the run to the worker: {}", js_error(e)))?;

    let outcome = follow(&worker, &inbox, panel).await;
    worker.terminate();
    outcome
}

/// Replays the worker's reports into `panel` and forwards the person's pause/cancel until the
/// run ends.
async fn follow(
    worker: &Worker,
    inbox: &RefCell<VecDeque<Result<JsValue, String>>>,
    panel: &impl RunObserver,
) -> Result<FinishedRun, WorkerError> {
    // Control is sent only once the worker listens (it may take a second to start).
    let mut sent: Option<Control> = None;
    loop {
        let next = inbox.borrow_mut().pop_front();
        let Some(message) = next else {
            let control = panel.control();
            if sent.is_some() && sent != Some(control) {
                worker
                    .post_message(&JsValue::from_str(&to_json(&control)?))
                    .map_err(js_error)?;
                sent = Some(control);
            }
            sleep_ms(50).await;
            continue;
        };
        let data = message?;
        let report: Report = Reflect::get(&data, &"report".into())
            .ok()
            .and_then(|r| r.as_string())
            .and_then(|json| serde_json::from_str(&json).ok())
            .ok_or("the fine-tuning worker sent a message this page does not understand")?;
        match report {
            Report::Started => sent = Some(Control::Run),
            Report::NoWebGpu { why } => return Err(WorkerError::NoWebGpu(why)),
            Report::GedBefore { ged } => panel.ged_before(ged),
            Report::Step {
                values,
                steps_done,
                steps_per_s,
            } => panel.step(values, steps_done, steps_per_s),
            Report::Finishing => panel.finishing(),
            Report::GedAfter { ged } => panel.ged_after(ged),
            Report::Done { steps, stopped } => {
                let weights = Reflect::get(&data, &"weights".into())
                    .ok()
                    .and_then(|w| w.dyn_into::<Uint8Array>().ok())
                    .ok_or("the fine-tuning worker finished without weights")?;
                return Ok(FinishedRun {
                    weights: weights.to_vec(),
                    steps,
                    stopped,
                });
            }
            Report::Failed { message } => {
                return Err(WorkerError::Failed(format!(
                    "fine-tuning failed: {message}"
                )));
            }
        }
    }
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

fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in fields {
        let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object.into()
}

fn to_json(value: &impl Serialize) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| e.to_string())
}

/// The worker's side: posts reports to the page and hears its pause/cancel.
struct WorkerSide {
    scope: DedicatedWorkerGlobalScope,
    control: Rc<Cell<Control>>,
}

impl WorkerSide {
    fn post(&self, report: &Report, weights: Option<Vec<u8>>) {
        let json = to_json(report).unwrap_or_else(|e| {
            format!(r#"{{"kind":"failed","message":"unserialisable report: {e}"}}"#)
        });
        let mut fields = vec![("report", JsValue::from_str(&json))];
        let transfer = Array::new();
        if let Some(bytes) = weights {
            let array = Uint8Array::from(bytes.as_slice());
            transfer.push(&array.buffer());
            fields.push(("weights", array.into()));
        }
        let _ = self
            .scope
            .post_message_with_transfer(&object(&fields), &transfer);
    }
}

impl RunObserver for WorkerSide {
    fn ged_before(&self, ged: Option<f64>) {
        self.post(&Report::GedBefore { ged }, None);
    }
    fn step(&self, values: LossValues, steps_done: usize, steps_per_s: f64) {
        let report = Report::Step {
            values,
            steps_done,
            steps_per_s,
        };
        self.post(&report, None);
    }
    fn finishing(&self) {
        self.post(&Report::Finishing, None);
    }
    fn ged_after(&self, ged: Option<f64>) {
        self.post(&Report::GedAfter { ged }, None);
    }
    fn control(&self) -> Control {
        self.control.get()
    }
}

/// The worker's entry point (`public/tuning-worker.js` calls it with the page's first
/// message): listens for pause/cancel, trains on the CPU and posts the outcome.
#[wasm_bindgen(js_name = probsegTuningWorker)]
pub fn tuning_worker(start: JsValue) {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let control = Rc::new(Cell::new(Control::Run));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
        let control = control.clone();
        move |event: MessageEvent| {
            if let Some(c) = event
                .data()
                .as_string()
                .and_then(|json| serde_json::from_str(&json).ok())
            {
                control.set(c);
            }
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget(); // lives as long as the worker
    let side = WorkerSide { scope, control };
    wasm_bindgen_futures::spawn_local(async move {
        match train_from(&start, &side).await {
            Ok(run) => {
                let report = Report::Done {
                    steps: run.steps,
                    stopped: run.stopped,
                };
                side.post(&report, Some(run.weights));
            }
            Err(report) => side.post(&report, None),
        }
    });
}

/// Opens the device, says so, trains; a failure comes back as the report that tells it.
async fn train_from(start: &JsValue, side: &WorkerSide) -> Result<FinishedRun, Report> {
    let failed = |message: String| Report::Failed { message };
    let field = |name: &str| Reflect::get(start, &name.into()).map_err(|e| failed(js_error(e)));
    let wire: WireRequest = field("request")?
        .as_string()
        .and_then(|json| serde_json::from_str(&json).ok())
        .ok_or_else(|| failed("the page sent no run".into()))?;
    let weights = field("weights")?
        .dyn_into::<Uint8Array>()
        .map_err(|_| failed("the page sent no weights".into()))?
        .to_vec();
    let device = if wire.webgpu {
        backend::init_webgpu()
            .await
            .map_err(|why| Report::NoWebGpu { why })?
    } else {
        Device::flex()
    };
    side.post(&Report::Started, None);
    let request = RunRequest {
        weights: &weights,
        training: wire
            .training
            .into_iter()
            .map(WirePair::into_pair)
            .collect::<Result<_, _>>()
            .map_err(failed)?,
        held_out: wire
            .held_out
            .map(WirePair::into_pair)
            .transpose()
            .map_err(failed)?,
        config: wire.config,
        steps: wire.steps,
    };
    run::train(request, &device, side).await.map_err(failed)
}

//! The worker's side: hears the page's pause/cancel, trains, and posts what happens.

use std::cell::Cell;
use std::rc::Rc;

use burn::tensor::Device;
use js_sys::{Array, Reflect, Uint8Array};
use probunet::LossValues;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use super::to_json;
use crate::backend;
use crate::browser::js_error;
use crate::tuning::run::{self, Control, FinishedRun, RunObserver, RunRequest};
use crate::tuning::wire::{Report, WirePair, WireRequest};
use crate::wasm_worker::envelope;

/// Posts reports to the page; holds the last pause/cancel the page sent.
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
            .post_message_with_transfer(&envelope(&fields), &transfer);
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
    fn checkpoint(&self, weights: Vec<u8>, steps_done: usize) {
        self.post(&Report::Checkpoint { steps_done }, Some(weights));
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
/// message): listens for pause/cancel, trains and posts the outcome.
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
            .iter()
            .map(WirePair::to_pair)
            .collect::<Result<_, _>>()
            .map_err(failed)?,
        held_out: wire
            .held_out
            .as_ref()
            .map(WirePair::to_pair)
            .transpose()
            .map_err(failed)?,
        config: wire.config,
        steps: wire.steps,
    };
    run::train(request, &device, side).await.map_err(failed)
}

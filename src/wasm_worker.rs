//! Workers that run a second instance of this same wasm without its UI (`src/main.rs` mounts
//! nothing outside a window): the fine-tuning worker and the two encode workers. Each is
//! started from `public/wasm-worker.js` through a small script of its own, so a test or the
//! person's browser tools can tell them apart; the page's first message names the wasm's
//! files (already in the browser's cache) and the export that takes over inside.
//!
//! What arrives from a worker comes through a channel: its messages, or the error that ended
//! it, in words.

use futures::channel::mpsc::{UnboundedReceiver, unbounded};
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

use crate::browser::js_error;

/// A message from the worker, or why it failed.
pub type Incoming = Result<JsValue, String>;

/// A started worker and its messages. Terminated when dropped.
pub struct WasmWorker {
    pub worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for WasmWorker {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

/// Starts `script` (a module worker) and hands it the wasm's files, the export `entry` to call
/// and `fields`; `what` names the worker in error messages ("the fine-tuning worker").
pub fn start(
    script: &str,
    entry: &str,
    fields: &[(&str, JsValue)],
    transfer: &js_sys::Array,
    what: &'static str,
) -> Result<(WasmWorker, UnboundedReceiver<Incoming>), String> {
    let (wasm_js, wasm) = app_files(what)?;
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Module);
    let worker = Worker::new_with_options(script, &options)
        .map_err(|e| format!("could not start {what}: {}", js_error(e)))?;
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
        let _ = inbox.unbounded_send(Err(format!("{what} failed: {why}")));
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let started = WasmWorker {
        worker,
        _on_message: on_message,
        _on_error: on_error,
    };
    let mut boot = vec![
        ("entry", JsValue::from_str(entry)),
        ("wasmJs", JsValue::from_str(&wasm_js)),
        ("wasm", JsValue::from_str(&wasm)),
    ];
    boot.extend(fields.iter().cloned());
    started
        .worker
        .post_message_with_transfer(&envelope(&boot), transfer)
        .map_err(|e| format!("could not hand {what} its work: {}", js_error(e)))?;
    Ok((started, messages))
}

/// A plain JS object of `fields`: the envelope of every message.
pub fn envelope(fields: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in fields {
        let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object.into()
}

/// A field of a message (`undefined` when it has none).
pub fn field(message: &JsValue, name: &str) -> JsValue {
    Reflect::get(message, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// The hashed wasm files the loader started the page with (its script tag names them).
fn app_files(what: &str) -> Result<(String, String), String> {
    let tag = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("script[data-wasm-js]").ok().flatten())
        .ok_or(format!("{what} needs the page's loader script"))?;
    let attribute = |name| {
        tag.get_attribute(name)
            .ok_or(format!("the loader script has no {name}"))
    };
    Ok((attribute("data-wasm-js")?, attribute("data-wasm")?))
}

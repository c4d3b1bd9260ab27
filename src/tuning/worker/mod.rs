//! Fine-tuning in a dedicated worker, so the page never blocks while it trains: on the CPU the
//! steps themselves would block it, on WebGPU the kernels' compilation and launches (seconds
//! at a time on a software adapter).
//!
//! The worker is a second instance of this same wasm ([`crate::wasm_worker`]), started without
//! the UI: no second build, and the model code is the page's. It opens its own device on the page's
//! backend. The page posts the run (weights, pairs, settings) and then only pause/cancel; the
//! worker runs [`run::train`](super::run::train) and posts a [`Report`](super::wire::Report)
//! per event, checkpoints and the weights last. Nothing leaves the browser: a worker is the
//! page's own thread, of the page's own origin.
//!
//! One side per file: [`page`] starts the worker and follows it, [`inside`] is the worker.

mod inside;
mod page;

use serde::Serialize;

pub use inside::tuning_worker;
pub(super) use page::{WorkerError, train_in_worker};

fn to_json(value: &impl Serialize) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| e.to_string())
}

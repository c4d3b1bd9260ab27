//! One encode worker as the page sees it: started, then asked one thing at a time.

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use futures::future::{Either, select};
use futures::lock::Mutex;
use js_sys::{Array, Reflect};
use wasm_bindgen::JsValue;

use super::wire::{Reply, Request};
use crate::browser::sleep_ms;
use crate::wasm_worker::{self, Incoming, WasmWorker, field};

/// The worker's script, next to the page's loader.
const SCRIPT: &str = "public/encode-worker.js";
const WHAT: &str = "an encode worker";
/// How long an answer may take before the worker counts as failed (and the page computes):
/// the slowest request, the paper preset's encode at 128², takes well under a second.
const ANSWER_WITHIN_MS: i32 = 15_000;

pub(super) struct Helper {
    worker: WasmWorker,
    /// Locked for a whole question and its answer, so two jobs' questions never cross.
    replies: Mutex<UnboundedReceiver<Incoming>>,
}

impl Helper {
    /// Starts the worker and waits until its wasm runs.
    pub(super) async fn start() -> Result<Self, String> {
        let (worker, mut replies) =
            wasm_worker::start(SCRIPT, "probsegEncodeWorker", &[], &Array::new(), WHAT)?;
        match read(replies.next().await)? {
            (Reply::Ready, _) => Ok(Self {
                worker,
                replies: Mutex::new(replies),
            }),
            (Reply::Failed { message }, _) => Err(format!("{WHAT} could not start: {message}")),
            (other, _) => Err(format!("{WHAT} said {} before it was ready", other.kind())),
        }
    }

    /// Asks `request` with `data` (a typed array, transferred) beside it; the answer and the
    /// numbers beside it. A failure comes back as the worker's words.
    pub(super) async fn ask(
        &self,
        request: &Request,
        data: Option<JsValue>,
    ) -> Result<(Reply, JsValue), String> {
        let mut replies = self.replies.lock().await;
        let json = serde_json::to_string(request).map_err(|e| e.to_string())?;
        let mut fields = vec![("request", JsValue::from_str(&json))];
        let transfer = Array::new();
        if let Some(data) = data {
            transfer.push(&Reflect::get(&data, &"buffer".into()).unwrap_or_default());
            fields.push(("data", data));
        }
        self.worker
            .worker
            .post_message_with_transfer(&wasm_worker::envelope(&fields), &transfer)
            .map_err(|e| format!("could not ask {WHAT}: {}", crate::browser::js_error(e)))?;
        let answer = {
            let deadline = std::pin::pin!(sleep_ms(ANSWER_WITHIN_MS));
            match select(replies.next(), deadline).await {
                Either::Left((incoming, _)) => read(incoming)?,
                Either::Right(_) => {
                    return Err(format!(
                        "{WHAT} did not answer within {} s",
                        ANSWER_WITHIN_MS / 1000
                    ));
                }
            }
        };
        match answer {
            (Reply::Failed { message }, _) => Err(format!("{WHAT} failed: {message}")),
            answer => Ok(answer),
        }
    }
}

/// A message's reply and the numbers beside it.
fn read(incoming: Option<Incoming>) -> Result<(Reply, JsValue), String> {
    let message = incoming.ok_or(format!("{WHAT} went away without a word"))??;
    let reply = field(&message, "report")
        .as_string()
        .and_then(|json| serde_json::from_str(&json).ok())
        .ok_or(format!(
            "{WHAT} sent a message this page does not understand"
        ))?;
    Ok((reply, field(&message, "data")))
}

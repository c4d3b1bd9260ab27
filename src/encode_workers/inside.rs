//! The worker's side: keeps a model and the latest projection, answers one request at a time.

use burn::tensor::Device;
use futures::StreamExt;
use futures::channel::mpsc::unbounded;
use js_sys::{Array, Float32Array, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use super::wire::{Reply, Request};
use crate::wasm_worker::{envelope, field};
use session::{Engine, HostMap, Projection};

/// What one encode worker holds between requests.
#[derive(Default)]
struct Inside {
    engine: Option<Engine>,
    held: Option<(u64, Projection)>,
}

/// A reply and the numbers that go beside it.
type Answer = (Reply, Option<JsValue>);

/// The worker's entry point (`public/encode-worker.js` calls it once the wasm runs).
#[wasm_bindgen(js_name = probsegEncodeWorker)]
pub fn encode_worker(_start: JsValue) {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let (inbox, mut requests) = unbounded::<JsValue>();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let _ = inbox.unbounded_send(event.data());
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget(); // lives as long as the worker
    wasm_bindgen_futures::spawn_local(async move {
        let post = |(reply, data): Answer| {
            let json = serde_json::to_string(&reply).unwrap_or_else(|e| {
                format!(r#"{{"kind":"failed","message":"unserialisable reply: {e}"}}"#)
            });
            let mut fields = vec![("report", JsValue::from_str(&json))];
            let transfer = Array::new();
            if let Some(data) = data {
                transfer.push(&js_sys::Reflect::get(&data, &"buffer".into()).unwrap_or_default());
                fields.push(("data", data));
            }
            let _ = scope.post_message_with_transfer(&envelope(&fields), &transfer);
        };
        post((Reply::Ready, None));
        let mut inside = Inside::default();
        // One at a time, in order: the page awaits each answer before it asks again.
        while let Some(message) = requests.next().await {
            let answer = inside
                .answer(&message)
                .await
                .unwrap_or_else(|message| (Reply::Failed { message }, None));
            post(answer);
        }
    });
}

impl Inside {
    async fn answer(&mut self, message: &JsValue) -> Result<Answer, String> {
        let request: Request = field(message, "request")
            .as_string()
            .and_then(|json| serde_json::from_str(&json).ok())
            .ok_or("the page sent a request this worker does not understand")?;
        let data = field(message, "data");
        let floats = || {
            data.dyn_ref::<Float32Array>()
                .map(Float32Array::to_vec)
                .ok_or("the request came without its numbers")
        };
        if let Request::Load = request {
            let bytes = data
                .dyn_ref::<Uint8Array>()
                .ok_or("the weights did not come")?
                .to_vec();
            self.held = None;
            self.engine = None;
            self.engine = Some(Engine::load(&bytes, Device::flex()).map_err(|e| e.to_string())?);
            return Ok((Reply::Loaded, None));
        }
        self.compute(request, floats).await
    }

    /// Answers every request but [`Request::Load`] with the model loaded.
    async fn compute(
        &mut self,
        request: Request,
        floats: impl Fn() -> Result<Vec<f32>, &'static str>,
    ) -> Result<Answer, String> {
        let engine = self.engine.as_ref().ok_or("no model is loaded")?;
        let failed = |e: session::EngineError| e.to_string();
        match request {
            Request::Load => Err("loading is answered before the model is asked".into()),
            Request::Project {
                ticket,
                width,
                height,
            } => {
                let projection = engine.project(floats()?, width, height).map_err(failed)?;
                let map = projection.read().await.map_err(failed)?;
                self.held = Some((ticket, projection));
                let reply = Reply::Projected {
                    channels: map.channels,
                    height: map.height,
                    width: map.width,
                };
                Ok((reply, Some(Float32Array::from(map.data.as_slice()).into())))
            }
            Request::Prior { width, height } => {
                let prior = engine
                    .prior_of(floats()?, width, height)
                    .await
                    .map_err(failed)?;
                let both: Vec<f32> = prior.mu.iter().chain(&prior.sigma).copied().collect();
                let reply = Reply::Prior { dims: prior.dims() };
                Ok((reply, Some(Float32Array::from(both.as_slice()).into())))
            }
            Request::Hold {
                ticket,
                channels,
                height,
                width,
            } => {
                let map = HostMap {
                    channels,
                    height,
                    width,
                    data: floats()?,
                };
                self.held = Some((ticket, engine.projection_from(map).map_err(failed)?));
                Ok((Reply::Held, None))
            }
            Request::Decode {
                ticket,
                count,
                dims,
            } => {
                let Some((_, projection)) = self.held.as_ref().filter(|(t, _)| *t == ticket) else {
                    return Ok((Reply::NotHeld, None));
                };
                let flat = floats()?;
                if dims == 0 || flat.len() != count * dims {
                    return Err(format!("{} numbers for {count} latents", flat.len()));
                }
                let zs: Vec<Vec<f32>> = flat.chunks(dims).map(<[f32]>::to_vec).collect();
                let masks = engine
                    .decode_projection(projection, &zs)
                    .await
                    .map_err(failed)?;
                let (width, height) = masks.first().map_or((0, 0), |m| (m.width(), m.height()));
                let bytes: Vec<u8> = masks
                    .iter()
                    .flat_map(|m| m.to_bools())
                    .map(u8::from)
                    .collect();
                let reply = Reply::Masks { width, height };
                Ok((reply, Some(Uint8Array::from(bytes.as_slice()).into())))
            }
        }
    }
}

//! Keeping things in this browser (Cache Storage of the page's origin): fine-tuned weights, so a
//! reload starts from them, and a running fine-tuning's checkpoint, so a closed tab or a dead
//! worker loses no more than a few steps. Nothing leaves the machine; "Forget" deletes them.
//!
//! Reached through `js_sys::Reflect` rather than web-sys bindings: the Cache API is three calls,
//! and new web-sys features would rebuild burn's whole wasm graph.

use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::browser::js_error;

/// The cache (not the service worker's, which it may replace on update) and the kept
/// weights' key. Fine-tuning's checkpoints live in the same cache under their own keys
/// (`tuning::resume`).
const CACHE: &str = "probseg-user-weights";
const KEY: &str = "/probseg-user-weights.bpk";

/// Calls `object.method(args…)` and awaits the promise it returns.
async fn call(object: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let function: Function = Reflect::get(object, &method.into())
        .map_err(js_error)?
        .dyn_into()
        .map_err(|_| format!("{method} is not available in this browser"))?;
    let promise = function
        .apply(object, &args.iter().collect())
        .map_err(js_error)?;
    JsFuture::from(Promise::from(promise))
        .await
        .map_err(js_error)
}

async fn cache() -> Result<JsValue, String> {
    let window = web_sys::window().ok_or("no window")?;
    let caches = Reflect::get(&window, &"caches".into()).map_err(js_error)?;
    if caches.is_undefined() {
        return Err("this browser offers no storage for the page (Cache Storage)".into());
    }
    call(&caches, "open", &[CACHE.into()]).await
}

/// Stores `bytes` under `key`, replacing what was kept there before.
pub async fn put(key: &str, bytes: &[u8]) -> Result<(), String> {
    let cache = cache().await?;
    let mut copy = bytes.to_vec();
    let response = web_sys::Response::new_with_opt_u8_array(Some(&mut copy)).map_err(js_error)?;
    call(&cache, "put", &[key.into(), response.into()]).await?;
    Ok(())
}

/// What is kept under `key`, if anything.
pub async fn get(key: &str) -> Result<Option<Vec<u8>>, String> {
    let cache = cache().await?;
    let found = call(&cache, "match", &[key.into()]).await?;
    if found.is_undefined() || found.is_null() {
        return Ok(None);
    }
    let buffer = call(&found, "arrayBuffer", &[]).await?;
    Ok(Some(Uint8Array::new(&buffer).to_vec()))
}

/// Deletes what is kept under `key` (nothing if nothing is).
pub async fn delete(key: &str) -> Result<(), String> {
    let cache = cache().await?;
    call(&cache, "delete", &[key.into()]).await?;
    Ok(())
}

/// Keeps `bytes` as the weights the page starts from.
pub async fn keep_weights(bytes: &[u8]) -> Result<(), String> {
    put(KEY, bytes).await
}

/// The weights the person kept, if any.
pub async fn kept_weights() -> Result<Option<Vec<u8>>, String> {
    get(KEY).await
}

/// Deletes the kept weights.
pub async fn forget_weights() -> Result<(), String> {
    delete(KEY).await
}

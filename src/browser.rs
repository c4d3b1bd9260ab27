//! Small wrappers over browser APIs the app needs: time, yielding to the event loop, reading
//! dropped files, fetching from the page's own origin with progress, and saving files locally.

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Milliseconds since the page (or the worker) started (`performance.now()`).
pub fn now_ms() -> f64 {
    match web_sys::window() {
        Some(window) => window.performance(),
        None => worker_scope().and_then(|scope| scope.performance()),
    }
    .map(|performance| performance.now())
    .unwrap_or(0.0)
}

/// The global scope when this code runs in a worker (the fine-tuning worker).
fn worker_scope() -> Option<web_sys::WorkerGlobalScope> {
    js_sys::global().dyn_into().ok()
}

/// Lets the browser handle input and paint before the next piece of model work: resolves on a
/// zero-delay timer, which runs after pending events and a frame.
pub async fn yield_now() {
    sleep_ms(0).await;
}

/// Resolves after `ms` milliseconds (a timer: the page keeps running meanwhile).
pub async fn sleep_ms(ms: i32) {
    let promise = Promise::new(&mut |resolve, _reject| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        } else if let Some(scope) = worker_scope() {
            let _ = scope.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// A parameter of the page's address (`?name=value`).
pub fn query_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

/// Describes a JavaScript exception for a person.
pub fn js_error(value: JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}

/// The bytes of a file the person dropped or picked (never leaves the page).
pub async fn read_file(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|error| format!("could not read {}: {}", file.name(), js_error(error)))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Takes the download the loader script started under `window[name]` (a promise of an
/// `ArrayBuffer`), once: `None` when there is none, `Some(Err)` when it failed.
pub async fn take_prefetched(name: &str) -> Option<Result<Vec<u8>, String>> {
    let window: JsValue = web_sys::window()?.into();
    let key = JsValue::from_str(name);
    let promise = js_sys::Reflect::get(&window, &key)
        .ok()?
        .dyn_into::<Promise>()
        .ok()?;
    let _ = js_sys::Reflect::delete_property(window.unchecked_ref::<js_sys::Object>(), &key);
    Some(
        JsFuture::from(promise)
            .await
            .map(|buffer| Uint8Array::new(&buffer).to_vec())
            .map_err(js_error),
    )
}

/// GETs `path` from the page's own origin, reporting `(received, total)` bytes as they arrive
/// (`total` is `None` when the server sends no length).
pub async fn fetch_bytes(
    path: &str,
    mut on_progress: impl FnMut(u64, Option<u64>),
) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(path))
        .await
        .map_err(|error| format!("could not fetch {path}: {}", js_error(error)))?
        .dyn_into()
        .map_err(|_| format!("fetch of {path} returned no response"))?;
    if !response.ok() {
        return Err(format!(
            "{path} answered HTTP {} {}",
            response.status(),
            response.status_text()
        ));
    }
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|value| value.parse::<u64>().ok());
    let Some(body) = response.body() else {
        return Err(format!("{path} has no body"));
    };
    let reader: web_sys::ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| "the response body cannot be read as a stream".to_string())?;
    let mut bytes = Vec::with_capacity(total.unwrap_or(0) as usize);
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|error| format!("download of {path} failed: {}", js_error(error)))?;
        let done = js_sys::Reflect::get(&chunk, &"done".into())
            .map(|done| done.is_truthy())
            .unwrap_or(true);
        if done {
            break;
        }
        let value = js_sys::Reflect::get(&chunk, &"value".into())
            .map_err(|_| "a stream chunk had no value".to_string())?;
        bytes.extend(Uint8Array::new(&value).to_vec());
        on_progress(bytes.len() as u64, total);
    }
    Ok(bytes)
}

/// Saves `url` (a `data:` URL made in the page) under `file_name` through a temporary link:
/// the file is generated and saved locally, nothing is uploaded.
pub fn save_url(url: &str, file_name: &str) -> Result<(), String> {
    let document = web_sys::window()
        .and_then(|window| window.document())
        .ok_or("no document")?;
    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(js_error)?
        .dyn_into()
        .map_err(|_| "could not create a link")?;
    link.set_href(url);
    link.set_download(file_name);
    link.click();
    Ok(())
}

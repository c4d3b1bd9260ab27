//! Asks the browser which WebGPU adapter it would give us, before burn initialises anything.
//!
//! web-sys's WebGPU bindings are behind `--cfg=web_sys_unstable_apis`; we read the few fields we
//! need through `js_sys::Reflect` instead, which also tolerates browsers that predate
//! `GPUAdapterInfo.isFallbackAdapter`.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// What the browser says about its WebGPU adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterInfo {
    pub vendor: String,
    pub architecture: String,
    pub description: String,
    /// A software adapter (SwiftShader and the like): WebGPU emulated on the CPU.
    pub is_fallback: bool,
}

impl AdapterInfo {
    /// A short human-readable name, e.g. "google swiftshader".
    pub fn label(&self) -> String {
        let name = [&self.vendor, &self.architecture, &self.description]
            .iter()
            .filter(|part| !part.is_empty())
            .map(|part| part.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        if name.is_empty() {
            "unnamed adapter".to_owned()
        } else {
            name
        }
    }
}

/// Why no WebGPU adapter could be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoAdapter {
    /// `navigator.gpu` does not exist (old browser, or WebGPU disabled).
    NoApi,
    /// The API exists but `requestAdapter()` resolved to null.
    NoneOffered,
    /// Something threw while asking.
    Failed(String),
}

impl std::fmt::Display for NoAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoAdapter::NoApi => write!(
                f,
                "this browser does not offer WebGPU (navigator.gpu is missing)"
            ),
            NoAdapter::NoneOffered => write!(
                f,
                "the browser offers WebGPU but found no adapter (no usable GPU)"
            ),
            NoAdapter::Failed(why) => write!(f, "asking for a WebGPU adapter failed: {why}"),
        }
    }
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn get_string(target: &JsValue, key: &str) -> String {
    get(target, key).as_string().unwrap_or_default()
}

fn describe(error: JsValue) -> NoAdapter {
    NoAdapter::Failed(error.as_string().unwrap_or_else(|| format!("{error:?}")))
}

/// Requests the default adapter, as burn-wgpu will, and reports what it is.
pub async fn request_adapter() -> Result<AdapterInfo, NoAdapter> {
    let window = web_sys::window().ok_or(NoAdapter::NoApi)?;
    let gpu = get(&window.navigator(), "gpu");
    if gpu.is_undefined() || gpu.is_null() {
        return Err(NoAdapter::NoApi);
    }
    let request: Function = get(&gpu, "requestAdapter")
        .dyn_into()
        .map_err(|_| NoAdapter::NoApi)?;
    let promise: Promise = request
        .call0(&gpu)
        .map_err(describe)?
        .dyn_into()
        .map_err(describe)?;
    let adapter = JsFuture::from(promise).await.map_err(describe)?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err(NoAdapter::NoneOffered);
    }
    let info = get(&adapter, "info");
    // Chrome ≥ 136 reports it on `info`; older builds had `adapter.isFallbackAdapter`.
    let is_fallback = get(&info, "isFallbackAdapter")
        .as_bool()
        .or_else(|| get(&adapter, "isFallbackAdapter").as_bool())
        .unwrap_or(false);
    Ok(AdapterInfo {
        vendor: get_string(&info, "vendor"),
        architecture: get_string(&info, "architecture"),
        description: get_string(&info, "description"),
        is_fallback,
    })
}

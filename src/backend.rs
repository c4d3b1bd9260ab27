//! Chooses the device the model runs on, and says why.
//!
//! WebGPU when a real adapter exists; burn's CPU backend (flex, wasm SIMD) otherwise. A software
//! adapter such as SwiftShader ran ~5× slower than flex on the machines we measured, so by
//! default it counts as "no GPU"; `?backend=webgpu` forces it anyway (the browser tests use that
//! to exercise the WebGPU path on GPU-less machines), `?backend=cpu` skips WebGPU entirely.

use burn::tensor::Device;
use burn::tensor::wgpu::WgpuBackend;

use crate::webgpu::{self, AdapterInfo};

/// What the person asked for (from the page's `backend` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preference {
    /// WebGPU on a hardware adapter, else the CPU.
    #[default]
    Auto,
    /// WebGPU on whatever adapter the browser offers, software ones included.
    WebGpu,
    /// The CPU backend, without asking for WebGPU.
    Cpu,
}

impl Preference {
    pub const ALL: [Preference; 3] = [Preference::Auto, Preference::WebGpu, Preference::Cpu];

    /// Parses the `backend` query value; anything unknown means [`Preference::Auto`].
    pub fn from_query(value: Option<&str>) -> Self {
        match value.map(str::to_ascii_lowercase).as_deref() {
            Some("webgpu") | Some("gpu") => Preference::WebGpu,
            Some("cpu") => Preference::Cpu,
            _ => Preference::Auto,
        }
    }

    pub fn query_value(self) -> &'static str {
        match self {
            Preference::Auto => "auto",
            Preference::WebGpu => "webgpu",
            Preference::Cpu => "cpu",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Preference::Auto => "Automatic (hardware WebGPU, else CPU)",
            Preference::WebGpu => "Force WebGPU (even a software adapter)",
            Preference::Cpu => "CPU only",
        }
    }
}

/// The backend that ended up running the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    WebGpu,
    Cpu,
}

impl BackendKind {
    pub fn label(self) -> &'static str {
        match self {
            BackendKind::WebGpu => "WebGPU",
            BackendKind::Cpu => "CPU (wasm SIMD)",
        }
    }

    /// A stable identifier for tests and CSS.
    pub fn id(self) -> &'static str {
        match self {
            BackendKind::WebGpu => "webgpu",
            BackendKind::Cpu => "cpu",
        }
    }
}

/// A device ready for tensors, with the story of how it was chosen.
#[derive(Clone)]
pub struct ActiveBackend {
    pub kind: BackendKind,
    pub device: Device,
    /// Why this backend: shown to the person verbatim.
    pub reason: String,
    pub adapter: Option<AdapterInfo>,
}

fn cpu(reason: String, adapter: Option<AdapterInfo>) -> ActiveBackend {
    ActiveBackend {
        kind: BackendKind::Cpu,
        device: Device::flex(),
        reason,
        adapter,
    }
}

/// Picks and initialises the backend. Never fails: the CPU is always there.
pub async fn select(preference: Preference) -> ActiveBackend {
    if preference == Preference::Cpu {
        return cpu("CPU requested (backend=cpu)".into(), None);
    }
    let adapter = match webgpu::request_adapter().await {
        Ok(adapter) => adapter,
        Err(why) => return cpu(format!("{why}; using the CPU backend"), None),
    };
    if adapter.is_fallback && preference == Preference::Auto {
        return cpu(
            format!(
                "only a software WebGPU adapter is available ({}), which is slower than the CPU \
                 backend; choose \"Force WebGPU\" to use it anyway",
                adapter.label()
            ),
            Some(adapter),
        );
    }
    match init_webgpu().await {
        Ok(device) => {
            let reason = if adapter.is_fallback {
                format!("WebGPU forced on a software adapter ({})", adapter.label())
            } else {
                format!("hardware WebGPU adapter ({})", adapter.label())
            };
            ActiveBackend {
                kind: BackendKind::WebGpu,
                device,
                reason,
                adapter: Some(adapter),
            }
        }
        Err(error) => cpu(
            format!("WebGPU initialisation failed ({error}); using the CPU backend"),
            Some(adapter),
        ),
    }
}

/// A burn device on the browser's WebGPU (the page's, or the fine-tuning worker's own: each
/// wasm instance needs its own).
pub async fn init_webgpu() -> Result<Device, String> {
    Device::wgpu_options()
        .graphics_api(WgpuBackend::WebGpu)
        .init_async()
        .await
        .map_err(|error| error.to_string())
}

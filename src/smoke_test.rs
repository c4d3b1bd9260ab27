//! Choosing the backend and proving it computes: the glue between the page and the model's
//! smoke test. Kept out of the components so they only display what comes back.

use crate::backend::{self, ActiveBackend, Preference};
use crate::browser::now_ms;
use crate::probe::{ProbeOutput, run_probe};

/// The outcome of choosing a backend and running the smoke test on it.
#[derive(Clone)]
pub struct BackendReport {
    pub active: ActiveBackend,
    pub init_ms: f64,
    pub cold_ms: f64,
    pub warm_ms: f64,
    pub probe: Result<ProbeOutput, String>,
}

/// Side of the smoke test's input: large enough to take measurable time, small enough for a
/// software WebGPU adapter.
const PROBE_SIZE: usize = 64;

/// Chooses the backend, then runs the smoke test twice: the first run includes shader
/// compilation and allocation, the second shows the steady state.
pub async fn start(preference: Preference) -> BackendReport {
    let started = now_ms();
    let active = backend::select(preference).await;
    let init_ms = now_ms() - started;
    let cold_start = now_ms();
    let first = run_probe(&active.device, PROBE_SIZE).await;
    let cold_ms = now_ms() - cold_start;
    let warm_start = now_ms();
    let second = run_probe(&active.device, PROBE_SIZE).await;
    let warm_ms = now_ms() - warm_start;
    let probe = match (first, second) {
        (Ok(_), Ok(output)) => Ok(output),
        (Err(error), _) | (_, Err(error)) => Err(format!("the smoke test failed: {error}")),
    };
    BackendReport {
        active,
        init_ms,
        cold_ms,
        warm_ms,
        probe,
    }
}

//! The page: header, backend status with its smoke test, About.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::about::About;
use super::backend_panel::{BackendPanel, BackendReport};
use super::header::Header;
use crate::backend::{self, Preference};

/// Reads `?backend=` from the page's address.
fn preference_from_url() -> Preference {
    let search = web_sys::window()
        .and_then(|window| window.location().search().ok())
        .unwrap_or_default();
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok();
    Preference::from_query(params.and_then(|params| params.get("backend")).as_deref())
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|window| window.performance())
        .map(|performance| performance.now())
        .unwrap_or(0.0)
}

/// Side of the smoke test's input: large enough to take measurable time, small enough for a
/// software WebGPU adapter.
const PROBE_SIZE: usize = 64;

/// Chooses the backend, then runs the smoke test twice: the first run includes shader
/// compilation and allocation, the second shows the steady state.
async fn start(preference: Preference) -> BackendReport {
    let started = now_ms();
    let active = backend::select(preference).await;
    let init_ms = now_ms() - started;
    let cold_start = now_ms();
    let first = probunet::probe::run_probe(&active.device, PROBE_SIZE).await;
    let cold_ms = now_ms() - cold_start;
    let warm_start = now_ms();
    let second = probunet::probe::run_probe(&active.device, PROBE_SIZE).await;
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

#[component]
pub fn App() -> impl IntoView {
    let preference = preference_from_url();
    let report = RwSignal::new(None::<BackendReport>);
    spawn_local(async move { report.set(Some(start(preference).await)) });
    view! {
        <Header />
        <main>
            <BackendPanel preference report />
            <About />
        </main>
    }
}

//! Where things stand: the model download, the work in progress, and the last problem.

use leptos::prelude::*;

use std::sync::Arc;

use session::{Analysis, LatentMap, ScaleRows};

use crate::smoke_test::BackendReport;
use crate::workbench::{Busy, ModelStatus};

/// The model's download and load state, with a progress bar.
#[component]
pub fn ModelStatusLine(#[prop(into)] model: Signal<ModelStatus>) -> impl IntoView {
    move || match model.get() {
        ModelStatus::Waiting => view! {
            <p id="model-status" data-state="waiting" class="status busy">"Starting…"</p>
        }
        .into_any(),
        ModelStatus::Loading { received, total } => {
            let percent = total.map(|t| 100.0 * received as f64 / t.max(1) as f64);
            view! {
                <p id="model-status" data-state="loading" class="status busy">
                    "Loading the model from this site… "
                    {format!("{:.1} MB", received as f64 / 1e6)}
                    <progress max="100" value=percent.map(|p| p.to_string())></progress>
                </p>
            }
            .into_any()
        }
        ModelStatus::Ready {
            parameters,
            origin,
            expects,
            since_start_ms,
        } => view! {
            <p id="model-status" data-state="ready" class="status ready"
                data-ready-ms=format!("{since_start_ms:.0}")>
                {format!("Model ready: {:.2} M parameters ({origin}). ", parameters as f64 / 1e6)}
                <span id="model-expects">{format!("It expects {expects}: click its centre.")}</span>
            </p>
        }
        .into_any(),
        ModelStatus::Failed(error) => view! {
            <p id="model-status" data-state="failed" class="error">{error}</p>
        }
        .into_any(),
    }
}

/// What the model is doing now, with progress; empty when idle.
#[component]
pub fn BusyLine(#[prop(into)] busy: Signal<Option<Busy>>) -> impl IntoView {
    let state = move || {
        if busy.get().is_some() { "busy" } else { "idle" }
    };
    view! {
        <div id="work-status" data-state=state aria-live="polite">
            {move || {
                busy.get()
                    .map(|busy| {
                        view! {
                            <span class="status busy">{busy.what}</span>
                            <progress max="1" value=busy.fraction.map(|f| f.to_string())></progress>
                        }
                    })
            }}
        </div>
    }
}

/// The last problem, in plain words, with a way to dismiss it.
#[component]
pub fn MessageBanner(message: RwSignal<Option<String>>) -> impl IntoView {
    move || {
        message.get().map(|text| {
            view! {
                <div id="message" class="message error" role="alert">
                    <span>{text}</span>
                    <button on:click=move |_| message.set(None) aria-label="Dismiss">"×"</button>
                </div>
            }
        })
    }
}

/// Backend and the last run's timings.
#[component]
pub fn Timings(
    #[prop(into)] backend: Signal<Option<BackendReport>>,
    #[prop(into)] analysis: Signal<Option<Arc<Analysis>>>,
    #[prop(into)] latent_map: Signal<Option<Arc<LatentMap>>>,
    #[prop(into)] scale_rows: Signal<Option<Arc<ScaleRows>>>,
) -> impl IntoView {
    let backend = move || {
        backend
            .get()
            .map(|report| format!("{} — {}", report.active.kind.label(), report.active.reason))
    };
    view! {
        <p class="timing">{backend}</p>
        {move || {
            analysis.get().map(|analysis| {
                let encode = if analysis.encode_ms > 0.0 && analysis.encoded_elsewhere {
                    format!("encode {:.0} ms on two workers · ", analysis.encode_ms)
                } else if analysis.encode_ms > 0.0 {
                    format!("encode {:.0} ms · ", analysis.encode_ms)
                } else {
                    "encoding reused · ".to_string()
                };
                let map = latent_map
                    .get()
                    .map(|map| format!(" · latent map {:.0} ms", map.decode_ms))
                    .or_else(|| {
                        let rows = scale_rows.get()?;
                        Some(format!(" · scale rows {:.0} ms", rows.decode_ms))
                    })
                    .unwrap_or_default();
                view! {
                    <p
                        id="timings"
                        class="timing"
                        data-encode-ms=format!("{:.1}", analysis.encode_ms)
                        data-sample-ms=format!("{:.1}", analysis.sample_ms)
                        data-elsewhere=analysis.encoded_elsewhere.to_string()
                    >
                        {format!(
                            "{encode}{} samples {:.0} ms{map}",
                            analysis.samples.len(),
                            analysis.sample_ms
                        )}
                    </p>
                }
            })
        }}
    }
}

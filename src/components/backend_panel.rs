//! Which backend runs the model, why, and what the smoke test measured.

use crate::backend::Preference;
use crate::smoke_test::BackendReport;
use leptos::prelude::*;

#[component]
pub fn BackendPanel(
    preference: Preference,
    report: RwSignal<Option<BackendReport>>,
) -> impl IntoView {
    view! {
        <section class="panel backend" aria-live="polite">
            <h2>"Compute backend"</h2>
            <PreferenceSwitch preference />
            {move || match report.get() {
                None => view! { <p class="status busy" id="backend-status">"Choosing a backend…"</p> }.into_any(),
                Some(report) => view! { <ReportView report /> }.into_any(),
            }}
        </section>
    }
}

/// Lets a person pick the backend; the choice lives in the address so a reload keeps it.
#[component]
fn PreferenceSwitch(preference: Preference) -> impl IntoView {
    let on_change = move |event: leptos::ev::Event| {
        let value = event_target_value(&event);
        if let Some(window) = web_sys::window() {
            let _ = window.location().set_search(&format!("backend={value}"));
        }
    };
    view! {
        <label class="switch">
            "Backend: "
            <select id="backend-preference" on:change=on_change>
                {Preference::ALL
                    .into_iter()
                    .map(|option| {
                        view! {
                            <option value=option.query_value() selected=option == preference>
                                {option.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}

#[component]
fn ReportView(report: BackendReport) -> impl IntoView {
    let kind = report.active.kind;
    let probe = match report.probe {
        Ok(output) => view! {
            <p
                id="probe-result"
                data-mean-foreground=output.mean_foreground.to_string()
                data-abs-logit-sum=output.abs_logit_sum.to_string()
            >
                {format!(
                    "Smoke test ({0}×{0} conv net): mean foreground {1:.6}, Σ|logit| {2:.3}",
                    output.size, output.mean_foreground, output.abs_logit_sum
                )}
            </p>
        }
        .into_any(),
        Err(message) => view! { <p id="probe-error" class="error">{message}</p> }.into_any(),
    };
    view! {
        <p class="status ready" id="backend-status" data-backend=kind.id()>
            "Running on "
            <strong id="backend-name">{kind.label()}</strong>
        </p>
        <p id="backend-reason">{report.active.reason}</p>
        {probe}
        <p id="probe-timing" class="timing">
            {format!(
                "Backend start {:.0} ms · first run {:.1} ms (includes warm-up) · second run {:.1} ms",
                report.init_ms, report.cold_ms, report.warm_ms
            )}
        </p>
    }
}

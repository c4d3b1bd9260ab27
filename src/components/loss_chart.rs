//! A live chart of the fine-tuning loss, its cross-entropy and its KL, step by step.

use leptos::prelude::*;
use probunet::LossValues;

use crate::tuning::Tuning;

/// SVG polyline points for `values` scaled into a 100 × 40 box (y up).
fn points(values: &[f32], max: f32) -> String {
    let n = values.len().max(2) - 1;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.2},{:.2}",
                100.0 * i as f32 / n as f32,
                40.0 - 38.0 * v / max
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[component]
pub fn LossChart() -> impl IntoView {
    let tuning = expect_context::<Tuning>();
    let series = move |pick: fn(&LossValues) -> f32| {
        let history = tuning.history.get();
        let values: Vec<f32> = history.iter().map(pick).collect();
        let max = history.iter().map(|v| v.total).fold(1e-6, f32::max);
        points(&values, max)
    };
    let first = move || {
        tuning
            .history
            .with(|h| h.first().map(|v| v.total.to_string()))
    };
    let last = move || {
        tuning
            .history
            .with(|h| h.last().map(|v| v.total.to_string()))
    };
    view! {
        <figure class="loss-chart">
            <svg id="loss-chart" viewBox="0 0 100 40" preserveAspectRatio="none"
                data-first-loss=first data-last-loss=last
                data-steps=move || tuning.history.with(Vec::len).to_string()>
                <polyline class="total" points=move || series(|v| v.total) />
                <polyline class="ce" points=move || series(|v| v.ce) />
                <polyline class="kl" points=move || series(|v| v.kl) />
            </svg>
            <figcaption>
                <span class="total">"loss"</span> " · " <span class="ce">"cross-entropy"</span> " · "
                <span class="kl">"KL"</span>
                {move || tuning.history.with(|h| h.last().map(|v| format!(
                    " — last step: loss {:.1}, CE {:.1}, KL {:.2}", v.total, v.ce, v.kl
                )))}
            </figcaption>
        </figure>
    }
}

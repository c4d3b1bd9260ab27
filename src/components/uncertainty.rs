//! The uncertainty overlay's controls and legend: per-pixel foreground frequency over the
//! samples, or its binary entropy, as a heat map on the slice.

use std::sync::Arc;

use leptos::ev::Event;
use leptos::prelude::*;
use session::Analysis;

use super::canvas::RgbaCanvas;
use crate::render::legend_rgba;
use crate::workbench::{Overlay, OverlayMode};

#[component]
pub fn UncertaintyPanel(
    #[prop(into)] analysis: Signal<Option<Arc<Analysis>>>,
    overlay: RwSignal<Overlay>,
) -> impl IntoView {
    let on_opacity = move |event: Event| {
        if let Ok(value) = event_target_value(&event).parse::<f64>() {
            overlay.update(|o| o.opacity = (value / 100.0).clamp(0.0, 1.0));
        }
    };
    let legend = move || match overlay.get().mode {
        OverlayMode::Frequency => (
            "0: no sample",
            "share of samples marking the pixel",
            "1: all",
        ),
        OverlayMode::Entropy => (
            "0 bits: agreed",
            "binary entropy of that share",
            "1 bit: 50/50",
        ),
    };
    view! {
        <section class="panel" id="uncertainty">
            <h2>"Uncertainty"</h2>
            <label>
                <input
                    type="checkbox"
                    id="overlay-toggle"
                    prop:checked=move || overlay.get().visible
                    on:change=move |event| {
                        let on = event_target_checked(&event);
                        overlay.update(|o| o.visible = on);
                    }
                />
                " Show on the slice"
            </label>
            <div class="controls">
                <ModeChoice mode=OverlayMode::Frequency label="Foreground frequency" overlay />
                <ModeChoice mode=OverlayMode::Entropy label="Entropy" overlay />
            </div>
            <label>
                "Opacity "
                <input
                    type="range"
                    id="overlay-opacity"
                    min="0"
                    max="100"
                    prop:value=move || (overlay.get().opacity * 100.0).round().to_string()
                    on:input=on_opacity
                />
            </label>
            <figure class="legend">
                <RgbaCanvas width=256 height=1 rgba=legend_rgba(256) class="legend-bar" label="colour scale" />
                <figcaption>
                    <span>{move || legend().0}</span>
                    <span>{move || legend().1}</span>
                    <span>{move || legend().2}</span>
                </figcaption>
            </figure>
            <UncertaintyStats analysis />
        </section>
    }
}

/// One choice of what the heat map shows.
#[component]
fn ModeChoice(mode: OverlayMode, label: &'static str, overlay: RwSignal<Overlay>) -> impl IntoView {
    view! {
        <label>
            <input
                type="radio"
                name="overlay-mode"
                prop:checked=move || overlay.get().mode == mode
                on:change=move |_| overlay.update(|o| o.mode = mode)
            />
            " "
            {label}
        </label>
    }
}

/// How much the samples disagree, in numbers (also read by the browser tests).
#[component]
fn UncertaintyStats(analysis: Signal<Option<Arc<Analysis>>>) -> impl IntoView {
    move || {
        analysis.get().map(|analysis| {
            let frequency = analysis.uncertainty.frequency();
            let uncertain = frequency.iter().filter(|p| **p > 0.0 && **p < 1.0).count();
            let entropy: f64 = analysis.entropy().iter().sum();
            view! {
                <p
                    id="uncertainty-stats"
                    data-uncertain-pixels=uncertain.to_string()
                    data-entropy-sum=format!("{entropy:.3}")
                >
                    {format!(
                        "{uncertain} pixels where samples disagree · total entropy {entropy:.1} bits"
                    )}
                </p>
            }
        })
    }
}

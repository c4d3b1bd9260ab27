//! Saving results, generated in the page: the samples as a stack, the overlay, the mean mask.

use std::sync::Arc;

use leptos::prelude::*;
use metrics::Mask;
use session::Analysis;

use crate::browser::save_url;
use crate::render::{heat_rgba, png_data_url};

/// 0/255 grey RGBA of masks stacked top to bottom (one `w × h` block per mask).
fn stack_rgba(masks: &[&Mask]) -> Vec<u8> {
    masks
        .iter()
        .flat_map(|mask| mask.to_bools())
        .flat_map(|on| {
            if on {
                [255, 255, 255, 255]
            } else {
                [0, 0, 0, 255]
            }
        })
        .collect()
}

fn save_png(name: &str, width: usize, height: usize, rgba: &[u8]) -> Result<(), String> {
    let url = png_data_url(width, height, rgba).ok_or("the browser could not encode a PNG")?;
    save_url(&url, name)
}

fn save(analysis: &Analysis, what: &str) -> Result<(), String> {
    let (w, h) = (analysis.crop.width as usize, analysis.crop.height as usize);
    match what {
        "mean" => save_png(
            "probseg-mean-mask.png",
            w,
            h,
            &stack_rgba(&[&analysis.mean]),
        ),
        "stack" => {
            let masks: Vec<&Mask> = analysis.samples.iter().map(|s| &s.mask).collect();
            save_png(
                &format!("probseg-samples-{}x{w}x{h}.png", masks.len()),
                w,
                h * masks.len(),
                &stack_rgba(&masks),
            )
        }
        "overlay" => save_png(
            "probseg-uncertainty.png",
            w,
            h,
            &heat_rgba(analysis.uncertainty.frequency(), 1.0),
        ),
        "latents" => {
            let rows: Vec<String> = analysis
                .samples
                .iter()
                .filter_map(|s| {
                    let values: Vec<String> = s.z.as_ref()?.iter().map(|v| v.to_string()).collect();
                    Some(values.join(","))
                })
                .collect();
            let csv = rows.join("\n");
            let url = format!(
                "data:text/csv;charset=utf-8,{}",
                String::from(js_sys::encode_uri_component(&csv))
            );
            save_url(&url, "probseg-latents.csv")
        }
        _ => Ok(()),
    }
}

#[component]
pub fn Downloads(
    #[prop(into)] analysis: Signal<Option<Arc<Analysis>>>,
    /// Where a failed save is told.
    message: RwSignal<Option<String>>,
) -> impl IntoView {
    let button = move |what: &'static str, label: &'static str| {
        // The hierarchical model's samples carry no latent vector to write.
        let unavailable = move || {
            analysis
                .get()
                .is_none_or(|a| what == "latents" && a.prior.is_none())
        };
        view! {
            <button
                class="download"
                data-download=what
                disabled=unavailable
                on:click=move |_| {
                    if let Some(analysis) = analysis.get_untracked()
                        && let Err(error) = save(&analysis, what)
                    {
                        message.set(Some(error));
                    }
                }
            >
                {label}
            </button>
        }
    };
    view! {
        <section class="panel" id="downloads">
            <h2>"Save"</h2>
            <p class="muted">"Files are made in this page and saved by your browser; nothing is uploaded."</p>
            {button("stack", "Samples (mask stack PNG)")}
            {button("mean", "Mean mask PNG")}
            {button("overlay", "Uncertainty PNG")}
            {button("latents", "Latents CSV")}
        </section>
    }
}

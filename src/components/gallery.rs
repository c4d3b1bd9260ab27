//! The samples: a gallery of masks drawn from the prior, the mean-latent mask, resampling and
//! the number of samples.

use leptos::ev::Event;
use leptos::prelude::*;

use super::canvas::RgbaCanvas;
use crate::render::{MASK_COLOUR, SELECTED_COLOUR, tile_rgba};
use std::sync::Arc;

use session::Analysis;

use crate::workbench::Selection;

/// Sample counts offered (the paper evaluates 16 and 100; 64 keeps the page quick).
const COUNTS: [usize; 5] = [4, 8, 16, 32, 64];

/// A latent for the readout; the hierarchical model's latents are maps, not shown.
fn format_z(z: Option<&[f32]>) -> String {
    match z {
        Some(z) => {
            let parts: Vec<String> = z.iter().map(|v| format!("{v:+.2}")).collect();
            format!("z = ({})", parts.join(", "))
        }
        None => "every latent scale drawn from the prior".into(),
    }
}

#[component]
pub fn Gallery(
    #[prop(into)] analysis: Signal<Option<Arc<Analysis>>>,
    selection: RwSignal<Selection>,
    #[prop(into)] sample_count: Signal<usize>,
    /// The person chose another number of samples.
    #[prop(into)]
    set_sample_count: Callback<usize>,
    #[prop(into)] resample: Callback<()>,
) -> impl IntoView {
    let hovered = RwSignal::new(None::<String>);
    let on_count = move |event: Event| {
        if let Ok(n) = event_target_value(&event).parse::<usize>() {
            set_sample_count.run(n);
        }
    };
    view! {
        <section class="panel" id="samples">
            <h2>"Samples from the prior"</h2>
            <div class="controls">
                <label>
                    "Samples: "
                    <select id="sample-count" on:change=on_count>
                        {COUNTS
                            .into_iter()
                            .map(|n| {
                                view! {
                                    <option value=n.to_string() selected=move || sample_count.get() == n>
                                        {n}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <button id="resample" on:click=move |_| resample.run(())>"Resample"</button>
                <span class="muted" id="latent-readout">
                    {move || hovered.get().unwrap_or_else(|| "Hover a sample to see its latent z.".into())}
                </span>
            </div>
            {move || analysis.get().map(|analysis| view! { <Tiles analysis hovered selection /> })}
        </section>
    }
}

#[component]
fn Tiles(
    analysis: Arc<Analysis>,
    hovered: RwSignal<Option<String>>,
    selection: RwSignal<Selection>,
) -> impl IntoView {
    let (w, h) = (analysis.crop.width as usize, analysis.crop.height as usize);
    let mean_rgba = tile_rgba(&analysis.crop.data, &analysis.mean, SELECTED_COLOUR);
    let mean_z = format_z(analysis.prior.as_ref().map(|p| p.mu.as_slice()));
    let tiles = analysis
        .samples
        .iter()
        .enumerate()
        .map(|(i, sample)| {
            let rgba = tile_rgba(&analysis.crop.data, &sample.mask, MASK_COLOUR);
            let z = format!("sample {}: {}", i + 1, format_z(sample.z.as_deref()));
            let selected = move || selection.get() == Selection::Sample(i);
            view! {
                <button
                    class="tile sample-tile"
                    class:selected=selected
                    title=z.clone()
                    on:mouseenter=move |_| hovered.set(Some(z.clone()))
                    on:click=move |_| selection.set(Selection::Sample(i))
                >
                    <RgbaCanvas width=w height=h rgba label=format!("sample {}", i + 1) />
                </button>
            }
        })
        .collect_view();
    let empty = analysis
        .samples
        .iter()
        .filter(|s| s.mask.foreground_count() == 0)
        .count();
    view! {
        <div
            id="gallery"
            class="gallery"
            data-count=analysis.samples.len().to_string()
            data-distinct=analysis.distinct_masks().to_string()
            data-empty=empty.to_string()
            data-crop-origin=format!("{:.1},{:.1}", analysis.crop.map.origin.0, analysis.crop.map.origin.1)
            on:mouseleave=move |_| hovered.set(None)
        >
            <button
                class="tile mean-tile"
                class:selected=move || selection.get() == Selection::Mean
                on:mouseenter=move |_| hovered.set(Some(format!("mean latent: {mean_z}")))
                on:click=move |_| selection.set(Selection::Mean)
            >
                <RgbaCanvas width=w height=h rgba=mean_rgba label="mean-latent mask" />
                <span class="tile-label">"mean z"</span>
            </button>
            {tiles}
        </div>
        <p class="muted" id="gallery-caption">
            {format!(
                "{} samples, {} distinct masks · seed {}",
                analysis.samples.len(),
                analysis.distinct_masks(),
                analysis.seed
            )}
            <EmptyNote empty />
        </p>
    }
}

/// How many samples outline nothing, and why a calibrated model draws them.
#[component]
fn EmptyNote(empty: usize) -> impl IntoView {
    (empty > 0).then(|| {
        view! {
            <span
                id="empty-note"
                title="An empty sample says a reader might mark nothing here. Radiologists do: in \
                       the LIDC data about a quarter of the outlines of even clear nodules are \
                       empty (a reader who did not count the lesion as a nodule), and the image \
                       alone tells little of which nodules those are, so the model draws empty \
                       samples about as often (README: the LIDC model)."
            >
                {format!(" · {empty} with nothing outlined (why?)")}
            </span>
        }
    })
}

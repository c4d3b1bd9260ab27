//! The hierarchical model's explorer: one row per latent scale, each row's masks drawn with
//! only that scale sampled and every other at its prior mean. Where a row varies, that scale
//! carries the crop's ambiguity: the coarsest usually whether there is a lesion and how big,
//! the finest the boundary's detail. A click shows a mask on the slice.

use leptos::prelude::*;

use super::canvas::MaskCell;
use crate::render::{MASK_COLOUR, tile_rgba};
use std::sync::Arc;

use session::{Analysis, ScaleRows, distinct_count};

use crate::workbench::Selection;

#[component]
pub fn ScaleExplorer(
    analysis: Signal<Option<Arc<Analysis>>>,
    scale_rows: Signal<Option<Arc<ScaleRows>>>,
    selection: RwSignal<Selection>,
) -> impl IntoView {
    view! {
        <section class="panel" id="latent">
            <h2>"Latent scales"</h2>
            <p class="muted">
                "This model draws a latent map at each of several scales, coarsest first. Each \
                 row samples one scale and holds every other at its prior mean: the rows that \
                 change show which scale carries this crop's ambiguity. Click a mask to show it \
                 on the slice."
            </p>
            {move || scale_rows.get().map(|rows| view! { <Rows rows analysis selection /> })}
        </section>
    }
}

#[component]
fn Rows(
    rows: Arc<ScaleRows>,
    analysis: Signal<Option<Arc<Analysis>>>,
    selection: RwSignal<Selection>,
) -> impl IntoView {
    let Some(analysis) = analysis.get_untracked() else {
        return ().into_any();
    };
    let (w, h) = (analysis.crop.width as usize, analysis.crop.height as usize);
    let per_row = rows.rows.first().map_or(0, Vec::len);
    let rendered = rows
        .rows
        .iter()
        .zip(&rows.latent_sides)
        .enumerate()
        .map(|(scale, (masks, side))| {
            let distinct = distinct_count(masks);
            let tiles = masks
                .iter()
                .enumerate()
                .map(|(i, mask)| {
                    let rgba = tile_rgba(&analysis.crop.data, mask, MASK_COLOUR);
                    let label = format!("scale {} sample {}", scale + 1, i + 1);
                    let this = Selection::ScaleSample(scale, i);
                    view! {
                        <MaskCell width=w height=h rgba label this selection />
                    }
                })
                .collect_view();
            view! {
                <div class="scale-row" data-scale=scale.to_string() data-distinct=distinct.to_string()>
                    <span class="axis-label">
                        {format!("{side}×{side} latent · {distinct} distinct")}
                    </span>
                    <div
                        class="latent-grid"
                        style=format!("grid-template-columns: repeat({per_row}, 1fr)")
                    >
                        {tiles}
                    </div>
                </div>
            }
        })
        .collect_view();
    view! {
        <div id="scale-rows" data-rows=rows.rows.len().to_string()>
            {rendered}
            <p class="axis-label">{format!("decoded in {:.0} ms", rows.decode_ms)}</p>
        </div>
    }
    .into_any()
}

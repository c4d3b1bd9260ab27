//! The latent-space explorer of Kohl et al.'s Fig. 1: masks decoded on a grid over two latent
//! dimensions, in units of the prior's σ, with the σ = 1 circle; a click makes a cell the
//! mask shown on the slice.

use leptos::ev::Event;
use leptos::prelude::*;

use super::canvas::MaskCell;
use super::scale_rows::ScaleExplorer;
use crate::render::{MASK_COLOUR, tile_rgba};
use std::sync::Arc;

use session::{Analysis, LatentMap, ScaleRows};

use crate::workbench::Selection;

/// What there is to explore besides the samples: the latent map of the probabilistic U-Net, or
/// the hierarchical model's one-scale-at-a-time rows (it has no single latent to map).
#[component]
pub fn Explorer(
    #[prop(into)] analysis: Signal<Option<Arc<Analysis>>>,
    #[prop(into)] latent_map: Signal<Option<Arc<LatentMap>>>,
    #[prop(into)] scale_rows: Signal<Option<Arc<ScaleRows>>>,
    /// The latent map's axes as the person chose them.
    #[prop(into)]
    map_dims: Signal<Option<(usize, usize)>>,
    #[prop(into)] set_map_dims: Callback<(usize, usize)>,
    selection: RwSignal<Selection>,
) -> impl IntoView {
    let hierarchical = Memo::new(move |_| {
        analysis
            .get()
            .is_some_and(|analysis| analysis.prior.is_none())
    });
    move || {
        if hierarchical.get() {
            view! { <ScaleExplorer analysis scale_rows selection /> }.into_any()
        } else {
            view! { <LatentExplorer analysis latent_map map_dims set_map_dims selection /> }
                .into_any()
        }
    }
}

#[component]
fn LatentExplorer(
    analysis: Signal<Option<Arc<Analysis>>>,
    latent_map: Signal<Option<Arc<LatentMap>>>,
    map_dims: Signal<Option<(usize, usize)>>,
    set_map_dims: Callback<(usize, usize)>,
    selection: RwSignal<Selection>,
) -> impl IntoView {
    let dims = move || {
        analysis
            .get()
            .and_then(|a| a.prior.as_ref().map(|p| p.dims()))
            .unwrap_or(0)
    };
    // The person's choice, else the axes the map on screen was drawn over.
    let shown = move || {
        map_dims
            .get()
            .or_else(|| latent_map.get().map(|map| (map.x_dim, map.y_dim)))
            .unwrap_or((0, 1))
    };
    let dim_select = move |axis: usize| {
        let on_change = move |event: Event| {
            if let Ok(d) = event_target_value(&event).parse::<usize>() {
                let (x, y) = shown();
                let (x, y) = if axis == 0 { (d, y) } else { (x, d) };
                if x != y {
                    set_map_dims.run((x, y));
                }
            }
        };
        view! {
            <select class="dim-select" on:change=on_change>
                {move || {
                    (0..dims())
                        .map(|d| {
                            let current = move || {
                                let (x, y) = shown();
                                if axis == 0 { x == d } else { y == d }
                            };
                            view! { <option value=d.to_string() selected=current>{format!("z{}", d + 1)}</option> }
                        })
                        .collect_view()
                }}
            </select>
        }
    };
    view! {
        <section class="panel" id="latent">
            <h2>"Latent space"</h2>
            <p class="muted">
                "Each cell decodes z = μ + σ·(x, y) along two latent dimensions, the others at \
                 the prior mean. The circle is one prior standard deviation. Click a cell to show \
                 its mask on the slice. The axes start on the two dimensions along which this \
                 crop's mask changes most (found by decoding both ends of each)."
            </p>
            <div class="controls">
                <label>"Horizontal: " {dim_select(0)}</label>
                <label>" Vertical: " {dim_select(1)}</label>
            </div>
            {move || latent_map.get().map(|map| view! { <Grid map analysis selection /> })}
        </section>
    }
}

#[component]
fn Grid(
    map: Arc<LatentMap>,
    analysis: Signal<Option<Arc<Analysis>>>,
    selection: RwSignal<Selection>,
) -> impl IntoView {
    let Some(analysis) = analysis.get_untracked() else {
        return ().into_any();
    };
    let (w, h) = (analysis.crop.width as usize, analysis.crop.height as usize);
    let cells = map
        .masks
        .iter()
        .zip(&map.grid)
        .enumerate()
        .map(|(i, (mask, cell))| {
            let rgba = tile_rgba(&analysis.crop.data, mask, MASK_COLOUR);
            let title = format!("({:+.0}σ, {:+.0}σ)", cell.offset.0, cell.offset.1);
            view! {
                <MaskCell width=w height=h rgba label=title this=Selection::Cell(i) selection />
            }
        })
        .collect_view();
    // The σ = 1 circle in grid units: cells are 2·extent/(cells−1) σ apart.
    let radius = 0.5 / map.extent as f64 * (map.cells - 1) as f64 / map.cells as f64 * 100.0;
    view! {
        <div class="latent-wrap">
            <div
                id="latent-map"
                class="latent-grid"
                style=format!("grid-template-columns: repeat({}, 1fr)", map.cells)
                data-cells=map.masks.len().to_string()
                data-x-dim=map.x_dim.to_string()
                data-y-dim=map.y_dim.to_string()
            >
                {cells}
            </div>
            <svg class="sigma-circle" viewBox="0 0 100 100" preserveAspectRatio="none" aria-hidden="true">
                <circle cx="50" cy="50" r=format!("{radius:.3}") />
            </svg>
            <p class="axis-label">
                {format!(
                    "z{} →, z{} ↑ · ±{}σ · decoded in {:.0} ms",
                    map.x_dim + 1,
                    map.y_dim + 1,
                    map.extent,
                    map.decode_ms
                )}
            </p>
        </div>
    }
    .into_any()
}

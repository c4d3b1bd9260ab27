//! Drawing masks by hand over the current crop — brush, eraser, fill, undo — and adding the
//! crop with one drawn mask per rater to the fine-tuning pairs.

use leptos::ev::MouseEvent;
use leptos::html::Canvas;
use leptos::prelude::*;
use metrics::Mask;
use probunet::Pair;

use crate::render::{SELECTED_COLOUR, blit, tile_rgba};
use crate::tuning::Tuning;
use crate::tuning::drawing::{flood_fill, paint_disk};
use std::sync::Arc;

use session::Analysis;

use crate::workbench::{CROP_SIDE, LoadedImage};

const SIDE: usize = CROP_SIDE as usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Brush,
    Eraser,
    Fill,
}

#[component]
pub fn MaskEditor(
    analysis: Signal<Option<Arc<Analysis>>>,
    image: Signal<Option<LoadedImage>>,
    crop_center: Signal<(f32, f32)>,
) -> impl IntoView {
    let tuning = expect_context::<Tuning>();
    let mask = RwSignal::new(vec![false; SIDE * SIDE]);
    let raters = RwSignal::new(Vec::<Mask>::new());
    let undo = StoredValue::new(Vec::<Vec<bool>>::new());
    let tool = RwSignal::new(Tool::Brush);
    let radius = RwSignal::new(2.0_f64);
    let drawing = StoredValue::new(false);
    let node = NodeRef::<Canvas>::new();

    // A new crop (not a resample of the same one) starts a fresh drawing.
    let crop_at = Memo::new(move |_| analysis.get().map(|a| a.crop.map.origin));
    Effect::new(move || {
        crop_at.track();
        mask.set(vec![false; SIDE * SIDE]);
        raters.set(Vec::new());
        undo.set_value(Vec::new());
    });
    Effect::new(move || {
        let (Some(analysis), Some(canvas)) = (analysis.get(), node.get()) else {
            return;
        };
        let Ok(drawn) = Mask::from_bools(SIDE, SIDE, &mask.get()) else {
            return;
        };
        blit(
            &canvas,
            SIDE,
            SIDE,
            &tile_rgba(&analysis.crop.data, &drawn, SELECTED_COLOUR),
        );
    });

    let pixel = move |event: &MouseEvent| {
        let canvas = node.get()?;
        let scale = SIDE as f64 / f64::from(canvas.client_width().max(1));
        Some((
            f64::from(event.offset_x()) * scale,
            f64::from(event.offset_y()) * scale,
        ))
    };
    let paint = move |event: &MouseEvent| {
        if let Some((x, y)) = pixel(event) {
            let value = tool.get_untracked() == Tool::Brush;
            mask.update(|m| paint_disk(m, SIDE, x, y, radius.get_untracked(), value));
        }
    };
    let on_down = move |event: MouseEvent| {
        undo.update_value(|stack| stack.push(mask.get_untracked()));
        if tool.get_untracked() == Tool::Fill {
            if let Some((x, y)) = pixel(&event) {
                mask.update(|m| flood_fill(m, SIDE, x as usize, y as usize));
            }
        } else {
            drawing.set_value(true);
            paint(&event);
        }
    };
    let on_move = move |event: MouseEvent| {
        if drawing.get_value() {
            paint(&event);
        }
    };
    let keep_rater = move |_| {
        if let Ok(drawn) = Mask::from_bools(SIDE, SIDE, &mask.get_untracked()) {
            raters.update(|r| r.push(drawn));
            undo.update_value(|stack| stack.push(mask.get_untracked()));
            mask.set(vec![false; SIDE * SIDE]);
        }
    };
    let add_pair = move |_| {
        let (Some(analysis), Some(image)) = (analysis.get_untracked(), image.get_untracked())
        else {
            return;
        };
        let Some(contract) = tuning.contract() else {
            return;
        };
        let (x, y) = crop_center.get_untracked();
        tuning.add_pair(
            Pair {
                name: format!("{} @ ({x:.0}, {y:.0})", image.name),
                image: analysis.crop.data.clone(),
                side: SIDE,
                masks: raters.get_untracked(),
            },
            &contract,
        );
        raters.set(Vec::new());
    };
    let tool_button = move |which: Tool, label: &'static str| {
        view! {
            <button class:active=move || tool.get() == which on:click=move |_| tool.set(which)>
                {label}
            </button>
        }
    };
    view! {
        <Show when=move || analysis.get().is_some()>
            <details class="mask-editor" id="mask-editor">
                <summary>"…or draw masks over the current crop"</summary>
                <canvas
                    id="mask-canvas"
                    node_ref=node
                    on:mousedown=on_down
                    on:mousemove=on_move
                    on:mouseup=move |_| drawing.set_value(false)
                    on:mouseleave=move |_| drawing.set_value(false)
                ></canvas>
                <div class="controls">
                    {tool_button(Tool::Brush, "Brush")}
                    {tool_button(Tool::Eraser, "Eraser")}
                    {tool_button(Tool::Fill, "Fill")}
                    <label>"Size "
                        <input type="range" min="1" max="8" prop:value=move || radius.get().to_string()
                            on:input=move |e| radius.set(event_target_value(&e).parse().unwrap_or(2.0)) />
                    </label>
                    <button id="mask-undo" on:click=move |_| {
                        if let Some(previous) = undo.try_update_value(|stack| stack.pop()).flatten() {
                            mask.set(previous);
                        }
                    }>"Undo"</button>
                    <button on:click=move |_| mask.set(vec![false; SIDE * SIDE])>"Clear"</button>
                </div>
                <div class="controls">
                    <button id="keep-rater" on:click=keep_rater>"Keep as a rater's mask"</button>
                    <button id="add-drawn-pair" disabled=move || raters.with(Vec::is_empty) on:click=add_pair>
                        {move || format!("Add this crop with {} mask(s) to the pairs", raters.with(Vec::len))}
                    </button>
                </div>
            </details>
        </Show>
    }
}

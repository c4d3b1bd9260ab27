//! A canvas showing an RGBA buffer at its own resolution (CSS scales it, crisply), and the
//! clickable mask tile both explorers are made of.

use leptos::html::Canvas;
use leptos::prelude::*;

use crate::render::blit;
use crate::workbench::Selection;

/// Paints `rgba` (`width × height`, row-major) once the canvas is in the page.
#[component]
pub fn RgbaCanvas(
    width: usize,
    height: usize,
    rgba: Vec<u8>,
    #[prop(optional, into)] class: String,
    #[prop(optional, into)] label: String,
) -> impl IntoView {
    let node = NodeRef::<Canvas>::new();
    Effect::new(move || {
        if let Some(canvas) = node.get() {
            blit(&canvas, width, height, &rgba);
        }
    });
    view! { <canvas node_ref=node class=class aria-label=label role="img"></canvas> }
}

/// One mask of an explorer (a latent-map cell or a scale-row sample): a button that selects
/// `this`, outlined while `selection` holds it.
#[component]
pub fn MaskCell(
    width: usize,
    height: usize,
    rgba: Vec<u8>,
    label: String,
    this: Selection,
    selection: RwSignal<Selection>,
) -> impl IntoView {
    let title = label.clone();
    view! {
        <button
            class="latent-cell"
            class:selected=move || selection.get() == this
            title=title
            on:click=move |_| selection.set(this)
        >
            <RgbaCanvas width height rgba label />
        </button>
    }
}

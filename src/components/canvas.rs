//! A canvas showing an RGBA buffer at its own resolution (CSS scales it, crisply).

use leptos::html::Canvas;
use leptos::prelude::*;

use crate::render::blit;

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

//! The slice on a canvas: window/level, zoom and pan, the crop box, the selected mask and the
//! uncertainty overlay.
//!
//! Mouse: click chooses the crop the model looks at, left-drag pans, right-drag adjusts
//! window (horizontal) and level (vertical), the wheel zooms about the pointer, double-click
//! fits the image again.

use imaging::Window;
use leptos::ev::{MouseEvent, WheelEvent};
use leptos::html::Canvas;
use leptos::prelude::*;
use web_sys::HtmlCanvasElement;

use super::overlay::{Layers, draw_overlays};
use crate::render::{crisp_context, grey_rgba, offscreen};
use crate::viewport::Viewport;
use crate::workbench::LoadedImage;

/// Side of the viewer's canvas in canvas pixels.
const VIEW_SIDE: f64 = 512.0;
/// Pointer travel (canvas pixels) below which a press counts as a click.
const CLICK_SLOP: f64 = 3.0;

#[derive(Clone, Copy)]
struct Drag {
    button: i16,
    start: (f64, f64),
    last: (f64, f64),
    moved: bool,
}

/// Pointer position in canvas pixels (the canvas may be scaled by CSS).
fn canvas_point(canvas: &HtmlCanvasElement, event: &MouseEvent) -> (f64, f64) {
    let ratio = f64::from(canvas.width()) / f64::from(canvas.client_width().max(1));
    (
        f64::from(event.offset_x()) * ratio,
        f64::from(event.offset_y()) * ratio,
    )
}

#[component]
pub fn Viewer(
    #[prop(into)] image: Signal<Option<LoadedImage>>,
    display_window: RwSignal<Window>,
    layers: Layers,
    /// A click inside the image: the new centre of the model's crop (image pixels).
    #[prop(into)]
    set_crop_center: Callback<(f32, f32)>,
) -> impl IntoView {
    let node = NodeRef::<Canvas>::new();
    let viewport = RwSignal::new(Viewport::fit((1, 1), VIEW_SIDE));
    let base = StoredValue::new_local(None::<HtmlCanvasElement>);
    let base_version = RwSignal::new(0u32);
    let drag = StoredValue::new(None::<Drag>);

    // A new image: fit it to the canvas.
    Effect::new(move || {
        if let Some(image) = image.get() {
            viewport.set(Viewport::fit(
                (image.slice.width, image.slice.height),
                VIEW_SIDE,
            ));
        }
    });
    // The windowed slice, rendered once per image/window into an offscreen canvas.
    Effect::new(move || {
        let window = display_window.get();
        let canvas = image.get().and_then(|image| {
            let slice = &image.slice;
            let rgba = grey_rgba(&slice.windowed(window));
            offscreen(slice.width as usize, slice.height as usize, &rgba)
        });
        base.set_value(canvas);
        base_version.update(|v| *v += 1);
    });
    // Everything on screen.
    Effect::new(move || {
        base_version.track();
        let vp = viewport.get();
        let Some(canvas) = node.get() else { return };
        canvas.set_width(VIEW_SIDE as u32);
        canvas.set_height(VIEW_SIDE as u32);
        let Some(ctx) = crisp_context(&canvas) else {
            return;
        };
        ctx.set_fill_style_str("#000");
        ctx.fill_rect(0.0, 0.0, VIEW_SIDE, VIEW_SIDE);
        let Some(image) = image.get() else { return };
        base.with_value(|base| {
            if let Some(base) = base {
                let (x, y) = vp.to_screen(0.0, 0.0);
                let _ = ctx.draw_image_with_html_canvas_element_and_dw_and_dh(
                    base,
                    x,
                    y,
                    f64::from(image.slice.width) * vp.scale,
                    f64::from(image.slice.height) * vp.scale,
                );
            }
        });
        draw_overlays(layers, &ctx, &vp);
    });

    let on_down = move |event: MouseEvent| {
        let Some(canvas) = node.get() else { return };
        let point = canvas_point(&canvas, &event);
        drag.set_value(Some(Drag {
            button: event.button(),
            start: point,
            last: point,
            moved: false,
        }));
    };
    let on_move = move |event: MouseEvent| {
        let (Some(canvas), Some(mut state)) = (node.get(), drag.get_value()) else {
            return;
        };
        let point = canvas_point(&canvas, &event);
        let (dx, dy) = (point.0 - state.last.0, point.1 - state.last.1);
        state.last = point;
        state.moved |= (point.0 - state.start.0).hypot(point.1 - state.start.1) > CLICK_SLOP;
        drag.set_value(Some(state));
        if !state.moved {
            return;
        }
        if state.button == 2 {
            adjust_window(image, display_window, dx, dy);
        } else {
            viewport.update(|vp| *vp = vp.pan(dx, dy));
        }
    };
    let on_up = move |event: MouseEvent| {
        let Some(state) = drag.get_value() else {
            return;
        };
        drag.set_value(None);
        if state.moved || state.button != 0 {
            return;
        }
        let Some(canvas) = node.get() else { return };
        let (sx, sy) = canvas_point(&canvas, &event);
        let (x, y) = viewport.get_untracked().to_image(sx, sy);
        if let Some(image) = image.get_untracked() {
            let inside = x >= 0.0
                && y >= 0.0
                && x < f64::from(image.slice.width)
                && y < f64::from(image.slice.height);
            if inside {
                set_crop_center.run((x as f32, y as f32));
            }
        }
    };
    let on_wheel = move |event: WheelEvent| {
        event.prevent_default();
        let (Some(canvas), Some(image)) = (node.get(), image.get_untracked()) else {
            return;
        };
        let (sx, sy) = canvas_point(&canvas, &event);
        let fitted = Viewport::fit((image.slice.width, image.slice.height), VIEW_SIDE).scale;
        let factor = if event.delta_y() < 0.0 { 1.25 } else { 0.8 };
        viewport.update(|vp| *vp = vp.zoom_at(factor, sx, sy, fitted));
    };
    let on_double = move |_: MouseEvent| {
        if let Some(image) = image.get_untracked() {
            viewport.set(Viewport::fit(
                (image.slice.width, image.slice.height),
                VIEW_SIDE,
            ));
        }
    };
    let size = move || {
        image
            .get()
            .map(|image| {
                (
                    image.slice.width.to_string(),
                    image.slice.height.to_string(),
                )
            })
            .unwrap_or_default()
    };

    view! {
        <canvas
            id="viewer"
            node_ref=node
            data-image-width=move || size().0
            data-image-height=move || size().1
            aria-label="The slice; click to choose the region the model segments"
            on:mousedown=on_down
            on:mousemove=on_move
            on:mouseup=on_up
            on:mouseleave=move |_| drag.set_value(None)
            on:wheel=on_wheel
            on:dblclick=on_double
            on:contextmenu=|event: MouseEvent| event.prevent_default()
        ></canvas>
    }
}

/// Right-drag: horizontal changes the window width, vertical the level, in proportion to the
/// slice's value range so it feels the same for HU and 8-bit images.
fn adjust_window(
    image: Signal<Option<LoadedImage>>,
    display_window: RwSignal<Window>,
    dx: f64,
    dy: f64,
) {
    let Some(image) = image.get_untracked() else {
        return;
    };
    let (lo, hi) = image.slice.value_range().unwrap_or((0.0, 1.0));
    let per_pixel = ((hi - lo).max(1.0) / VIEW_SIDE as f32) as f64;
    display_window.update(|window| {
        window.width = (f64::from(window.width) + dx * per_pixel).max(1.0) as f32;
        window.center = (f64::from(window.center) - dy * per_pixel) as f32;
    });
}

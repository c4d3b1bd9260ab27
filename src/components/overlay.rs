//! What the viewer draws over the slice: the uncertainty heat map, the selected mask's
//! outline and the crop box, all placed through the crop's [`imaging::CropMap`].

use std::sync::Arc;

use leptos::prelude::*;
use metrics::Mask;
use session::{Analysis, LatentMap, ScaleRows};
use web_sys::CanvasRenderingContext2d;

use crate::render::{SELECTED_COLOUR, heat_rgba, mask_rgba, offscreen};
use crate::viewport::Viewport;
use crate::workbench::{Overlay, OverlayMode, Selection};

/// What is drawn over the slice, as signals (the viewer redraws when any changes).
#[derive(Clone, Copy)]
pub struct Layers {
    pub analysis: Signal<Option<Arc<Analysis>>>,
    pub latent_map: Signal<Option<Arc<LatentMap>>>,
    pub scale_rows: Signal<Option<Arc<ScaleRows>>>,
    pub selection: Signal<Selection>,
    pub overlay: Signal<Overlay>,
    /// Where the person clicked: the crop box before the first analysis.
    pub crop_center: Signal<(f32, f32)>,
}

/// The mask drawn on the slice: the mean, a sample, a latent-map cell or a one-scale sample.
fn selected_mask(layers: Layers) -> Option<Mask> {
    let analysis = layers.analysis.get()?;
    match layers.selection.get() {
        Selection::Mean => Some(analysis.mean.clone()),
        Selection::Sample(i) => analysis.samples.get(i).map(|s| s.mask.clone()),
        Selection::Cell(i) => layers.latent_map.get()?.masks.get(i).cloned(),
        Selection::ScaleSample(scale, i) => {
            layers.scale_rows.get()?.rows.get(scale)?.get(i).cloned()
        }
    }
}

/// Draws `rgba` (`w × h`, in crop pixels) over the crop's area of the slice.
fn draw_on_crop(
    ctx: &CanvasRenderingContext2d,
    vp: &Viewport,
    map: &imaging::CropMap,
    rgba: &[u8],
) {
    let (w, h) = (map.model_size.0 as usize, map.model_size.1 as usize);
    let Some(source) = offscreen(w, h, rgba) else {
        return;
    };
    let (x, y) = vp.to_screen(f64::from(map.origin.0), f64::from(map.origin.1));
    let _ = ctx.draw_image_with_html_canvas_element_and_dw_and_dh(
        &source,
        x,
        y,
        w as f64 * f64::from(map.scale.0) * vp.scale,
        h as f64 * f64::from(map.scale.1) * vp.scale,
    );
}

/// Heat map (when on), selected outline and crop box, in that order.
pub fn draw_overlays(layers: Layers, ctx: &CanvasRenderingContext2d, vp: &Viewport) {
    let (cx, cy) = layers.crop_center.get();
    let Some(analysis) = layers.analysis.get() else {
        draw_crop_box(ctx, vp, cx, cy, None);
        return;
    };
    let map = analysis.crop.map;
    let overlay = layers.overlay.get();
    if overlay.visible {
        let values = match overlay.mode {
            OverlayMode::Frequency => analysis.uncertainty.frequency().to_vec(),
            OverlayMode::Entropy => analysis.entropy(),
        };
        ctx.set_global_alpha(overlay.opacity);
        draw_on_crop(ctx, vp, &map, &heat_rgba(&values, 1.0));
        ctx.set_global_alpha(1.0);
    }
    if let Some(mask) = selected_mask(layers) {
        draw_on_crop(ctx, vp, &map, &mask_rgba(&mask, SELECTED_COLOUR, 40));
    }
    draw_crop_box(ctx, vp, cx, cy, Some(&map));
}

fn draw_crop_box(
    ctx: &CanvasRenderingContext2d,
    vp: &Viewport,
    cx: f32,
    cy: f32,
    map: Option<&imaging::CropMap>,
) {
    let (x0, y0, x1, y1) = match map {
        Some(map) => {
            let (x0, y0) = map.to_image(0.0, 0.0);
            let (x1, y1) = map.to_image(map.model_size.0 as f32, map.model_size.1 as f32);
            (x0, y0, x1, y1)
        }
        None => {
            let half = crate::workbench::CROP_SIDE as f32 / 2.0;
            (cx - half, cy - half, cx + half, cy + half)
        }
    };
    let (sx0, sy0) = vp.to_screen(f64::from(x0), f64::from(y0));
    let (sx1, sy1) = vp.to_screen(f64::from(x1), f64::from(y1));
    ctx.set_stroke_style_str("#5fb3ff");
    ctx.set_line_width(1.5);
    ctx.stroke_rect(sx0, sy0, sx1 - sx0, sy1 - sy0);
}

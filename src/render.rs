//! Pixels for the canvases: grey images, mask fills and contours, heat maps, as RGBA bytes.
//!
//! Pure functions from host data to `Vec<u8>` (row-major RGBA), plus [`blit`] and
//! [`png_data_url`] to get them onto a canvas or into a file. Images are drawn at their own
//! resolution and scaled by the canvas with smoothing off, so zoom stays crisp.

use metrics::Mask;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

/// RGB colour.
pub type Rgb = [u8; 3];

/// The colour of sample contours and masks.
pub const MASK_COLOUR: Rgb = [255, 196, 0];
/// The colour of the selected mask on the slice.
pub const SELECTED_COLOUR: Rgb = [80, 220, 255];

/// Opaque grey RGBA from intensities in \[0, 1\].
pub fn grey_rgba(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 4);
    for &v in values {
        let g = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        out.extend_from_slice(&[g, g, g, 255]);
    }
    out
}

/// Transparent RGBA with the mask's outline in `colour` and its inside tinted at `fill_alpha`.
pub fn mask_rgba(mask: &Mask, colour: Rgb, fill_alpha: u8) -> Vec<u8> {
    let (w, h) = mask.shape();
    let mut out = vec![0u8; w * h * 4];
    for y in 0..h {
        for x in 0..w {
            if !mask.get(x, y) {
                continue;
            }
            let alpha = if mask.is_boundary(x, y) {
                255
            } else {
                fill_alpha
            };
            let i = (y * w + x) * 4;
            out[i..i + 4].copy_from_slice(&[colour[0], colour[1], colour[2], alpha]);
        }
    }
    out
}

/// A gallery tile: the grey crop with the mask's outline and a tinted inside painted over it.
pub fn tile_rgba(grey: &[f32], mask: &Mask, colour: Rgb) -> Vec<u8> {
    let mut out = grey_rgba(grey);
    let overlay = mask_rgba(mask, colour, 90);
    for (pixel, over) in out.chunks_exact_mut(4).zip(overlay.chunks_exact(4)) {
        let a = f32::from(over[3]) / 255.0;
        for c in 0..3 {
            pixel[c] = (f32::from(pixel[c]) * (1.0 - a) + f32::from(over[c]) * a).round() as u8;
        }
    }
    out
}

/// Stops of the heat map (dark purple → red → yellow), evenly spaced over \[0, 1\].
const HEAT_STOPS: [Rgb; 5] = [
    [40, 11, 84],
    [101, 21, 110],
    [188, 55, 84],
    [249, 142, 9],
    [252, 255, 164],
];

/// The heat map's colour at `t` in \[0, 1\].
pub fn heat_colour(t: f64) -> Rgb {
    let t = t.clamp(0.0, 1.0) * (HEAT_STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(HEAT_STOPS.len() - 2);
    let f = t - i as f64;
    let (a, b) = (HEAT_STOPS[i], HEAT_STOPS[i + 1]);
    std::array::from_fn(|c| (f64::from(a[c]) * (1.0 - f) + f64::from(b[c]) * f).round() as u8)
}

/// Heat-map RGBA of values in \[0, 1\] (divided by `max` first); zero stays transparent so only
/// the uncertain pixels cover the slice.
pub fn heat_rgba(values: &[f64], max: f64) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 4);
    for &v in values {
        let t = if max > 0.0 { v / max } else { 0.0 };
        if t <= 0.0 {
            out.extend_from_slice(&[0, 0, 0, 0]);
        } else {
            let [r, g, b] = heat_colour(t);
            out.extend_from_slice(&[r, g, b, (96.0 + 159.0 * t.min(1.0)).round() as u8]);
        }
    }
    out
}

/// A horizontal legend strip of the heat map, `width × 1`.
pub fn legend_rgba(width: usize) -> Vec<u8> {
    (0..width)
        .flat_map(|i| {
            let [r, g, b] = heat_colour(i as f64 / (width.max(2) - 1) as f64);
            [r, g, b, 255]
        })
        .collect()
}

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok()??.dyn_into().ok()
}

/// Resizes `canvas` to `width × height` and puts `rgba` on it.
pub fn blit(canvas: &HtmlCanvasElement, width: usize, height: usize, rgba: &[u8]) {
    if width == 0 || height == 0 || rgba.len() != width * height * 4 {
        return;
    }
    canvas.set_width(width as u32);
    canvas.set_height(height as u32);
    let Some(ctx) = context(canvas) else { return };
    if let Ok(data) =
        ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), width as u32, height as u32)
    {
        let _ = ctx.put_image_data(&data, 0.0, 0.0);
    }
}

/// A canvas not attached to the page, holding `rgba`: a source for scaled `drawImage`.
pub fn offscreen(width: usize, height: usize, rgba: &[u8]) -> Option<HtmlCanvasElement> {
    let canvas: HtmlCanvasElement = web_sys::window()?
        .document()?
        .create_element("canvas")
        .ok()?
        .dyn_into()
        .ok()?;
    blit(&canvas, width, height, rgba);
    Some(canvas)
}

/// A `data:image/png` URL of `rgba`, encoded by the browser (nothing leaves the page).
pub fn png_data_url(width: usize, height: usize, rgba: &[u8]) -> Option<String> {
    offscreen(width, height, rgba)?
        .to_data_url_with_type("image/png")
        .ok()
}

/// The 2-D context of a canvas with image smoothing off (crisp pixels when zoomed).
pub fn crisp_context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    let ctx = context(canvas)?;
    ctx.set_image_smoothing_enabled(false);
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn mask_outline_is_opaque_and_inside_is_tinted() {
        // A 3×3 block in a 5×5 mask: its centre is the only interior pixel.
        let mask = Mask::from_fn(5, 5, |x, y| (1..4).contains(&x) && (1..4).contains(&y));
        let rgba = mask_rgba(&mask, MASK_COLOUR, 40);
        let alpha = |x: usize, y: usize| rgba[(y * 5 + x) * 4 + 3];
        assert_eq!(alpha(0, 0), 0, "background stays transparent");
        assert_eq!(alpha(1, 1), 255, "boundary");
        assert_eq!(alpha(2, 2), 40, "interior");
        assert_eq!(&rgba[(5 + 1) * 4..(5 + 1) * 4 + 3], &MASK_COLOUR);
    }

    #[test]
    fn heat_map_is_transparent_where_samples_agree_on_background() {
        let rgba = heat_rgba(&[0.0, 0.5, 1.0], 1.0);
        assert_eq!(rgba[3], 0);
        assert!(rgba[7] > 0 && rgba[7] < rgba[11]);
        assert_eq!(&rgba[8..11], &HEAT_STOPS[4]);
        assert_eq!(heat_colour(0.0), HEAT_STOPS[0]);
        assert_eq!(legend_rgba(4).len(), 16);
    }

    #[test]
    fn tiles_blend_the_mask_over_the_image() {
        let mask = Mask::from_fn(2, 1, |x, _| x == 1);
        let rgba = tile_rgba(&[0.0, 0.0], &mask, [255, 0, 0]);
        assert_eq!(&rgba[0..4], &[0, 0, 0, 255]);
        assert_eq!(rgba[4], 255, "a boundary pixel takes the mask colour");
    }
}

//! From a slice to the model's input, and from the model's masks back onto the slice.
//!
//! Coordinates are continuous image pixels: pixel (col, row) covers \[col, col+1) ×
//! \[row, row+1), so its centre is (col + 0.5, row + 0.5). The crop is an axis-aligned
//! rectangle of `width × height` model pixels, each `scale` image pixels wide, centred on the
//! user's point; [`CropMap`] holds that affine map so masks can be drawn over the original.

use crate::ImagingError;
use crate::slice::{Photometric, Slice};
use crate::window::Window;

/// Largest model input side accepted (the paper uses 128; 4096 bounds memory).
const MAX_MODEL_SIDE: u32 = 4096;

/// What the model wants and where to look.
#[derive(Debug, Clone, PartialEq)]
pub struct PrepareSpec {
    /// Model input columns (128 for the paper's configuration).
    pub width: u32,
    /// Model input rows.
    pub height: u32,
    /// Crop centre in image pixel coordinates (x = column, y = row), e.g. where the user
    /// clicked; (W/2, H/2) is the image centre.
    pub center: (f32, f32),
    /// Millimetres per model pixel. When the slice's spacing is known the crop is resampled
    /// to it (LIDC crops are ~0.7 mm); `None`, or an unknown file spacing, keeps one image
    /// pixel per model pixel.
    pub spacing_mm: Option<f32>,
    /// Display window applied before cropping; `None` uses the slice's default window.
    pub window: Option<Window>,
}

impl PrepareSpec {
    /// A square `size × size` crop around `center`, at native resolution, default window.
    pub fn new(size: u32, center: (f32, f32)) -> PrepareSpec {
        PrepareSpec {
            width: size,
            height: size,
            center,
            spacing_mm: None,
            window: None,
        }
    }
}

/// The affine map between model pixels and image pixels of one crop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CropMap {
    /// Image coordinates of the model's top-left corner (may be negative: padded).
    pub origin: (f32, f32),
    /// Image pixels per model pixel along x and y (> 1 means the crop was shrunk).
    pub scale: (f32, f32),
    /// Model input (width, height).
    pub model_size: (u32, u32),
    /// Slice (width, height).
    pub image_size: (u32, u32),
}

impl CropMap {
    /// Model coordinates → image coordinates.
    pub fn to_image(&self, mx: f32, my: f32) -> (f32, f32) {
        (
            self.origin.0 + mx * self.scale.0,
            self.origin.1 + my * self.scale.1,
        )
    }

    /// Image coordinates → model coordinates.
    pub fn to_model(&self, ix: f32, iy: f32) -> (f32, f32) {
        (
            (ix - self.origin.0) / self.scale.0,
            (iy - self.origin.1) / self.scale.1,
        )
    }
}

/// The model's input and how to get back.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// Row-major `height × width` intensities in \[0, 1\]: the window's LINEAR VOI output
    /// (inverted for MONOCHROME1), area-averaged when shrinking, bilinear otherwise; 0
    /// outside the image. No further mean/std normalisation is applied.
    pub data: Vec<f32>,
    /// Columns (= spec width).
    pub width: u32,
    /// Rows (= spec height).
    pub height: u32,
    /// The window that was applied.
    pub window: Window,
    /// Model ↔ image coordinates.
    pub map: CropMap,
    /// False when a spacing was asked for but the file has none (crop at native pixels).
    pub resampled: bool,
}

fn bad(msg: impl Into<String>) -> ImagingError {
    ImagingError::InvalidRequest(msg.into())
}

fn check_size(w: u32, h: u32) -> Result<(), ImagingError> {
    if w == 0 || h == 0 || w > MAX_MODEL_SIDE || h > MAX_MODEL_SIDE {
        return Err(bad(format!(
            "model size {w}×{h} must be between 1 and {MAX_MODEL_SIDE} per side"
        )));
    }
    Ok(())
}

/// Bilinear sample of `f(col, row)` at continuous (x, y); neighbours clamped to the grid,
/// `None` outside it.
fn bilinear(w: u32, h: u32, x: f32, y: f32, f: impl Fn(usize, usize) -> f32) -> Option<f32> {
    if !(x >= 0.0 && y >= 0.0 && x < w as f32 && y < h as f32) {
        return None;
    }
    let (u, v) = (x - 0.5, y - 0.5);
    let (x0, y0) = (u.floor(), v.floor());
    let (fx, fy) = (u - x0, v - y0);
    let clamp = |i: f32, n: u32| (i.max(0.0) as usize).min(n as usize - 1);
    let (xa, xb) = (clamp(x0, w), clamp(x0 + 1.0, w));
    let (ya, yb) = (clamp(y0, h), clamp(y0 + 1.0, h));
    let top = f(xa, ya) * (1.0 - fx) + f(xb, ya) * fx;
    let bottom = f(xa, yb) * (1.0 - fx) + f(xb, yb) * fx;
    Some(top * (1.0 - fy) + bottom * fy)
}

/// Windows the slice and crops/resamples it to the model's input around `spec.center`.
pub fn prepare(slice: &Slice, spec: &PrepareSpec) -> Result<Prepared, ImagingError> {
    check_size(spec.width, spec.height)?;
    let (cx, cy) = spec.center;
    if !cx.is_finite() || !cy.is_finite() {
        return Err(bad("the crop centre is not a finite point"));
    }
    if slice.pixels.len() != slice.width as usize * slice.height as usize || slice.width == 0 {
        return Err(bad("the slice's pixel count does not match its size"));
    }
    let (scale, resampled) = match (spec.spacing_mm, slice.spacing) {
        (Some(mm), _) if !(mm.is_finite() && mm > 0.0) => {
            return Err(bad(format!("spacing {mm} mm must be positive")));
        }
        (Some(mm), Some(s)) => ((mm / s.x_mm, mm / s.y_mm), true),
        (Some(_), None) => ((1.0, 1.0), false),
        (None, _) => ((1.0, 1.0), true),
    };
    let map = CropMap {
        origin: (
            cx - spec.width as f32 * scale.0 / 2.0,
            cy - spec.height as f32 * scale.1 / 2.0,
        ),
        scale,
        model_size: (spec.width, spec.height),
        image_size: (slice.width, slice.height),
    };
    let window = spec.window.unwrap_or(slice.window);
    let invert = slice.photometric == Photometric::Monochrome1;
    let (iw, ih) = (slice.width, slice.height);
    let value =
        |c: usize, r: usize| window.apply_polarity(slice.pixels[r * iw as usize + c], invert);
    // Shrinking: average ss×ss bilinear samples per model pixel so thin vessels do not alias.
    let ss = |s: f32| (s.ceil() as usize).clamp(1, 8);
    let (sx, sy) = (ss(scale.0), ss(scale.1));
    let mut data = Vec::with_capacity(spec.width as usize * spec.height as usize);
    for my in 0..spec.height {
        for mx in 0..spec.width {
            let mut acc = 0.0;
            for j in 0..sy {
                for i in 0..sx {
                    let px = mx as f32 + (i as f32 + 0.5) / sx as f32;
                    let py = my as f32 + (j as f32 + 0.5) / sy as f32;
                    let (x, y) = map.to_image(px, py);
                    acc += bilinear(iw, ih, x, y, value).unwrap_or(0.0);
                }
            }
            data.push(acc / (sx * sy) as f32);
        }
    }
    Ok(Prepared {
        data,
        width: spec.width,
        height: spec.height,
        window,
        map,
        resampled,
    })
}

/// Maps a model-space mask (or probability map), row-major `model_size`, onto the slice:
/// returns `image_size` values, bilinearly interpolated, 0 outside the crop. Threshold at 0.5
/// for a binary overlay.
pub fn mask_to_image(mask: &[f32], map: &CropMap) -> Result<Vec<f32>, ImagingError> {
    let (mw, mh) = map.model_size;
    let (iw, ih) = map.image_size;
    check_size(mw, mh)?;
    if mask.len() != mw as usize * mh as usize {
        return Err(bad(format!(
            "mask has {} values, expected {mw}×{mh}",
            mask.len()
        )));
    }
    if !(map.scale.0 > 0.0 && map.scale.1 > 0.0) {
        return Err(bad("crop scale must be positive"));
    }
    let mut out = vec![0.0f32; iw as usize * ih as usize];
    // Only image pixels inside the crop's bounding box can receive values.
    let (x0, y0) = map.to_image(0.0, 0.0);
    let (x1, y1) = map.to_image(mw as f32, mh as f32);
    let cols = (x0.floor().max(0.0) as usize)..(x1.ceil().clamp(0.0, iw as f32) as usize);
    let rows = (y0.floor().max(0.0) as usize)..(y1.ceil().clamp(0.0, ih as f32) as usize);
    let at = |c: usize, r: usize| mask[r * mw as usize + c];
    for r in rows {
        for c in cols.clone() {
            let (mx, my) = map.to_model(c as f32 + 0.5, r as f32 + 0.5);
            if let Some(v) = bilinear(mw, mh, mx, my, at) {
                out[r * iw as usize + c] = v;
            }
        }
    }
    Ok(out)
}

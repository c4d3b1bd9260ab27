//! The model-input contract: how an image and its masks become what a model was trained on.
//!
//! A model only works on inputs prepared the way its training data was. That recipe used to be
//! spread over the page (lung window, native-scale crop), the fine-tuning pairs (the file's own
//! window) and the CLI (largest centred square, resized), and they disagreed. An
//! [`InputContract`] is stored in every weights file, and page inference, page fine-tuning,
//! teaching cases and every CLI command prepare images and masks through it and nothing else.
//!
//! The contract always crops at the image's native pixel scale: `crop_side × crop_side` native
//! pixels centred on a point are the *context* over which intensities are normalised, and the
//! model sees the central `model_side × model_side` of that context (LIDC: a 128 × 128 crop,
//! min–max scaled on its own as the data set was, of which the model sees the centre 64 × 64).

use serde::{Deserialize, Serialize};

use crate::ImagingError;
use crate::prepare::{PrepareSpec, Prepared, prepare};
use crate::slice::{Slice, Units};
use crate::window::{Preset, Window};

/// How intensities become the model's `[0, 1]` input.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Intensity {
    /// Linear map of the context crop's own minimum to 0 and maximum to 1 (LIDC crops were
    /// scaled this way, one crop at a time, so no fixed Hounsfield window reproduces them).
    CropMinMax,
    /// A fixed window on Hounsfield slices (CT); slices without calibrated units (PNG, JPEG:
    /// already windowed by whoever exported them) keep their own stored grey levels.
    CtWindow { center: f32, width: f32 },
}

/// How a mask file's pixels become foreground.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskRule {
    /// Any non-zero pixel is foreground: 0/255 images and 0/1 label maps read alike.
    NonZero,
}

/// Settings fine-tuning must reuse from the model's own training, so a few steps in the page
/// continue the objective the weights were trained on instead of a different one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainingSettings {
    /// Weight β of KL(posterior ‖ prior) the model finished training with.
    pub beta: f32,
}

/// Everything needed to turn a slice (and its masks) into a model input, stored with the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputContract {
    /// Side of the square model input, in pixels (one native pixel each).
    pub model_side: u32,
    /// Side, in native pixels, of the square context crop that intensities are normalised over;
    /// at least `model_side`.
    pub crop_side: u32,
    /// Intensity normalisation.
    pub intensity: Intensity,
    /// How mask files are read.
    pub masks: MaskRule,
    /// What fine-tuning reuses.
    pub training: TrainingSettings,
    /// What the model expects to see, in words for the page ("a crop centred on a lung nodule").
    pub expects: String,
}

/// One prepared mask: row-major `model_side²` booleans.
pub type MaskPixels = Vec<bool>;

impl InputContract {
    /// The LIDC-IDRI crops contract (`shared/lidc-crops`): 128² native-spacing context crops,
    /// min–max scaled each, the model sees their centre `model_side²`.
    pub fn lidc(model_side: u32, beta: f32) -> Self {
        InputContract {
            model_side,
            crop_side: 128,
            intensity: Intensity::CropMinMax,
            masks: MaskRule::NonZero,
            training: TrainingSettings { beta },
            expects: "a chest CT crop centred on a lung nodule".into(),
        }
    }

    /// The synthetic ambiguity benchmark's contract: its cases are generated already windowed
    /// as lung CT, so real CT goes through the lung window.
    pub fn synthetic(model_side: u32, beta: f32) -> Self {
        let lung = Preset::Lung.window();
        InputContract {
            model_side,
            crop_side: model_side,
            intensity: Intensity::CtWindow {
                center: lung.center,
                width: lung.width,
            },
            masks: MaskRule::NonZero,
            training: TrainingSettings { beta },
            expects: "a synthetic lung-window crop with a nodule or vessel near its centre".into(),
        }
    }

    /// Checks the numbers describe a usable recipe.
    pub fn check(&self) -> Result<(), ImagingError> {
        let bad = |m: String| Err(ImagingError::InvalidRequest(m));
        if self.model_side == 0 || self.model_side > 4096 {
            return bad(format!(
                "model side {} must be between 1 and 4096",
                self.model_side
            ));
        }
        if self.crop_side < self.model_side || self.crop_side > 4096 {
            return bad(format!(
                "context crop {} must be at least the model side {} and at most 4096",
                self.crop_side, self.model_side
            ));
        }
        if let Intensity::CtWindow { center, width } = self.intensity
            && !(center.is_finite() && width.is_finite() && width >= 1.0)
        {
            return bad(format!("window {center}/{width} is not a usable window"));
        }
        if !(self.training.beta.is_finite() && self.training.beta >= 0.0) {
            return bad(format!("β {} must be ≥ 0", self.training.beta));
        }
        Ok(())
    }

    /// The window this contract applies to `slice` around `center` (image pixel coordinates).
    pub fn window_for(&self, slice: &Slice, center: (f32, f32)) -> Window {
        match self.intensity {
            Intensity::CtWindow { center, width } if slice.units == Units::Hounsfield => {
                Window { center, width }
            }
            Intensity::CtWindow { .. } => slice.window,
            Intensity::CropMinMax => {
                let (lo, hi) = self.context_range(slice, center).unwrap_or((0.0, 1.0));
                Window::full_range(lo, hi)
            }
        }
    }

    /// The model input for `slice` around `center`: the central `model_side²` native pixels,
    /// normalised as the contract says.
    pub fn prepare(&self, slice: &Slice, center: (f32, f32)) -> Result<Prepared, ImagingError> {
        self.check()?;
        let center = self.snap(center);
        let mut spec = PrepareSpec::new(self.model_side, center);
        spec.window = Some(self.window_for(slice, center));
        prepare(slice, &spec)
    }

    /// `center` moved (by under half a pixel) so the model's pixels fall exactly on native
    /// pixels: images are then copied, not interpolated, and masks line up with them.
    pub fn snap(&self, center: (f32, f32)) -> (f32, f32) {
        let half = self.model_side as f32 / 2.0;
        let (x0, y0) = crop_origin(center, self.model_side);
        (x0 as f32 + half, y0 as f32 + half)
    }

    /// The mask a rater's file gives for the crop [`InputContract::prepare`] takes around
    /// `center`: `mask` is the decoded mask file (any bit depth or colour), foreground by
    /// [`MaskRule`]; pixels outside the file are background.
    pub fn prepare_mask(
        &self,
        mask: &Slice,
        center: (f32, f32),
    ) -> Result<MaskPixels, ImagingError> {
        if mask.pixels.len() != (mask.width as usize) * (mask.height as usize) {
            return Err(ImagingError::InvalidRequest(
                "the mask's pixel count does not match its size".into(),
            ));
        }
        let rule = self.masks;
        self.crop_mask(mask.width, mask.height, center, |i| match rule {
            MaskRule::NonZero => mask.pixels[i] != 0.0 && !mask.pixels[i].is_nan(),
        })
    }

    /// [`InputContract::prepare_mask`] for a mask that is already foreground flags (a DICOM
    /// SEG frame, [`crate::SegmentMask`]), `width * height` of them, row-major.
    pub fn prepare_mask_bits(
        &self,
        width: u32,
        height: u32,
        bits: &[bool],
        center: (f32, f32),
    ) -> Result<MaskPixels, ImagingError> {
        if bits.len() != (width as usize) * (height as usize) {
            return Err(ImagingError::InvalidRequest(
                "the mask's pixel count does not match its size".into(),
            ));
        }
        self.crop_mask(width, height, center, |i| bits[i])
    }

    /// The model-side crop around `center` of a `width × height` mask whose pixel `i` is
    /// `foreground(i)`; pixels outside it are background.
    fn crop_mask(
        &self,
        width: u32,
        height: u32,
        center: (f32, f32),
        foreground: impl Fn(usize) -> bool,
    ) -> Result<MaskPixels, ImagingError> {
        self.check()?;
        let (width, height) = (i64::from(width), i64::from(height));
        let side = self.model_side as i64;
        let (x0, y0) = crop_origin(center, self.model_side);
        let mut out = Vec::with_capacity((side * side) as usize);
        for my in 0..side {
            for mx in 0..side {
                let (x, y) = (x0 + mx, y0 + my);
                let inside = x >= 0 && y >= 0 && x < width && y < height;
                out.push(inside && foreground((y * width + x) as usize));
            }
        }
        Ok(out)
    }

    /// Minimum and maximum of the finite, non-padding pixels in the context crop.
    fn context_range(&self, slice: &Slice, center: (f32, f32)) -> Option<(f32, f32)> {
        let (x0, y0) = crop_origin(center, self.crop_side);
        let side = self.crop_side as i64;
        let (w, h) = (slice.width as i64, slice.height as i64);
        let (xa, xb) = (x0.clamp(0, w), (x0 + side).clamp(0, w));
        let (ya, yb) = (y0.clamp(0, h), (y0 + side).clamp(0, h));
        let mut range: Option<(f32, f32)> = None;
        for y in ya..yb {
            let row = &slice.pixels[(y * w) as usize..((y + 1) * w) as usize];
            for &v in &row[xa as usize..xb as usize] {
                if !v.is_finite() || Some(v) == slice.padding_value {
                    continue;
                }
                range = Some(range.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))));
            }
        }
        range
    }
}

/// Top-left native pixel of a `side²` crop centred on `center`, exactly as
/// [`prepare`] places it at scale 1 (origin = centre − side/2, rounded to the pixel grid).
fn crop_origin(center: (f32, f32), side: u32) -> (i64, i64) {
    let half = side as f32 / 2.0;
    (
        (center.0 - half).round() as i64,
        (center.1 - half).round() as i64,
    )
}

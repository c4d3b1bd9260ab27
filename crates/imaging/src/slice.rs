//! The decoded, calibrated slice every later step works on.
//!
//! One type for PNG, JPEG and DICOM so the app and `prepare` never care where pixels came
//! from. Patient-identifying attributes are deliberately not carried: nothing here can leak
//! a name or an ID into the UI, a log or a saved file.

use crate::window::Window;

/// What the numbers in [`Slice::pixels`] mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Units {
    /// Hounsfield units: a CT after its modality LUT (rescale slope/intercept).
    Hounsfield,
    /// Modality values after rescale for non-CT DICOM (MR signal, ...): arbitrary scale.
    Modality,
    /// Stored sample values as in the file (PNG/JPEG grey levels, or luminance of colour).
    Raw,
}

/// How the grey values are to be displayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Photometric {
    /// Higher value = brighter (the usual case).
    Monochrome2,
    /// Higher value = darker: inverted after the VOI window.
    Monochrome1,
    /// The file held colour (RGB, YBR or a palette); pixels are its luminance.
    ColourAsLuminance,
}

/// Physical size of one pixel, in millimetres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spacing {
    /// Horizontal distance between column centres (DICOM PixelSpacing\[1\]).
    pub x_mm: f32,
    /// Vertical distance between row centres (DICOM PixelSpacing\[0\]).
    pub y_mm: f32,
}

/// Which container and codec the slice came from: shown to the user, used in bug reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A PNG file; `bit_depth` per sample and the colour type as the `image` crate names it.
    Png {
        /// 8 or 16.
        bit_depth: u8,
        /// e.g. "L8", "La16", "Rgb8" (palette PNGs are expanded to Rgb8/Rgba8).
        color: String,
    },
    /// A JPEG file.
    Jpeg,
    /// A DICOM object.
    Dicom {
        /// Transfer syntax name, e.g. "RLE Lossless".
        transfer_syntax: String,
        /// Transfer syntax UID.
        transfer_syntax_uid: String,
        /// Whether the 128-byte preamble and file meta group were present.
        has_file_meta: bool,
        /// BitsAllocated / BitsStored / PixelRepresentation (1 = signed).
        bits_allocated: u16,
        /// Bits that carry the value.
        bits_stored: u16,
        /// Signed samples.
        signed: bool,
    },
}

/// A single 2-D image, calibrated, with the metadata that matters for display and cropping.
#[derive(Debug, Clone, PartialEq)]
pub struct Slice {
    /// Row-major, `width * height` values after the modality LUT (HU for CT).
    pub pixels: Vec<f32>,
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Pixel size in mm, when the file states it (DICOM PixelSpacing or ImagerPixelSpacing).
    pub spacing: Option<Spacing>,
    /// DICOM Modality (e.g. "CT", "MR"); `None` for PNG/JPEG.
    pub modality: Option<String>,
    /// Meaning of `pixels`.
    pub units: Units,
    /// Default display window: the file's first VOI window, else a preset (CT: lung), else
    /// the full value range.
    pub window: Window,
    /// Display polarity.
    pub photometric: Photometric,
    /// Zero-based index of the frame held in `pixels`.
    pub frame: u32,
    /// Frames in the file (1 for PNG/JPEG and single-frame DICOM).
    pub frame_count: u32,
    /// Value marking pixels outside the scanned area (DICOM PixelPaddingValue, after rescale).
    pub padding_value: Option<f32>,
    /// Container and codec.
    pub source: Source,
    /// DICOM SOP Instance UID: how a Segmentation (SEG) dropped beside this image names it.
    /// An identifier of the object, not of the patient; `None` for PNG/JPEG.
    pub sop_instance_uid: Option<String>,
}

impl Slice {
    /// Smallest and largest value, ignoring NaN and the padding value.
    pub fn value_range(&self) -> Option<(f32, f32)> {
        let pad = self.padding_value;
        let mut it = self
            .pixels
            .iter()
            .copied()
            .filter(|v| v.is_finite() && Some(*v) != pad);
        let first = it.next()?;
        Some(it.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v))))
    }

    /// Re-calibrate raw values, e.g. a 16-bit PNG exported as HU+1024: `rescale(1.0, -1024.0,
    /// Units::Hounsfield)`. The default window is moved with the values.
    pub fn rescale(&mut self, slope: f32, intercept: f32, units: Units) {
        for v in &mut self.pixels {
            *v = *v * slope + intercept;
        }
        self.padding_value = self.padding_value.map(|p| p * slope + intercept);
        self.window = Window {
            center: self.window.center * slope + intercept,
            width: (self.window.width * slope.abs()).max(1.0),
        };
        self.units = units;
    }

    /// Values in \[0, 1\] after `window` (and after inversion for MONOCHROME1): what is shown
    /// and what `prepare` feeds the model.
    pub fn windowed(&self, window: Window) -> Vec<f32> {
        let invert = self.photometric == Photometric::Monochrome1;
        self.pixels
            .iter()
            .map(|&v| window.apply_polarity(v, invert))
            .collect()
    }

    /// Opaque RGBA bytes for a canvas (`ImageData`), after `window`.
    pub fn to_rgba8(&self, window: Window) -> Vec<u8> {
        let invert = self.photometric == Photometric::Monochrome1;
        let mut out = Vec::with_capacity(self.pixels.len() * 4);
        for &v in &self.pixels {
            let g = (window.apply_polarity(v, invert) * 255.0).round() as u8;
            out.extend_from_slice(&[g, g, g, 255]);
        }
        out
    }
}

//! Image input for the probabilistic U-Net app: file bytes → calibrated [`Slice`] →
//! model-ready crop ([`prepare`]) and back ([`mask_to_image`]).
//!
//! Runs natively and in wasm32-unknown-unknown with pure-Rust codecs only. Never panics on
//! input: sizes are checked before allocation and codecs are only handed data whose header
//! agrees with the DICOM attributes. No patient-identifying attribute is exposed.
//!
//! ```no_run
//! let bytes = std::fs::read("CT_small.dcm").unwrap();
//! let slice = imaging::decode(&bytes, Some("CT_small.dcm")).unwrap();
//! let spec = imaging::PrepareSpec::new(128, (64.0, 64.0));
//! let input = imaging::prepare(&slice, &spec).unwrap();
//! assert_eq!(input.data.len(), 128 * 128);
//! ```

mod annotated;
mod attrs;
mod codec;
mod contract;
mod dicom;
mod error;
mod limits;
mod palette;
mod pixels;
mod png;
mod prepare;
mod prescan;
mod rle;
mod segmentation;
mod slice;
mod unknown_vr;
mod window;

pub use annotated::{AnnotatedSlice, group_annotated};
pub use contract::{InputContract, Intensity, MaskPixels, MaskRule, TrainingSettings};
pub use error::ImagingError;
pub use limits::{MAX_DECODED_BYTES, MAX_PIXELS_PER_FRAME};
pub use prepare::{CropMap, PrepareSpec, Prepared, mask_to_image, prepare};
pub use segmentation::{SegmentMask, read_segmentation};
pub use slice::{Photometric, Slice, Source, Spacing, Units};
pub use window::{Preset, Window};

/// Container formats recognised by their first bytes (the name is only a fallback hint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PNG signature.
    Png,
    /// JPEG SOI marker.
    Jpeg,
    /// DICOM Part 10 file, or a bare data set without preamble/meta.
    Dicom,
}

/// Options for [`decode_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Zero-based frame of a multi-frame DICOM; must be below [`Slice::frame_count`].
    pub frame: u32,
}

/// Tells which format the bytes are, without decoding them.
pub fn sniff(bytes: &[u8], name_hint: Option<&str>) -> Option<Format> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Format::Png);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Format::Jpeg);
    }
    if dicom::sniff(bytes).is_some() {
        return Some(Format::Dicom);
    }
    let _ = name_hint;
    None
}

/// Decodes the first frame of a PNG, JPEG or DICOM file.
///
/// `name_hint` (the dropped file's name) is used only in error messages: the format is
/// recognised from the bytes, so a misnamed file still opens.
pub fn decode(bytes: &[u8], name_hint: Option<&str>) -> Result<Slice, ImagingError> {
    decode_with(bytes, name_hint, &DecodeOptions::default())
}

/// [`decode`] with options (e.g. which frame of a multi-frame DICOM).
pub fn decode_with(
    bytes: &[u8],
    name_hint: Option<&str>,
    opts: &DecodeOptions,
) -> Result<Slice, ImagingError> {
    if bytes.is_empty() {
        return Err(ImagingError::Empty);
    }
    let frame_for_raster = |slice: Slice| {
        if opts.frame == 0 {
            Ok(slice)
        } else {
            Err(ImagingError::FrameOutOfRange {
                requested: opts.frame,
                count: 1,
            })
        }
    };
    match sniff(bytes, name_hint) {
        Some(Format::Png) => png::decode_png(bytes).and_then(frame_for_raster),
        Some(Format::Jpeg) => png::decode_jpeg(bytes).and_then(frame_for_raster),
        Some(Format::Dicom) => {
            let framing = dicom::sniff(bytes).ok_or(ImagingError::UnknownFormat { name: None })?;
            dicom::decode(bytes, framing, opts)
        }
        None => Err(ImagingError::UnknownFormat {
            name: name_hint.map(str::to_string),
        }),
    }
}

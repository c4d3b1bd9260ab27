//! The one error type of this crate.
//!
//! Every message is written for the person who dropped the file: it says what is wrong
//! with *their file* in words they can act on, never a decoder's internal state.

use thiserror::Error;

/// Why a file could not be turned into a [`crate::Slice`] or a model input.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ImagingError {
    /// Zero bytes were given.
    #[error("empty file")]
    Empty,
    /// Neither PNG, JPEG nor DICOM (with or without preamble) was recognised.
    #[error("unrecognised file format{}: expected PNG, JPEG or DICOM", hint_suffix(.name))]
    UnknownFormat {
        /// The file name the caller passed, if any.
        name: Option<String>,
    },
    /// A DICOM object without pixel data (structure sets, reports, ...).
    #[error("not an image: {what} has no pixel data")]
    NotAnImage {
        /// The modality (e.g. `RTSTRUCT`) or SOP class that was found.
        what: String,
    },
    /// A DICOM Segmentation (SEG): 1-bit masks that reference another image's pixels.
    #[error(
        "this is a DICOM Segmentation (SEG): masks drawn on another image, not an image to \
         segment; open the image it outlines instead"
    )]
    Segmentation,
    /// Masks were asked of a DICOM object that is not a Segmentation.
    #[error("not a DICOM Segmentation (SEG): masks can only be read from a SEG object")]
    NotASegmentation,
    /// The pixel data ends before all rows and columns were stored.
    #[error("truncated pixel data: expected {expected} bytes, found {found}")]
    Truncated {
        /// Bytes needed for the declared size.
        expected: u64,
        /// Bytes actually present.
        found: u64,
    },
    /// A compression this build cannot decode.
    #[error("unsupported transfer syntax {name} ({uid})")]
    UnsupportedTransferSyntax {
        /// Human name of the transfer syntax.
        name: String,
        /// Its UID.
        uid: String,
    },
    /// Refused before allocating: the declared size is beyond what a slice viewer needs.
    #[error("image too large: {width}×{height}{} exceeds the limit of {limit} pixels per frame", frames_suffix(*.frames))]
    TooLarge {
        /// Declared columns.
        width: u64,
        /// Declared rows.
        height: u64,
        /// Declared frames (1 for single images).
        frames: u64,
        /// The limit that was exceeded.
        limit: u64,
    },
    /// The DICOM structure itself could not be read.
    #[error("invalid DICOM file: {0}")]
    InvalidDicom(String),
    /// An attribute needed to interpret the pixels is absent or unreadable.
    #[error("missing or invalid DICOM attribute {0}")]
    BadAttribute(&'static str),
    /// A pixel layout this crate does not interpret (e.g. 32-bit float, segmented palettes).
    #[error("unsupported pixel format: {0}")]
    UnsupportedPixelFormat(String),
    /// The caller asked for a frame the file does not have.
    #[error("frame {requested} out of range: the file has {count} frame(s)")]
    FrameOutOfRange {
        /// Zero-based frame asked for.
        requested: u32,
        /// Frames in the file.
        count: u32,
    },
    /// A codec (PNG, JPEG, RLE, JPEG 2000, ...) rejected the data.
    #[error("could not decode {format} data: {reason}")]
    Decode {
        /// Which codec.
        format: &'static str,
        /// The codec's own words.
        reason: String,
    },
    /// `prepare` or `mask_to_image` was called with inconsistent arguments.
    #[error("invalid crop request: {0}")]
    InvalidRequest(String),
}

fn hint_suffix(name: &Option<String>) -> String {
    name.as_ref()
        .map(|n| format!(" of {n}"))
        .unwrap_or_default()
}

fn frames_suffix(frames: u64) -> String {
    if frames > 1 {
        format!("×{frames} frames")
    } else {
        String::new()
    }
}

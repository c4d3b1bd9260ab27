//! DICOM Segmentation (SEG) objects read as masks of the images they were drawn on.
//!
//! A SEG stores one frame per (segment, source image frame), 1 bit per pixel (BINARY) or
//! 8 bits (FRACTIONAL), and says which image each frame belongs to through its functional
//! groups. That reference — the source image's SOP Instance UID, and the frame number for a
//! multi-frame source — is how a mask finds its image: file names play no part, so a
//! clinician can drop the slice and each reader's SEG together.

use dicom_core::Tag;
use dicom_core::value::Value;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

use crate::ImagingError;
use crate::attrs::{self, element, string, u16_attr};
use crate::codec;
use crate::dicom;
use crate::limits::check_dimensions;

/// One segment's mask on one source frame.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentMask {
    /// SegmentNumber (1-based, as in the file).
    pub segment: u16,
    /// SegmentLabel, or "segment N" when the file gives none.
    pub label: String,
    /// The image this frame was drawn on (SOP Instance UID), when the SEG says.
    pub source_uid: Option<String>,
    /// Zero-based frame of a multi-frame source, when the SEG says.
    pub source_frame: Option<u32>,
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Row-major foreground flags (`width * height`).
    pub bits: Vec<bool>,
}

impl SegmentMask {
    /// Whether this mask belongs to frame `frame` of the image with SOP Instance UID `uid`.
    pub fn is_on(&self, uid: &str, frame: u32) -> bool {
        self.source_uid.as_deref() == Some(uid) && self.source_frame.is_none_or(|f| f == frame)
    }
}

/// Every frame of a SEG object, as masks.
pub fn read_segmentation(bytes: &[u8]) -> Result<Vec<SegmentMask>, ImagingError> {
    if bytes.is_empty() {
        return Err(ImagingError::Empty);
    }
    let framing = dicom::sniff(bytes).ok_or(ImagingError::UnknownFormat { name: None })?;
    let parsed = dicom::parse(bytes, framing)?;
    let ds = parsed.obj.dataset();
    if !attrs::is_segmentation(ds) {
        return Err(ImagingError::NotASegmentation);
    }
    if !codec::is_native(&parsed.ts_uid) {
        return Err(ImagingError::UnsupportedPixelFormat(format!(
            "a Segmentation stored as {} (only uncompressed SEG objects are read)",
            parsed.ts_name
        )));
    }
    let rows = u16_attr(ds, tags::ROWS).ok_or(ImagingError::BadAttribute("Rows"))?;
    let cols = u16_attr(ds, tags::COLUMNS).ok_or(ImagingError::BadAttribute("Columns"))?;
    let frames = attrs::frame_count(ds);
    check_dimensions(cols.into(), rows.into(), frames.into())?;
    let bits_allocated =
        u16_attr(ds, tags::BITS_ALLOCATED).ok_or(ImagingError::BadAttribute("BitsAllocated"))?;
    let fractional = string(ds, tags::SEGMENTATION_TYPE).as_deref() == Some("FRACTIONAL");
    let threshold = match (bits_allocated, fractional) {
        (1, false) => None,
        (8, true) => {
            let max = u16_attr(ds, tags::MAXIMUM_FRACTIONAL_VALUE)
                .unwrap_or(255)
                .max(1);
            // A fraction (probability or occupancy) of at least one half is foreground.
            Some(max.div_ceil(2))
        }
        _ => {
            return Err(ImagingError::UnsupportedPixelFormat(format!(
                "a Segmentation with BitsAllocated {bits_allocated} (BINARY SEGs have 1, \
                 FRACTIONAL ones 8)"
            )));
        }
    };
    let data = match ds.get(tags::PIXEL_DATA).map(|e| e.value()) {
        Some(Value::Primitive(p)) => p.to_bytes(),
        Some(_) => {
            return Err(ImagingError::UnsupportedPixelFormat(
                "a Segmentation with encapsulated pixel data (only uncompressed SEG objects \
                 are read)"
                    .into(),
            ));
        }
        None => return Err(ImagingError::BadAttribute("PixelData")),
    };
    let pixels = usize::from(rows) * usize::from(cols);
    // In u64: a header may claim billions of frames, and usize is 32 bits in wasm.
    let total = u64::from(rows) * u64::from(cols) * u64::from(frames);
    let needed = if threshold.is_some() {
        total
    } else {
        total.div_ceil(8)
    };
    if (data.len() as u64) < needed {
        return Err(ImagingError::Truncated {
            expected: needed,
            found: data.len() as u64,
        });
    }
    let labels = segment_labels(ds);
    let fallback_uid = single_referenced_instance(ds);
    let per_frame = element(ds, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE)
        .and_then(|s| s.items())
        .unwrap_or(&[]);
    let mut masks = Vec::with_capacity(frames as usize);
    for f in 0..frames as usize {
        let group = per_frame.get(f);
        let segment = group
            .and_then(|g| first_item(g, tags::SEGMENT_IDENTIFICATION_SEQUENCE))
            .and_then(|item| u16_attr(item, tags::REFERENCED_SEGMENT_NUMBER))
            .or_else(|| (labels.len() == 1).then(|| labels[0].0))
            .ok_or(ImagingError::BadAttribute(
                "ReferencedSegmentNumber (which segment a frame belongs to)",
            ))?;
        let source = group.and_then(source_image);
        let (source_uid, source_frame) = match source {
            Some((uid, frame)) => (Some(uid), frame),
            None => (fallback_uid.clone(), None),
        };
        let label = labels
            .iter()
            .find(|(n, _)| *n == segment)
            .map(|(_, l)| l.clone())
            .unwrap_or_else(|| format!("segment {segment}"));
        let start = f * pixels;
        let bits = match threshold {
            None => (start..start + pixels)
                .map(|i| data[i / 8] >> (i % 8) & 1 == 1)
                .collect(),
            Some(t) => data[start..start + pixels]
                .iter()
                .map(|&v| u16::from(v) >= t)
                .collect(),
        };
        masks.push(SegmentMask {
            segment,
            label,
            source_uid,
            source_frame,
            width: cols.into(),
            height: rows.into(),
            bits,
        });
    }
    Ok(masks)
}

fn first_item(ds: &InMemDicomObject, seq: Tag) -> Option<&InMemDicomObject> {
    element(ds, seq)?.items()?.first()
}

/// (SegmentNumber, SegmentLabel) of every segment the object describes.
fn segment_labels(ds: &InMemDicomObject) -> Vec<(u16, String)> {
    let items = element(ds, tags::SEGMENT_SEQUENCE).and_then(|s| s.items());
    items
        .unwrap_or(&[])
        .iter()
        .filter_map(|item| {
            let number = u16_attr(item, tags::SEGMENT_NUMBER)?;
            let label = string(item, tags::SEGMENT_LABEL)
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| format!("segment {number}"));
            Some((number, label))
        })
        .collect()
}

/// The frame's source image (Derivation Image → Source Image): its SOP Instance UID and,
/// for a multi-frame source, the zero-based frame.
fn source_image(group: &InMemDicomObject) -> Option<(String, Option<u32>)> {
    let derivation = first_item(group, tags::DERIVATION_IMAGE_SEQUENCE)?;
    let source = first_item(derivation, tags::SOURCE_IMAGE_SEQUENCE)?;
    let uid = attrs::clean_uid(&string(source, tags::REFERENCED_SOP_INSTANCE_UID)?);
    let frame = element(source, tags::REFERENCED_FRAME_NUMBER)
        .and_then(|e| e.to_int::<u32>().ok())
        .and_then(|n| n.checked_sub(1));
    Some((uid, frame))
}

/// A SEG drawn on exactly one image may name it only in its Referenced Series Sequence.
fn single_referenced_instance(ds: &InMemDicomObject) -> Option<String> {
    let series = element(ds, tags::REFERENCED_SERIES_SEQUENCE)?.items()?;
    let mut uids = series.iter().flat_map(|s| {
        element(s, tags::REFERENCED_INSTANCE_SEQUENCE)
            .and_then(|e| e.items())
            .unwrap_or(&[])
            .iter()
            .filter_map(|i| string(i, tags::REFERENCED_SOP_INSTANCE_UID))
    });
    let first = uids.next()?;
    uids.next().is_none().then(|| attrs::clean_uid(&first))
}

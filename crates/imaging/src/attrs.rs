//! Reading the image attributes of a DICOM data set, leniently but safely.
//!
//! Real files omit defaults, pad strings, repeat windows, or keep spacing/rescale/VOI only in
//! the Enhanced functional groups; this module hides all that behind [`Attrs`]. Nothing
//! patient-identifying is read.

use dicom_core::Tag;
use dicom_core::header::HasLength;
use dicom_dictionary_std::{tags, uids};
use dicom_object::InMemDicomObject;
use dicom_object::mem::InMemElement;
use dicom_transfer_syntax_registry::{TransferSyntaxIndex, TransferSyntaxRegistry};

use crate::ImagingError;

/// How the samples of one frame are laid out.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layout {
    pub rows: u16,
    pub cols: u16,
    /// Samples per pixel: 1 (grey) or 3 (colour).
    pub spp: u16,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub signed: bool,
    /// Colour planes stored one after the other (PlanarConfiguration 1).
    pub planar: bool,
    /// PhotometricInterpretation, trimmed.
    pub photometric: String,
}

impl Layout {
    /// Native bytes of one frame; saturates instead of overflowing on absurd headers.
    pub fn frame_bytes(&self) -> u64 {
        u64::from(self.rows)
            .saturating_mul(self.cols.into())
            .saturating_mul(self.spp.into())
            .saturating_mul(u64::from(self.bits_allocated).div_ceil(8))
    }

    /// Pixels of one frame.
    pub fn pixels(&self) -> usize {
        usize::from(self.rows) * usize::from(self.cols)
    }
}

/// Everything needed to decode and calibrate one frame.
#[derive(Debug, Clone)]
pub(crate) struct Attrs {
    pub layout: Layout,
    pub frames: u32,
    /// (slope, intercept) of the modality LUT; (1, 0) when absent.
    pub rescale: (f64, f64),
    /// First VOI window (centre, width), if the file has one.
    pub window: Option<(f64, f64)>,
    /// PixelSpacing (row, column) in mm.
    pub spacing: Option<(f64, f64)>,
    /// PixelPaddingValue as stored (before rescale).
    pub padding: Option<f64>,
    pub modality: Option<String>,
}

pub(crate) fn element(ds: &InMemDicomObject, tag: Tag) -> Option<&InMemElement> {
    ds.get(tag).filter(|e| !e.value().is_empty())
}

pub(crate) fn string(ds: &InMemDicomObject, tag: Tag) -> Option<String> {
    let s = element(ds, tag)?.to_str().ok()?;
    Some(s.trim_matches(|c: char| c == ' ' || c == '\0').to_string())
}

pub(crate) fn u16_attr(ds: &InMemDicomObject, tag: Tag) -> Option<u16> {
    element(ds, tag)?.uint16().ok()
}

fn floats(e: &InMemElement) -> Option<Vec<f64>> {
    let v = e.to_multi_float64().ok()?;
    (!v.is_empty() && v.iter().all(|x| x.is_finite())).then_some(v)
}

/// Looks `tag` up at top level, then in this frame's and the shared functional groups
/// (Enhanced CT/MR keep spacing, rescale and VOI only there).
fn lookup(ds: &InMemDicomObject, frame: u32, macro_seq: Tag, tag: Tag) -> Option<&InMemElement> {
    if let Some(e) = element(ds, tag) {
        return Some(e);
    }
    let per_frame = element(ds, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE)
        .and_then(|s| s.items())
        .and_then(|items| items.get(frame as usize));
    let shared = element(ds, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE)
        .and_then(|s| s.items())
        .and_then(|items| items.first());
    [per_frame, shared].into_iter().flatten().find_map(|group| {
        element(group, macro_seq)?
            .items()?
            .first()
            .and_then(|item| element(item, tag))
    })
}

/// NumberOfFrames, 1 when absent.
pub(crate) fn frame_count(ds: &InMemDicomObject) -> u32 {
    element(ds, tags::NUMBER_OF_FRAMES)
        .and_then(|e| e.to_int::<i64>().ok())
        .map(|n| n.clamp(1, i64::from(u32::MAX)) as u32)
        .unwrap_or(1)
}

/// Segmentation Storage: its "pixels" are masks (often 1 bit) of frames of another object.
pub(crate) fn is_segmentation(ds: &InMemDicomObject) -> bool {
    string(ds, tags::SOP_CLASS_UID).is_some_and(|uid| clean_uid(&uid) == uids::SEGMENTATION_STORAGE)
        || string(ds, tags::MODALITY).as_deref() == Some("SEG")
}

impl Attrs {
    /// Reads and sanity-checks the attributes; refuses layouts we do not interpret.
    pub fn read(ds: &InMemDicomObject, frame: u32) -> Result<Attrs, ImagingError> {
        let rows = u16_attr(ds, tags::ROWS).ok_or(ImagingError::BadAttribute("Rows"))?;
        let cols = u16_attr(ds, tags::COLUMNS).ok_or(ImagingError::BadAttribute("Columns"))?;
        if rows == 0 || cols == 0 {
            return Err(ImagingError::BadAttribute("Rows/Columns (zero)"));
        }
        if is_segmentation(ds) {
            return Err(ImagingError::Segmentation);
        }
        let spp = u16_attr(ds, tags::SAMPLES_PER_PIXEL).unwrap_or(1);
        let bits_allocated = u16_attr(ds, tags::BITS_ALLOCATED)
            .ok_or(ImagingError::BadAttribute("BitsAllocated"))?;
        if !matches!(bits_allocated, 8 | 16 | 32) {
            return Err(ImagingError::UnsupportedPixelFormat(format!(
                "BitsAllocated {bits_allocated} (only 8, 16 and 32 are read)"
            )));
        }
        let bits_stored = u16_attr(ds, tags::BITS_STORED)
            .filter(|b| (1..=bits_allocated).contains(b))
            .unwrap_or(bits_allocated);
        let signed = u16_attr(ds, tags::PIXEL_REPRESENTATION) == Some(1);
        let photometric = string(ds, tags::PHOTOMETRIC_INTERPRETATION)
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| if spp == 3 { "RGB" } else { "MONOCHROME2" }.into());
        let grey = matches!(photometric.as_str(), "MONOCHROME1" | "MONOCHROME2");
        let colour = matches!(photometric.as_str(), "RGB" | "YBR_FULL" | "YBR_FULL_422")
            || photometric.starts_with("YBR_");
        let palette = photometric == "PALETTE COLOR";
        if !((spp == 1 && (grey || palette)) || (spp == 3 && colour)) {
            return Err(ImagingError::UnsupportedPixelFormat(format!(
                "{photometric} with {spp} sample(s) per pixel"
            )));
        }
        let planar = u16_attr(ds, tags::PLANAR_CONFIGURATION) == Some(1);
        let frames = frame_count(ds);

        let pvt = tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE;
        let slope = lookup(ds, frame, pvt, tags::RESCALE_SLOPE)
            .and_then(floats)
            .map(|v| v[0])
            .filter(|s| *s != 0.0)
            .unwrap_or(1.0);
        let intercept = lookup(ds, frame, pvt, tags::RESCALE_INTERCEPT)
            .and_then(floats)
            .map(|v| v[0])
            .unwrap_or(0.0);
        let voi = tags::FRAME_VOILUT_SEQUENCE;
        let center = lookup(ds, frame, voi, tags::WINDOW_CENTER).and_then(floats);
        let width = lookup(ds, frame, voi, tags::WINDOW_WIDTH).and_then(floats);
        let window = center.zip(width).map(|(c, w)| (c[0], w[0]));
        let spacing = lookup(
            ds,
            frame,
            tags::PIXEL_MEASURES_SEQUENCE,
            tags::PIXEL_SPACING,
        )
        .or_else(|| element(ds, tags::IMAGER_PIXEL_SPACING))
        .and_then(floats)
        .filter(|v| v.len() >= 2 && v[0] > 0.0 && v[1] > 0.0)
        .map(|v| (v[0], v[1]));
        let padding = element(ds, tags::PIXEL_PADDING_VALUE)
            .and_then(|e| e.to_int::<i64>().ok())
            .map(|p| {
                // Implicit VR files may read an SS padding value as US.
                if signed && bits_allocated == 16 && p > 32767 {
                    (p - 65536) as f64
                } else {
                    p as f64
                }
            });
        Ok(Attrs {
            layout: Layout {
                rows,
                cols,
                spp,
                bits_allocated,
                bits_stored,
                signed,
                planar,
                photometric,
            },
            frames,
            rescale: (slope, intercept),
            window,
            spacing,
            padding,
            modality: string(ds, tags::MODALITY).filter(|m| !m.is_empty()),
        })
    }
}

/// A dicom-rs error with its causes, so the message says *what* failed to read.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let part = s.to_string();
        if !msg.contains(&part) {
            msg.push_str(": ");
            msg.push_str(&part);
        }
        src = s.source();
    }
    msg
}

/// UIDs are padded with NUL or space to even length.
pub(crate) fn clean_uid(uid: &str) -> String {
    uid.trim_end_matches(['\0', ' ']).to_string()
}

/// Human name of a transfer syntax; for a UID not in the registry (private or newer than
/// dicom-rs), words that read right in "unsupported transfer syntax … (UID)".
pub(crate) fn ts_name(uid: &str) -> String {
    TransferSyntaxRegistry
        .get(uid)
        .map(|t| t.name().to_string())
        .unwrap_or_else(|| "of a kind this app does not know".into())
}

/// The two-letter VRs of PS3.5 (used only to sniff explicit-VR data sets without meta).
pub(crate) fn is_known_vr(vr: [u8; 2]) -> bool {
    const VRS: [&[u8; 2]; 34] = [
        b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT", b"OB",
        b"OD", b"OF", b"OL", b"OV", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST", b"SV", b"TM",
        b"UC", b"UI", b"UL", b"UN", b"UR", b"US", b"UT", b"UV",
    ];
    VRS.iter().any(|v| **v == vr)
}

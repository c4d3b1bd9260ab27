//! DICOM objects: recognising them (with or without preamble/file meta), parsing with
//! dicom-rs, and turning one frame into a calibrated [`Slice`].
//!
//! Attributes are read here, checked for sanity and size *before* any pixel buffer exists;
//! the codec step lives in `codec.rs` and the sample arithmetic in `pixels.rs`.

use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{InMemDicomObject, OpenFileOptions};
use dicom_transfer_syntax_registry::entries;

use crate::attrs::{self, Attrs};
use crate::codec;
use crate::limits::check_dimensions;
use crate::palette::Palette;
use crate::slice::{Photometric, Slice, Source, Spacing, Units};
use crate::window::{Preset, Window};
use crate::{DecodeOptions, ImagingError};

/// Where the data set starts and how it is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// 128-byte preamble + "DICM" + file meta.
    Preamble,
    /// "DICM" + file meta, no preamble.
    MagicOnly,
    /// A bare data set (no meta): the transfer syntax must be guessed.
    Bare {
        /// Explicit VR (else implicit), both little endian.
        explicit: bool,
    },
}

/// Recognises DICOM, including bare data sets such as `rtstruct.dcm` that start straight with
/// a (0008,xxxx) element: the first tag must be a low even group and the length plausible.
pub(crate) fn sniff(bytes: &[u8]) -> Option<Framing> {
    if bytes.get(128..132) == Some(b"DICM") {
        return Some(Framing::Preamble);
    }
    if bytes.get(0..4) == Some(b"DICM") {
        return Some(Framing::MagicOnly);
    }
    let head = bytes.get(0..8)?;
    let group = u16::from_le_bytes([head[0], head[1]]);
    if group % 2 != 0 || !(0x0002..=0x0010).contains(&group) {
        return None;
    }
    let vr = [head[4], head[5]];
    if vr.iter().all(u8::is_ascii_uppercase) && attrs::is_known_vr(vr) {
        return Some(Framing::Bare { explicit: true });
    }
    let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    (len == 0xFFFF_FFFF || len <= bytes.len() - 8).then_some(Framing::Bare { explicit: false })
}

/// A parsed object and what is known about its encoding.
pub(crate) struct Parsed {
    pub obj: Obj,
    pub ts_uid: String,
    pub ts_name: String,
}

/// File objects carry their meta (needed by the codecs); bare data sets do not.
pub(crate) enum Obj {
    File(Box<dicom_object::DefaultDicomObject>),
    Bare(InMemDicomObject),
}

impl Obj {
    pub(crate) fn dataset(&self) -> &InMemDicomObject {
        match self {
            Obj::File(f) => f,
            Obj::Bare(b) => b,
        }
    }
}

fn parse_with(bytes: &[u8], framing: Framing) -> Result<Parsed, ImagingError> {
    match framing {
        Framing::Preamble | Framing::MagicOnly => {
            let start = if framing == Framing::Preamble { 128 } else { 0 };
            let mut obj = OpenFileOptions::new()
                .read_preamble(ReadPreamble::Never)
                .from_reader(&bytes[start..])
                .map_err(|e| match e {
                    // A UID dicom-rs has never heard of (private, or newer than its registry)
                    // is an encoding we cannot read, not a broken file: say which.
                    dicom_object::ReadError::ReadUnrecognizedTransferSyntax { uid, .. } => {
                        let uid = attrs::clean_uid(&uid);
                        ImagingError::UnsupportedTransferSyntax {
                            name: attrs::ts_name(&uid),
                            uid,
                        }
                    }
                    e => ImagingError::InvalidDicom(attrs::error_chain(&e)),
                })?;
            crate::unknown_vr::resolve(&mut obj).map_err(ImagingError::InvalidDicom)?;
            let ts_uid = attrs::clean_uid(&obj.meta().transfer_syntax);
            let ts_name = attrs::ts_name(&ts_uid);
            Ok(Parsed {
                obj: Obj::File(Box::new(obj)),
                ts_uid,
                ts_name,
            })
        }
        Framing::Bare { explicit } => {
            let ts = if explicit {
                entries::EXPLICIT_VR_LITTLE_ENDIAN.erased()
            } else {
                entries::IMPLICIT_VR_LITTLE_ENDIAN.erased()
            };
            let mut obj = InMemDicomObject::read_dataset_with_ts(bytes, &ts)
                .map_err(|e| ImagingError::InvalidDicom(attrs::error_chain(&e)))?;
            crate::unknown_vr::resolve(&mut obj).map_err(ImagingError::InvalidDicom)?;
            Ok(Parsed {
                obj: Obj::Bare(obj),
                ts_uid: ts.uid().to_string(),
                ts_name: ts.name().to_string(),
            })
        }
    }
}

/// Parses the object after the bounds walk (see `prescan/mod.rs`), so dicom-rs never sees a
/// length that runs past the end of the bytes.
pub(crate) fn parse(bytes: &[u8], framing: Framing) -> Result<Parsed, ImagingError> {
    match framing {
        Framing::Preamble => crate::prescan::check(bytes, 128, true, true)?,
        Framing::MagicOnly => crate::prescan::check(bytes, 0, true, true)?,
        Framing::Bare { explicit } => crate::prescan::check(bytes, 0, false, explicit)?,
    }
    parse_with(bytes, framing)
}

/// Decodes frame `opts.frame` of a DICOM object into a calibrated slice.
pub(crate) fn decode(
    bytes: &[u8],
    framing: Framing,
    opts: &DecodeOptions,
) -> Result<Slice, ImagingError> {
    let parsed = parse(bytes, framing)?;
    let ds = parsed.obj.dataset();
    let has_pixels = [
        tags::PIXEL_DATA,
        tags::FLOAT_PIXEL_DATA,
        tags::DOUBLE_FLOAT_PIXEL_DATA,
    ]
    .iter()
    .any(|t| ds.get(*t).is_some());
    if !has_pixels {
        let what = attrs::string(ds, tags::MODALITY)
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "this DICOM object".to_string());
        return Err(ImagingError::NotAnImage { what });
    }
    if ds.get(tags::PIXEL_DATA).is_none() {
        return Err(ImagingError::UnsupportedPixelFormat(
            "floating-point pixel data".into(),
        ));
    }
    let a = Attrs::read(ds, opts.frame)?;
    check_dimensions(a.layout.cols.into(), a.layout.rows.into(), a.frames.into())?;
    if opts.frame >= a.frames {
        return Err(ImagingError::FrameOutOfRange {
            requested: opts.frame,
            count: a.frames,
        });
    }
    let (mut stored, layout) = codec::frame_values(&parsed, &a, opts.frame)?;
    let palette = layout.photometric == "PALETTE COLOR";
    if palette {
        stored = Palette::read(ds, a.layout.signed)?.apply(&stored);
    }
    // A palette image's values are indices: no modality LUT applies to them.
    let (slope, intercept) = if palette { (1.0, 0.0) } else { a.rescale };
    let values: Vec<f32> = stored
        .iter()
        .map(|&v| (f64::from(v) * slope + intercept) as f32)
        .collect();
    let padding_value = a.padding.map(|p| (p * slope + intercept) as f32);
    let is_ct = a.modality.as_deref() == Some("CT");
    let photometric = match layout.photometric.as_str() {
        "MONOCHROME1" => Photometric::Monochrome1,
        "MONOCHROME2" => Photometric::Monochrome2,
        _ => Photometric::ColourAsLuminance,
    };
    let mut slice = Slice {
        pixels: values,
        width: layout.cols.into(),
        height: layout.rows.into(),
        spacing: a.spacing.map(|(row, col)| Spacing {
            x_mm: col as f32,
            y_mm: row as f32,
        }),
        modality: a.modality.clone(),
        units: if is_ct {
            Units::Hounsfield
        } else {
            Units::Modality
        },
        window: Preset::Lung.window(),
        photometric,
        frame: opts.frame,
        frame_count: a.frames,
        padding_value,
        source: Source::Dicom {
            transfer_syntax: parsed.ts_name.clone(),
            transfer_syntax_uid: parsed.ts_uid.clone(),
            has_file_meta: matches!(parsed.obj, Obj::File(_)),
            bits_allocated: a.layout.bits_allocated,
            bits_stored: a.layout.bits_stored,
            signed: a.layout.signed,
        },
        sop_instance_uid: attrs::string(ds, tags::SOP_INSTANCE_UID)
            .map(|uid| attrs::clean_uid(&uid))
            .filter(|uid| !uid.is_empty()),
    };
    // A VOI window describes stored values; a palette's are colours already.
    let file_window = a.window.filter(|_| !palette);
    slice.window = match file_window {
        Some((center, width)) if width >= 1.0 => Window {
            center: center as f32,
            width: width as f32,
        },
        _ if is_ct => Preset::Lung.window(),
        _ => slice
            .value_range()
            .map(|(lo, hi)| Window::full_range(lo, hi))
            .unwrap_or(Window::full_range(0.0, 1.0)),
    };
    Ok(slice)
}

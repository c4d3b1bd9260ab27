//! From the PixelData element to one frame of stored sample values.
//!
//! Native data is sliced by hand (so truncation is reported with byte counts); encapsulated
//! frames go to RLE (ours), jpeg-decoder, hayro-jpeg2000 or pure_jpegls only after their headers have been
//! checked against Rows/Columns/SamplesPerPixel, because a mismatch makes those decoders (or
//! dicom-rs's adapters around them) write out of bounds.

use std::borrow::Cow;

use dicom_core::value::{PixelFragmentSequence, Value};
use dicom_dictionary_std::tags;

use crate::ImagingError;
use crate::attrs::{Attrs, Layout};
use crate::dicom::Parsed;
use crate::limits::MAX_DECODED_BYTES;
use crate::pixels::{to_grey, unpack};
use crate::rle;

/// Which decoder a transfer syntax needs.
enum Kind {
    Native,
    Rle,
    Jpeg,
    Jpeg2000,
    JpegLs,
    Unsupported,
}

fn kind(uid: &str) -> Kind {
    match uid {
        // Implicit/explicit LE, explicit BE, deflated, encapsulated uncompressed.
        "1.2.840.10008.1.2"
        | "1.2.840.10008.1.2.1"
        | "1.2.840.10008.1.2.2"
        | "1.2.840.10008.1.2.1.99"
        | "1.2.840.10008.1.2.1.98" => Kind::Native,
        "1.2.840.10008.1.2.5" => Kind::Rle,
        "1.2.840.10008.1.2.4.50"
        | "1.2.840.10008.1.2.4.51"
        | "1.2.840.10008.1.2.4.57"
        | "1.2.840.10008.1.2.4.70" => Kind::Jpeg,
        "1.2.840.10008.1.2.4.90" | "1.2.840.10008.1.2.4.91" => Kind::Jpeg2000,
        "1.2.840.10008.1.2.4.80" | "1.2.840.10008.1.2.4.81" => Kind::JpegLs,
        // No pure-Rust decoder that builds for wasm32 (JPEG XL, HTJ2K, MPEG/HEVC video, ...).
        _ => Kind::Unsupported,
    }
}

/// Whether frames of this transfer syntax are stored as plain samples (no codec).
pub(crate) fn is_native(uid: &str) -> bool {
    matches!(kind(uid), Kind::Native)
}

fn decode_err(format: &'static str, reason: impl ToString) -> ImagingError {
    ImagingError::Decode {
        format,
        reason: reason.to_string(),
    }
}

/// One grey value per pixel, in stored units (before the modality LUT), and the layout the
/// values now have (colour codecs output RGB).
pub(crate) fn frame_values(
    parsed: &Parsed,
    a: &Attrs,
    frame: u32,
) -> Result<(Vec<f32>, Layout), ImagingError> {
    let ds = parsed.obj.dataset();
    let pixel_data = ds
        .get(tags::PIXEL_DATA)
        .ok_or(ImagingError::BadAttribute("PixelData"))?;
    let layout = &a.layout;
    let kind = kind(&parsed.ts_uid);
    if matches!(kind, Kind::Unsupported) {
        return Err(ImagingError::UnsupportedTransferSyntax {
            name: parsed.ts_name.clone(),
            uid: parsed.ts_uid.clone(),
        });
    }
    match pixel_data.value() {
        Value::Primitive(p) => native(&p.to_bytes(), layout, a.frames, frame),
        Value::PixelSequence(seq) => {
            let data = encoded_frame(seq, a.frames, frame)?;
            match kind {
                Kind::Native => native(&data, layout, 1, 0),
                Kind::Rle => {
                    let bytes = rle::decode_frame(&data, layout)?;
                    let mut l = layout.clone();
                    l.planar = false;
                    let width = usize::from(layout.bits_allocated / 8);
                    Ok((to_grey(unpack(&bytes, width, &l), &l), l))
                }
                Kind::Jpeg => jpeg(&data, layout),
                Kind::Jpeg2000 => jpeg2000(&data, layout),
                Kind::JpegLs => jpeg_ls(&data, layout),
                Kind::Unsupported => unreachable!("refused above"),
            }
        }
        Value::Sequence(_) => Err(ImagingError::InvalidDicom(
            "PixelData holds a sequence of items, not pixels".into(),
        )),
    }
}

/// Slices frame `frame` out of native pixel data after checking that every frame is present.
fn native(
    bytes: &[u8],
    layout: &Layout,
    frames: u32,
    frame: u32,
) -> Result<(Vec<f32>, Layout), ImagingError> {
    if layout.spp == 3 && layout.photometric == "YBR_FULL_422" {
        return Err(ImagingError::UnsupportedPixelFormat(
            "uncompressed YBR_FULL_422 (chroma-subsampled) pixels".into(),
        ));
    }
    let frame_bytes = layout.frame_bytes();
    let expected = frame_bytes.saturating_mul(frames.into());
    let found = bytes.len() as u64;
    if found < expected {
        return Err(ImagingError::Truncated { expected, found });
    }
    let start = (frame_bytes * u64::from(frame)) as usize;
    let data = &bytes[start..start + frame_bytes as usize];
    let width = usize::from(layout.bits_allocated / 8);
    Ok((to_grey(unpack(data, width, layout), layout), layout.clone()))
}

/// The encoded bytes of one frame: one fragment per frame, all fragments for a single frame,
/// or the fragments the Basic Offset Table assigns to it.
fn encoded_frame(
    seq: &PixelFragmentSequence<Vec<u8>>,
    frames: u32,
    frame: u32,
) -> Result<Cow<'_, [u8]>, ImagingError> {
    let frags = seq.fragments();
    let missing = || decode_err("encapsulated", format!("no fragment holds frame {frame}"));
    if frags.len() == frames as usize {
        return frags
            .get(frame as usize)
            .map(|f| Cow::from(&f[..]))
            .ok_or_else(missing);
    }
    if frames == 1 {
        return Ok(Cow::Owned(frags.concat()));
    }
    let table = seq.offset_table();
    let begin = *table.get(frame as usize).ok_or_else(missing)? as usize;
    let end = table.get(frame as usize + 1).map(|&e| e as usize);
    let (mut offset, mut out) = (0usize, Vec::new());
    for f in frags {
        if offset >= begin && end.is_none_or(|e| offset < e) {
            out.extend_from_slice(f);
        }
        offset = offset.saturating_add(f.len() + 8);
    }
    if out.is_empty() {
        return Err(missing());
    }
    Ok(Cow::Owned(out))
}

fn size_mismatch(format: &'static str, w: u64, h: u64, c: u64, layout: &Layout) -> ImagingError {
    decode_err(
        format,
        format!(
            "the codestream is {w}×{h} with {c} component(s) but the header says {}×{} with {}",
            layout.cols, layout.rows, layout.spp
        ),
    )
}

/// JPEG baseline/extended/lossless through jpeg-decoder, after its header is checked.
fn jpeg(data: &[u8], layout: &Layout) -> Result<(Vec<f32>, Layout), ImagingError> {
    let mut dec = jpeg_decoder::Decoder::new(data);
    dec.set_max_decoding_buffer_size(MAX_DECODED_BYTES as usize);
    dec.read_info().map_err(|e| decode_err("JPEG", e))?;
    let info = dec
        .info()
        .ok_or_else(|| decode_err("JPEG", "no frame header"))?;
    let comps = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 | jpeg_decoder::PixelFormat::L16 => 1,
        jpeg_decoder::PixelFormat::RGB24 => 3,
        jpeg_decoder::PixelFormat::CMYK32 => 4,
    };
    let (w, h) = (u64::from(info.width), u64::from(info.height));
    if (w, h, comps) != (layout.cols.into(), layout.rows.into(), layout.spp.into()) {
        return Err(size_mismatch("JPEG", w, h, comps, layout));
    }
    let out = dec.decode().map_err(|e| decode_err("JPEG", e))?;
    let samples = layout.pixels() * usize::from(layout.spp);
    let width = out.len() / samples.max(1);
    if !(width == 1 || width == 2) || out.len() != samples * width {
        return Err(decode_err("JPEG", "decoded size does not match the header"));
    }
    let mut l = layout.clone();
    l.planar = false;
    if l.spp == 3 {
        // jpeg-decoder converts YCbCr to RGB.
        l.photometric = "RGB".into();
    }
    Ok((to_grey(unpack(&out, width, &l), &l), l))
}

/// JPEG-LS (lossless or near-lossless) through pure_jpegls, which decodes one grey component
/// and itself checks the frame size against ours before allocating.
fn jpeg_ls(data: &[u8], layout: &Layout) -> Result<(Vec<f32>, Layout), ImagingError> {
    if layout.spp != 1 {
        return Err(ImagingError::UnsupportedPixelFormat(
            "colour JPEG-LS (only grey JPEG-LS images can be decoded)".into(),
        ));
    }
    let (values, w, h) = jpegls::decode(data, layout.cols.into(), layout.rows.into())
        .map_err(|e| decode_err("JPEG-LS", e))?;
    if (w, h) != (layout.cols.into(), layout.rows.into()) || values.len() != layout.pixels() {
        return Err(decode_err(
            "JPEG-LS",
            "decoded size does not match the header",
        ));
    }
    let samples = values
        .into_iter()
        .map(|v| crate::pixels::reinterpret(i32::from(v), layout))
        .collect();
    Ok((samples, layout.clone()))
}

/// What the J2K SIZ marker (PS3.5 A.4.4 / T.800 A.5.1) says, found in a raw codestream or
/// inside a JP2 wrapper: checked against the DICOM header before anything is decoded.
struct J2kSize {
    width: u64,
    height: u64,
    /// Per component: (signed, precision in bits).
    components: Vec<(bool, u8)>,
    /// No component is subsampled (DICOM's Rows/Columns hold for every plane).
    unsampled: bool,
}

fn j2k_size(data: &[u8]) -> Option<J2kSize> {
    let at = data
        .windows(4)
        .position(|w| w == [0xFF, 0x4F, 0xFF, 0x51])?
        + 4;
    let s = data.get(at..at + 38)?;
    let be32 = |i: usize| u64::from(u32::from_be_bytes([s[i], s[i + 1], s[i + 2], s[i + 3]]));
    let (x, y, xo, yo) = (be32(4), be32(8), be32(12), be32(16));
    let comps = usize::from(u16::from_be_bytes([s[36], s[37]]));
    let sub = data.get(at + 38..at + 38 + 3 * comps)?;
    Some(J2kSize {
        width: x.checked_sub(xo)?,
        height: y.checked_sub(yo)?,
        components: sub
            .chunks_exact(3)
            .map(|c| (c[0] & 0x80 != 0, (c[0] & 0x7F) + 1))
            .collect(),
        unsampled: sub.chunks_exact(3).all(|c| c[1] == 1 && c[2] == 1),
    })
}

/// JPEG 2000 through hayro-jpeg2000 (pure Rust, both targets), after the SIZ marker is checked.
///
/// hayro returns each component as f32 at its own precision with the unsigned DC level shift
/// always added (it ignores SIZ's sign bit), so signed components get the shift taken off here.
/// Lossy (9/7) samples are rounded and clamped to the component's range, as OpenJPEG does.
fn jpeg2000(data: &[u8], layout: &Layout) -> Result<(Vec<f32>, Layout), ImagingError> {
    let err = |reason: &str| decode_err("JPEG 2000", reason);
    let siz = j2k_size(data).ok_or_else(|| err("no image size (SIZ) marker"))?;
    let comps = siz.components.len() as u64;
    let header = (layout.cols.into(), layout.rows.into(), layout.spp.into());
    if (siz.width, siz.height, comps) != header || !siz.unsampled {
        return Err(size_mismatch(
            "JPEG 2000",
            siz.width,
            siz.height,
            comps,
            layout,
        ));
    }
    if siz.components.iter().any(|&(_, bits)| bits > 16) {
        return Err(err("components deeper than 16 bits"));
    }
    let settings = hayro_jpeg2000::DecodeSettings {
        resolve_palette_indices: false,
        strict: false,
        target_resolution: None,
    };
    let image =
        hayro_jpeg2000::Image::new(data, &settings).map_err(|e| decode_err("JPEG 2000", e))?;
    let mut context = hayro_jpeg2000::DecoderContext::default();
    let decoded = image
        .decode(&mut context)
        .map_err(|e| decode_err("JPEG 2000", e))?;
    let n = layout.pixels();
    let planes: Vec<&[f32]> = decoded.components().iter().map(|c| c.samples()).collect();
    if planes.len() != siz.components.len() || planes.iter().any(|p| p.len() != n) {
        return Err(err("decoded size does not match the header"));
    }
    let ranges: Vec<(f32, f32, f32)> = siz
        .components
        .iter()
        .map(|&(signed, bits)| {
            let half = f32::from(1u16 << (bits - 1));
            let top = 2.0 * half - 1.0;
            if signed {
                (half, -half, half - 1.0)
            } else {
                (0.0, 0.0, top)
            }
        })
        .collect();
    let mut samples = Vec::with_capacity(n * planes.len());
    for p in 0..n {
        for (plane, &(shift, lo, hi)) in planes.iter().zip(&ranges) {
            let value = (plane[p] - shift).round().clamp(lo, hi) as i32;
            samples.push(crate::pixels::reinterpret(value, layout));
        }
    }
    let mut l = layout.clone();
    l.planar = false;
    if l.spp == 3 {
        // The decoder undoes the irreversible/reversible colour transform: planes are RGB.
        l.photometric = "RGB".into();
    }
    Ok((to_grey(samples, &l), l))
}

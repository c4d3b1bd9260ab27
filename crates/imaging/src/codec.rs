//! From the PixelData element to one frame of stored sample values.
//!
//! Native data is sliced by hand (so truncation is reported with byte counts); encapsulated
//! frames go to RLE (ours), jpeg-decoder or openjp2 only after their headers have been
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
        // JPEG-LS (.80/.81): the only decoder dicom-rs offers is CharLS (C++), which does not
        // build for wasm32-unknown-unknown. Everything else (JPEG XL, HTJ2K, video) likewise.
        _ => Kind::Unsupported,
    }
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
                #[cfg(target_arch = "wasm32")]
                Kind::Jpeg2000 => Err(ImagingError::UnsupportedTransferSyntax {
                    name: format!(
                        "{} (not available in the browser build yet)",
                        parsed.ts_name
                    ),
                    uid: parsed.ts_uid.clone(),
                }),
                #[cfg(not(target_arch = "wasm32"))]
                Kind::Jpeg2000 => jpeg2000(&data, layout),
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

/// Image size and component count from the J2K SIZ marker (PS3.5 A.4.4 / T.800 A.5.1),
/// found in a raw codestream or inside a JP2 wrapper.
#[cfg(not(target_arch = "wasm32"))]
fn j2k_size(data: &[u8]) -> Option<(u64, u64, u64, bool)> {
    let at = data
        .windows(4)
        .position(|w| w == [0xFF, 0x4F, 0xFF, 0x51])?
        + 4;
    let s = data.get(at..at + 38)?;
    let be32 = |i: usize| u64::from(u32::from_be_bytes([s[i], s[i + 1], s[i + 2], s[i + 3]]));
    let (x, y, xo, yo) = (be32(4), be32(8), be32(12), be32(16));
    let comps = u64::from(u16::from_be_bytes([s[36], s[37]]));
    let sub = data.get(at + 38..at + 38 + 3 * comps as usize)?;
    let unsampled = sub.chunks_exact(3).all(|c| c[1] == 1 && c[2] == 1);
    Some((x.checked_sub(xo)?, y.checked_sub(yo)?, comps, unsampled))
}

/// JPEG 2000 through openjp2 (pure Rust), after the SIZ marker is checked. Native only (see
/// Cargo.toml): the browser build refuses the transfer syntax instead.
#[cfg(not(target_arch = "wasm32"))]
fn jpeg2000(data: &[u8], layout: &Layout) -> Result<(Vec<f32>, Layout), ImagingError> {
    let (w, h, comps, unsampled) =
        j2k_size(data).ok_or_else(|| decode_err("JPEG 2000", "no image size (SIZ) marker"))?;
    if (w, h, comps) != (layout.cols.into(), layout.rows.into(), layout.spp.into()) || !unsampled {
        return Err(size_mismatch("JPEG 2000", w, h, comps, layout));
    }
    let params = jpeg2k::DecodeParameters::new().strict(true);
    let img =
        jpeg2k::Image::from_bytes_with(data, params).map_err(|e| decode_err("JPEG 2000", e))?;
    let components = img.components();
    let n = layout.pixels();
    let ok = components.len() == usize::from(layout.spp)
        && components
            .iter()
            .all(|c| u64::from(c.width()) * u64::from(c.height()) == n as u64);
    if !ok {
        return Err(decode_err(
            "JPEG 2000",
            "decoded size does not match the header",
        ));
    }
    let mut samples = Vec::with_capacity(n * components.len());
    let planes: Vec<&[i32]> = components.iter().map(|c| c.data()).collect();
    for p in 0..n {
        for plane in &planes {
            samples.push(crate::pixels::reinterpret(plane[p], layout));
        }
    }
    let mut l = layout.clone();
    l.planar = false;
    if l.spp == 3 {
        // openjp2 undoes the irreversible/reversible colour transform: planes are RGB.
        l.photometric = "RGB".into();
    }
    Ok((to_grey(samples, &l), l))
}

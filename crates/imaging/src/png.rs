//! PNG and JPEG files (what viewers and screenshot tools export) through the `image` crate.
//!
//! Grey levels are kept as stored (8- or 16-bit), so a 16-bit PNG written as HU+1024 keeps
//! its calibration and can be re-labelled with [`crate::Slice::rescale`]. Colour (RGB/RGBA,
//! and palette, which the decoder expands to RGB) becomes Rec. 601 luminance, the weighting
//! DICOM uses for YBR; alpha is ignored because such exports use it only as "opaque".

use std::io::Cursor;

use image::codecs::jpeg::JpegDecoder;
use image::codecs::png::PngDecoder;
use image::{DynamicImage, ImageDecoder, Limits};

use crate::ImagingError;
use crate::limits::{MAX_DECODED_BYTES, check_dimensions};
use crate::pixels::luminance;
use crate::slice::{Photometric, Slice, Source, Units};
use crate::window::Window;

/// Decodes a PNG file (any colour type and bit depth the format allows).
pub(crate) fn decode_png(bytes: &[u8]) -> Result<Slice, ImagingError> {
    let dec = PngDecoder::new(Cursor::new(bytes)).map_err(|e| codec_error("PNG", e))?;
    let img = load(dec, "PNG")?;
    // IHDR colour type 3 = indexed; the decoder has already expanded it, so say so here.
    let palette = bytes.get(25) == Some(&3);
    let bit_depth = bytes.get(24).copied().unwrap_or(8);
    let color = if palette {
        "Palette".to_string()
    } else {
        format!("{:?}", img.color())
    };
    Ok(to_slice(img, Source::Png { bit_depth, color }))
}

/// Decodes a baseline or progressive JPEG file (not JPEG lossless: that only occurs inside DICOM).
pub(crate) fn decode_jpeg(bytes: &[u8]) -> Result<Slice, ImagingError> {
    let dec = JpegDecoder::new(Cursor::new(bytes)).map_err(|e| codec_error("JPEG", e))?;
    let img = load(dec, "JPEG")?;
    Ok(to_slice(img, Source::Jpeg))
}

/// Checks the header's dimensions before any pixel buffer exists, then decodes under limits.
fn load<D: ImageDecoder>(mut dec: D, format: &'static str) -> Result<DynamicImage, ImagingError> {
    let (w, h) = dec.dimensions();
    check_dimensions(w.into(), h.into(), 1)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    dec.set_limits(limits).map_err(|e| codec_error(format, e))?;
    DynamicImage::from_decoder(dec).map_err(|e| codec_error(format, e))
}

fn codec_error(format: &'static str, e: image::ImageError) -> ImagingError {
    match e {
        image::ImageError::Limits(_) => ImagingError::Decode {
            format,
            reason: "the image needs more memory than allowed".into(),
        },
        other => ImagingError::Decode {
            format,
            reason: other.to_string(),
        },
    }
}

/// Converts any decoded layout to one f32 value per pixel plus a display polarity.
fn to_slice(img: DynamicImage, source: Source) -> Slice {
    let (width, height) = (img.width(), img.height());
    let (pixels, grey, max): (Vec<f32>, bool, f32) = match img {
        DynamicImage::ImageLuma8(b) => (b.iter().map(|&v| v.into()).collect(), true, 255.0),
        DynamicImage::ImageLumaA8(b) => (b.pixels().map(|p| p.0[0].into()).collect(), true, 255.0),
        DynamicImage::ImageLuma16(b) => (b.iter().map(|&v| v.into()).collect(), true, 65535.0),
        DynamicImage::ImageLumaA16(b) => {
            (b.pixels().map(|p| p.0[0].into()).collect(), true, 65535.0)
        }
        DynamicImage::ImageRgb8(b) => rgb(b.pixels().map(|p| [p.0[0], p.0[1], p.0[2]]), 255.0),
        DynamicImage::ImageRgba8(b) => rgb(b.pixels().map(|p| [p.0[0], p.0[1], p.0[2]]), 255.0),
        DynamicImage::ImageRgb16(b) => rgb(b.pixels().map(|p| [p.0[0], p.0[1], p.0[2]]), 65535.0),
        DynamicImage::ImageRgba16(b) => rgb(b.pixels().map(|p| [p.0[0], p.0[1], p.0[2]]), 65535.0),
        other => {
            let l = other.to_luma32f();
            (l.iter().copied().collect(), true, 1.0)
        }
    };
    let mut slice = Slice {
        pixels,
        width,
        height,
        spacing: None,
        modality: None,
        units: Units::Raw,
        window: Window::full_range(0.0, max),
        photometric: if grey {
            Photometric::Monochrome2
        } else {
            Photometric::ColourAsLuminance
        },
        frame: 0,
        frame_count: 1,
        sop_instance_uid: None,
        padding_value: None,
        source,
    };
    // 16-bit greys rarely use the full 0..65535 range (CT exports use ~0..4000): show the data.
    if max > 255.0
        && let Some((lo, hi)) = slice.value_range()
    {
        slice.window = Window::full_range(lo, hi);
    }
    slice
}

/// Luminance of RGB samples; an all-grey image (a grey palette, a grey screenshot) is
/// reported as grey so the UI does not call it colour.
fn rgb<T: Into<f32> + Copy + PartialEq>(
    it: impl Iterator<Item = [T; 3]>,
    max: f32,
) -> (Vec<f32>, bool, f32) {
    let mut grey = true;
    let v = it
        .map(|[r, g, b]| {
            grey &= r == g && g == b;
            luminance(r.into(), g.into(), b.into())
        })
        .collect();
    (v, grey, max)
}

//! Sample arithmetic: bytes → stored values (bit masking, sign extension) → one grey value
//! per pixel.
//!
//! BitsStored < BitsAllocated is masked (the spare high bits may hold overlays or garbage)
//! and sign-extended from the stored high bit, as PS3.5 8.1.1 prescribes; 693_UNCI.dcm
//! (14-bit signed) exercises this.

use crate::attrs::Layout;

/// Interprets one little-endian sample of `width` bytes under `bits_stored`/`signed`.
fn sample(raw: u32, bits_stored: u16, signed: bool) -> f32 {
    let bits = u32::from(bits_stored.clamp(1, 32));
    let mask = if bits == 32 {
        u32::MAX
    } else {
        (1u32 << bits) - 1
    };
    let v = raw & mask;
    if signed && bits < 32 && v & (1 << (bits - 1)) != 0 {
        (i64::from(v) - (1i64 << bits)) as f32
    } else if signed && bits == 32 {
        v as i32 as f32
    } else {
        v as f32
    }
}

/// Unpacks little-endian samples of `width` bytes (1, 2 or 4) into stored values.
pub(crate) fn unpack(bytes: &[u8], width: usize, layout: &Layout) -> Vec<f32> {
    let (bits, signed) = (layout.bits_stored.min((width * 8) as u16), layout.signed);
    match width {
        1 => bytes
            .iter()
            .map(|&b| sample(b.into(), bits, signed))
            .collect(),
        2 => bytes
            .chunks_exact(2)
            .map(|c| sample(u16::from_le_bytes([c[0], c[1]]).into(), bits, signed))
            .collect(),
        _ => bytes
            .chunks_exact(4)
            .map(|c| sample(u32::from_le_bytes([c[0], c[1], c[2], c[3]]), bits, signed))
            .collect(),
    }
}

/// Stored values from a codec that already produced integers (JPEG 2000, JPEG-LS): re-applied to the
/// DICOM BitsStored/PixelRepresentation so a codestream that disagrees on signedness still
/// yields the values the header describes.
pub(crate) fn reinterpret(v: i32, layout: &Layout) -> f32 {
    sample(v as u32, layout.bits_stored, layout.signed)
}

/// Rec. 601 luminance: how every colour image (RGB, PNG, palette) becomes the grey a model reads.
pub(crate) fn luminance(r: f32, g: f32, b: f32) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}

/// One grey value per pixel: the sample itself, RGB luminance (Rec. 601), or the Y of YBR.
/// `samples` holds `pixels * spp` values, interleaved unless `layout.planar`.
pub(crate) fn to_grey(samples: Vec<f32>, layout: &Layout) -> Vec<f32> {
    if layout.spp == 1 {
        return samples;
    }
    let n = layout.pixels();
    let at = |p: usize, c: usize| {
        let i = if layout.planar { c * n + p } else { p * 3 + c };
        samples.get(i).copied().unwrap_or(0.0)
    };
    if layout.photometric.starts_with("YBR") {
        (0..n).map(|p| at(p, 0)).collect()
    } else {
        (0..n)
            .map(|p| luminance(at(p, 0), at(p, 1), at(p, 2)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(bits_stored: u16, signed: bool) -> Layout {
        Layout {
            rows: 1,
            cols: 2,
            spp: 1,
            bits_allocated: 16,
            bits_stored,
            signed,
            planar: false,
            photometric: "MONOCHROME2".into(),
        }
    }

    #[test]
    fn twelve_bit_unsigned_ignores_high_bits() {
        // 0xF123 with 12 bits stored: the top nibble is overlay garbage.
        assert_eq!(
            unpack(&[0x23, 0xF1], 2, &layout(12, false)),
            vec![0x123 as f32]
        );
    }

    #[test]
    fn fourteen_bit_signed_sign_extends() {
        // -2971 in 14-bit two's complement, sign-extended to 16 bits as in 693_UNCI.
        let raw = (-2971i16) as u16;
        assert_eq!(
            unpack(&raw.to_le_bytes(), 2, &layout(14, true)),
            vec![-2971.0]
        );
        // Same bits but only 14 stored and the top two bits zero: still -2971.
        let raw14 = raw & 0x3FFF;
        assert_eq!(
            unpack(&raw14.to_le_bytes(), 2, &layout(14, true)),
            vec![-2971.0]
        );
    }

    #[test]
    fn jpeg2000_unsigned_codestream_follows_dicom_signedness() {
        assert_eq!(reinterpret(65535, &layout(16, true)), -1.0);
        assert_eq!(reinterpret(-1, &layout(16, false)), 65535.0);
    }

    #[test]
    fn rgb_becomes_luminance_and_ybr_its_y() {
        let mut l = layout(8, false);
        l.spp = 3;
        l.photometric = "RGB".into();
        let g = to_grey(vec![255.0, 0.0, 0.0, 10.0, 10.0, 10.0], &l);
        assert!((g[0] - 76.245).abs() < 1e-3 && (g[1] - 10.0).abs() < 1e-4);
        l.photometric = "YBR_FULL".into();
        l.planar = true;
        assert_eq!(
            to_grey(vec![1.0, 2.0, 9.0, 9.0, 9.0, 9.0], &l),
            vec![1.0, 2.0]
        );
    }
}

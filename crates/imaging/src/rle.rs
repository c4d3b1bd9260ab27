//! DICOM RLE Lossless (PS3.5 Annex G), decoded here rather than by dicom-pixeldata because
//! its adapter indexes the 64-byte header and the segments without bounds checks.
//!
//! Every offset and every segment length is checked, so a damaged file yields an error that
//! names the problem instead of aborting the page.

use crate::ImagingError;
use crate::attrs::Layout;

fn err(reason: String) -> ImagingError {
    ImagingError::Decode {
        format: "RLE",
        reason,
    }
}

/// PackBits into exactly `out.len()` bytes; returns how many were produced.
fn unpack_bits(src: &[u8], out: &mut [u8]) -> usize {
    let (mut i, mut o) = (0, 0);
    while o < out.len() && i < src.len() {
        let n = src[i] as i8;
        i += 1;
        if n >= 0 {
            let len = (n as usize + 1).min(src.len() - i).min(out.len() - o);
            out[o..o + len].copy_from_slice(&src[i..i + len]);
            i += n as usize + 1;
            o += len;
        } else if n != -128 {
            let Some(&b) = src.get(i) else { break };
            i += 1;
            let len = (1 - n as isize) as usize;
            let len = len.min(out.len() - o);
            out[o..o + len].fill(b);
            o += len;
        }
    }
    o
}

/// Decodes one RLE frame into interleaved little-endian samples
/// (`pixels * spp * bytes_per_sample` bytes).
pub(crate) fn decode_frame(fragment: &[u8], layout: &Layout) -> Result<Vec<u8>, ImagingError> {
    let header = fragment
        .get(..64)
        .ok_or_else(|| err(format!("header needs 64 bytes, found {}", fragment.len())))?;
    let word =
        |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let bps = usize::from(layout.bits_allocated / 8);
    let spp = usize::from(layout.spp);
    let segments = word(0) as usize;
    if segments != bps * spp {
        return Err(err(format!(
            "{segments} segments, expected {} for {spp} sample(s) of {} bits",
            bps * spp,
            layout.bits_allocated
        )));
    }
    let mut bounds = Vec::with_capacity(segments + 1);
    for k in 0..segments {
        bounds.push(word(4 + 4 * k) as usize);
    }
    bounds.push(fragment.len());
    if bounds[0] != 64 || bounds.windows(2).any(|w| w[0] > w[1]) {
        return Err(err(
            "segment offsets out of order or outside the data".into()
        ));
    }
    let pixels = layout.pixels();
    let mut out = vec![0u8; pixels * spp * bps];
    let mut plane = vec![0u8; pixels];
    for k in 0..segments {
        let (sample, byte_from_msb) = (k / bps, k % bps);
        let got = unpack_bits(&fragment[bounds[k]..bounds[k + 1]], &mut plane);
        if got < pixels {
            return Err(err(format!(
                "segment {k} holds {got} bytes, expected {pixels}"
            )));
        }
        let byte = bps - 1 - byte_from_msb;
        for (p, &b) in plane.iter().enumerate() {
            out[(p * spp + sample) * bps + byte] = b;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout {
            rows: 1,
            cols: 4,
            spp: 1,
            bits_allocated: 8,
            bits_stored: 8,
            signed: false,
            planar: false,
            photometric: "MONOCHROME2".into(),
        }
    }

    fn frame(segment: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 64];
        f[0] = 1;
        f[4] = 64;
        f.extend_from_slice(segment);
        f
    }

    #[test]
    fn literal_and_run() {
        // literal [7, 8], then run of two 9s.
        let f = frame(&[1, 7, 8, 0xFF, 9]);
        assert_eq!(decode_frame(&f, &layout()).unwrap(), vec![7, 8, 9, 9]);
    }

    #[test]
    fn short_segment_and_bad_header_are_errors() {
        assert!(decode_frame(&frame(&[0, 1]), &layout()).is_err());
        assert!(decode_frame(&[1, 2, 3], &layout()).is_err());
        let mut f = frame(&[3, 1, 2, 3, 4]);
        f[4] = 200;
        assert!(decode_frame(&f, &layout()).is_err());
    }
}

//! Size limits checked before any pixel buffer is allocated.
//!
//! A header can claim 65535×65535×10⁹ frames in a few bytes; allocating first would abort
//! the browser tab (wasm has no recoverable OOM). These bounds are far above any CT, MR,
//! radiograph or screenshot a user would drop, and keep one frame under ~1 GiB decoded.

use crate::ImagingError;

/// Most pixels one frame may have (≈ 8k × 8k; a 43 cm detector at 0.1 mm is 4300²).
pub const MAX_PIXELS_PER_FRAME: u64 = 64 * 1024 * 1024;

/// Most bytes a codec may allocate for one decoded frame (RGB 16-bit at the pixel limit
/// would be 384 MiB).
pub const MAX_DECODED_BYTES: u64 = 512 * 1024 * 1024;

/// Refuses absurd dimensions with a message naming them.
pub fn check_dimensions(width: u64, height: u64, frames: u64) -> Result<(), ImagingError> {
    let too_large = || ImagingError::TooLarge {
        width,
        height,
        frames,
        limit: MAX_PIXELS_PER_FRAME,
    };
    let pixels = width.checked_mul(height).ok_or_else(too_large)?;
    if pixels > MAX_PIXELS_PER_FRAME {
        return Err(too_large());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_huge_frames_with_readable_message() {
        let e = check_dimensions(65535, 65535, 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "image too large: 65535×65535 exceeds the limit of 67108864 pixels per frame"
        );
        assert!(check_dimensions(512, 512, 1000).is_ok());
        assert!(check_dimensions(0, 0, 1).is_ok());
    }
}

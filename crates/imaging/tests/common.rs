//! Shared helpers for the fixture tests: where the fixtures are, and reading them.

use std::path::PathBuf;

/// `shared/fixtures`, which CI places beside the clone (`../../../shared/fixtures`).
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
}

pub fn read(rel: &str) -> Vec<u8> {
    let p = fixtures().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {} unreadable: {e}", p.display()))
}

pub fn decode(rel: &str) -> Result<imaging::Slice, imaging::ImagingError> {
    imaging::decode(&read(rel), Some(rel))
}

/// Stored (pre-LUT) min and max of a CT/MR slice, recovered from its calibrated values.
pub fn stored_range(s: &imaging::Slice, slope: f32, intercept: f32) -> (f32, f32) {
    let (lo, hi) = s
        .pixels
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    ((lo - intercept) / slope, (hi - intercept) / slope)
}

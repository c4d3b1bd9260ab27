//! Shared helpers for the fixture tests: where the fixtures are, and reading them.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

pub mod seg;

include!("lossy.rs");

use std::path::PathBuf;

/// `shared/fixtures`, which CI places beside the clone (`../../../shared/fixtures`).
///
/// Read at run time, not with `env!`: a test binary reused from a shared target dir that was
/// built in another checkout must still look beside *this* one.
pub fn fixtures() -> PathBuf {
    PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"),
    )
    .join("../../../shared/fixtures")
}

pub fn read(rel: &str) -> Vec<u8> {
    let p = fixtures().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {} unreadable: {e}", p.display()))
}

pub fn decode(rel: &str) -> Result<imaging::Slice, imaging::ImagingError> {
    imaging::decode(&read(rel), Some(rel))
}

/// A fixture (or bytes made from one) parsed by dicom-rs, to be rewritten by a test.
pub fn open(bytes: &[u8]) -> dicom_object::DefaultDicomObject {
    dicom_object::OpenFileOptions::new()
        .read_preamble(dicom_object::file::ReadPreamble::Always)
        .from_reader(bytes)
        .expect("the fixture parses")
}

//! The same decoders run in the browser: a real CT DICOM and an 8-bit PNG, decoded in wasm.
#![cfg(target_arch = "wasm32")]

use imaging::{PrepareSpec, Units, decode, prepare};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CT_SMALL: &[u8] = include_bytes!("../../shared/fixtures/dicom/CT_small.dcm");
const CT_SMALL_PNG: &[u8] = include_bytes!("../../shared/fixtures/png/CT_small_lungwin_8bit.png");
const RTSTRUCT: &[u8] = include_bytes!("../../shared/fixtures/dicom/rtstruct.dcm");

#[wasm_bindgen_test]
fn decodes_ct_small_dicom_in_hounsfield_units() {
    let slice = decode(CT_SMALL, Some("CT_small.dcm")).expect("CT_small decodes");
    assert_eq!((slice.width, slice.height), (128, 128));
    assert_eq!(slice.modality.as_deref(), Some("CT"));
    assert_eq!(slice.units, Units::Hounsfield);
    assert_eq!(slice.value_range(), Some((-896.0, 1167.0)));
    let spacing = slice.spacing.expect("CT_small has a pixel spacing");
    assert!((spacing.x_mm - 0.661468).abs() < 1e-5);
    let prepared = prepare(&slice, &PrepareSpec::new(128, (64.0, 64.0))).expect("prepare");
    assert_eq!(prepared.data.len(), 128 * 128);
    assert!(prepared.data.iter().all(|v| (0.0..=1.0).contains(v)));
}

#[wasm_bindgen_test]
fn decodes_an_8_bit_png() {
    let slice = decode(CT_SMALL_PNG, Some("CT_small_lungwin_8bit.png")).expect("PNG decodes");
    assert_eq!((slice.width, slice.height), (128, 128));
    assert_eq!(slice.value_range(), Some((77.0, 255.0)));
}

#[wasm_bindgen_test]
fn refuses_a_non_image_dicom_with_a_clear_message() {
    let error = decode(RTSTRUCT, Some("rtstruct.dcm")).expect_err("RTSTRUCT has no pixels");
    assert_eq!(
        error.to_string(),
        "not an image: RTSTRUCT has no pixel data"
    );
}

/// openjp2 (JPEG 2000) is native-only for now (crates/imaging/Cargo.toml says why): the browser
/// build must refuse it with a message that names it, not fail to load.
#[wasm_bindgen_test]
fn refuses_jpeg_2000_in_the_browser_with_a_clear_message() {
    const J2KR: &[u8] = include_bytes!("../../shared/fixtures/dicom/CT1_J2KR.dcm");
    let error = decode(J2KR, Some("CT1_J2KR.dcm")).expect_err("JPEG 2000 is native-only");
    let message = error.to_string();
    assert!(message.contains("JPEG 2000"), "{message}");
    assert!(
        message.contains("not available in the browser build"),
        "{message}"
    );
}

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

include!("../crates/imaging/tests/common/lossy.rs");

/// JPEG 2000 (hayro-jpeg2000) and JPEG-LS (pure_jpegls) run in the browser build too, with the
/// values the native tests check: the lossless files equal the uncompressed CT1 exactly, and
/// the lossy one lies as far from it as `crates/imaging/tests/dicom_fixtures.rs` asserts natively.
#[wasm_bindgen_test]
fn jpeg_2000_and_jpeg_ls_decode_in_the_browser_as_natively() {
    const UNC: &[u8] = include_bytes!("../../shared/fixtures/dicom/CT1_UNC.dcm");
    const J2KR: &[u8] = include_bytes!("../../shared/fixtures/dicom/CT1_J2KR.dcm");
    const JLSL: &[u8] = include_bytes!("../../shared/fixtures/dicom/CT1_JLSL.dcm");
    const J2KI: &[u8] = include_bytes!("../../shared/fixtures/dicom/CT1_J2KI.dcm");
    let reference = decode(UNC, None).expect("CT1_UNC decodes").pixels;
    for (name, bytes) in [("CT1_J2KR", J2KR), ("CT1_JLSL", JLSL)] {
        let slice = decode(bytes, Some(name)).expect("lossless file decodes");
        assert!(slice.pixels == reference, "{name} differs from CT1_UNC");
    }
    let lossy = decode(J2KI, Some("CT1_J2KI")).expect("CT1_J2KI decodes");
    let (max, mean) = assert_j2ki_within_tolerance(&reference, &lossy.pixels);
    console_log!("CT1_J2KI vs CT1_UNC in the browser: max |diff| {max}, mean |diff| {mean}");
}

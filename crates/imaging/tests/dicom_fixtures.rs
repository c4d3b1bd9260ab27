//! Every DICOM fixture decodes with the properties MANIFEST.txt states, or fails with the
//! error a person can act on.

mod common;

use common::decode;
use dicom_dictionary_std::tags;
use imaging::{ImagingError, Photometric, Source, Units};

struct Expect {
    file: &'static str,
    modality: &'static str,
    size: (u32, u32),
    frames: u32,
    intercept: f32,
    spacing: Option<f32>,
    stored: (f32, f32),
    ts: &'static str,
}

const CT1_TS: &str = "Explicit VR Little Endian";

fn table() -> Vec<Expect> {
    let ct1 = |file, ts| Expect {
        file,
        modality: "CT",
        size: (512, 512),
        frames: 1,
        intercept: -1024.0,
        spacing: Some(0.661468),
        stored: (-2000.0, 2278.0),
        ts,
    };
    let mr = |file, ts| Expect {
        file,
        modality: "MR",
        size: (64, 64),
        frames: 1,
        intercept: 0.0,
        spacing: Some(0.3125),
        stored: (127.0, 2145.0),
        ts,
    };
    vec![
        Expect {
            file: "dicom/693_UNCI.dcm",
            modality: "CT",
            size: (512, 512),
            frames: 1,
            intercept: -1024.0,
            spacing: Some(0.478516),
            stored: (-2971.0, 2836.0),
            ts: CT1_TS,
        },
        ct1("dicom/CT1_UNC.dcm", CT1_TS),
        ct1("dicom/CT1_RLE.dcm", "RLE Lossless"),
        ct1(
            "dicom/CT1_JPLL.dcm",
            "JPEG Lossless, Non-Hierarchical, First-Order Prediction",
        ),
        ct1(
            "dicom/CT1_J2KR.dcm",
            "JPEG 2000 Image Compression (Lossless Only)",
        ),
        ct1("dicom/CT1_JLSL.dcm", "JPEG-LS Lossless Image Compression"),
        Expect {
            stored: (-2315.0, 2409.0),
            ..ct1("dicom/CT1_J2KI.dcm", "JPEG 2000 Image Compression")
        },
        Expect {
            file: "dicom/CT2_UNC.dcm",
            modality: "CT",
            size: (512, 512),
            frames: 1,
            intercept: 0.0,
            spacing: Some(0.468),
            stored: (-2048.0, 1433.0),
            ts: CT1_TS,
        },
        Expect {
            file: "dicom/CT_small.dcm",
            modality: "CT",
            size: (128, 128),
            frames: 1,
            intercept: -1024.0,
            spacing: Some(0.661468),
            stored: (128.0, 2191.0),
            ts: CT1_TS,
        },
        mr("dicom/MR_small_bigendian.dcm", "Explicit VR Big Endian"),
        mr("dicom/MR_small_implicit.dcm", "Implicit VR Little Endian"),
        Expect {
            file: "dicom/image_dfl.dcm",
            modality: "OT",
            size: (512, 512),
            frames: 1,
            intercept: 0.0,
            spacing: None,
            stored: (0.0, 255.0),
            ts: "Deflated Explicit VR Little Endian",
        },
    ]
}

#[test]
fn every_decodable_dicom_fixture_matches_the_manifest() {
    for e in table() {
        let s = decode(e.file).unwrap_or_else(|err| panic!("{}: {err}", e.file));
        assert_eq!(s.modality.as_deref(), Some(e.modality), "{}", e.file);
        assert_eq!((s.width, s.height), e.size, "{}", e.file);
        assert_eq!(s.pixels.len(), (e.size.0 * e.size.1) as usize, "{}", e.file);
        assert_eq!(s.frame_count, e.frames, "{}", e.file);
        assert_eq!(s.photometric, Photometric::Monochrome2, "{}", e.file);
        match (e.spacing, s.spacing) {
            (Some(mm), Some(sp)) => {
                assert!(
                    (sp.x_mm - mm).abs() < 1e-5 && (sp.y_mm - mm).abs() < 1e-5,
                    "{}",
                    e.file
                )
            }
            (None, None) => {}
            (want, got) => panic!("{}: spacing {want:?} vs {got:?}", e.file),
        }
        assert_eq!(stored_range(&s, 1.0, e.intercept), e.stored, "{}", e.file);
        let Source::Dicom {
            transfer_syntax, ..
        } = &s.source
        else {
            panic!("{}: not reported as DICOM", e.file)
        };
        assert_eq!(transfer_syntax, e.ts, "{}", e.file);
        let units = if e.modality == "CT" {
            Units::Hounsfield
        } else {
            Units::Modality
        };
        assert_eq!(s.units, units, "{}", e.file);
        assert!(s.window.width >= 1.0, "{}", e.file);
    }
}

#[test]
fn lossless_ct1_variants_decode_to_identical_hu() {
    let reference = decode("dicom/CT1_UNC.dcm").unwrap().pixels;
    for f in [
        "dicom/CT1_RLE.dcm",
        "dicom/CT1_JPLL.dcm",
        "dicom/CT1_J2KR.dcm",
        "dicom/CT1_JLSL.dcm",
    ] {
        assert!(
            decode(f).unwrap().pixels == reference,
            "{f} differs from CT1_UNC"
        );
    }
}

#[test]
fn lossy_j2ki_is_within_its_stated_tolerance() {
    let reference = decode("dicom/CT1_UNC.dcm").unwrap().pixels;
    let lossy = decode("dicom/CT1_J2KI.dcm").unwrap().pixels;
    // The browser build checks the same bounds (`tests/imaging_web.rs`).
    let (max, mean) = common::assert_j2ki_within_tolerance(&reference, &lossy);
    eprintln!("CT1_J2KI vs CT1_UNC: max |diff| {max}, mean |diff| {mean}");
}

#[test]
fn ct_small_hu_is_stored_value_plus_intercept() {
    let bytes = common::read("dicom/CT_small.dcm");
    // The native OW pixel data starts right after its 12-byte explicit-VR header.
    let at = bytes
        .windows(4)
        .rposition(|w| w == [0xE0, 0x7F, 0x10, 0x00])
        .unwrap()
        + 12;
    let s = imaging::decode(&bytes, None).unwrap();
    for (i, hu) in s.pixels.iter().enumerate() {
        let stored = i16::from_le_bytes([bytes[at + 2 * i], bytes[at + 2 * i + 1]]);
        assert_eq!(*hu, f32::from(stored) - 1024.0, "pixel {i}");
    }
}

#[test]
fn fourteen_bit_signed_head_ct_keeps_sign_and_padding() {
    let s = decode("dicom/693_UNCI.dcm").unwrap();
    assert_eq!(s.padding_value, Some(-3024.0));
    assert!(s.pixels.contains(&-3024.0), "padding pixels present");
}

#[test]
fn big_endian_and_implicit_mr_agree() {
    let be = decode("dicom/MR_small_bigendian.dcm").unwrap();
    let im = decode("dicom/MR_small_implicit.dcm").unwrap();
    assert!(be.pixels == im.pixels);
}

#[test]
fn multi_frame_mr_every_frame_and_out_of_range() {
    let bytes = common::read("dicom/emri_small.dcm");
    let mut lo = f32::MAX;
    let mut hi = f32::MIN;
    let mut frames = Vec::new();
    for frame in 0..10 {
        let opts = imaging::DecodeOptions { frame };
        let s = imaging::decode_with(&bytes, None, &opts).unwrap();
        assert_eq!(
            (s.width, s.height, s.frame_count, s.frame),
            (64, 64, 10, frame)
        );
        assert_eq!(s.modality.as_deref(), Some("MR"));
        for &v in &s.pixels {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        frames.push(s.pixels);
    }
    assert_eq!((lo, hi), (0.0, 467.0));
    assert!(frames[0] != frames[9], "frames differ");
    let err = imaging::decode_with(&bytes, None, &imaging::DecodeOptions { frame: 10 });
    assert_eq!(
        err.unwrap_err(),
        ImagingError::FrameOutOfRange {
            requested: 10,
            count: 10
        }
    );
}

#[test]
fn truncated_mr_is_refused_with_byte_counts() {
    let err = decode("dicom/MR_truncated.dcm").unwrap_err();
    assert_eq!(
        err.to_string(),
        "truncated pixel data: expected 8192 bytes, found 8130"
    );
}

#[test]
fn rtstruct_without_preamble_is_recognised_and_refused() {
    let bytes = common::read("dicom/rtstruct.dcm");
    assert_eq!(imaging::sniff(&bytes, None), Some(imaging::Format::Dicom));
    let err = imaging::decode(&bytes, Some("rtstruct.dcm")).unwrap_err();
    assert_eq!(err.to_string(), "not an image: RTSTRUCT has no pixel data");
}

/// CT1_JLSL relabelled: what only the header changes must still be refused by name.
fn jlsl_with(edit: impl FnOnce(&mut dicom_object::DefaultDicomObject)) -> imaging::ImagingError {
    let mut obj = common::open(&common::read("dicom/CT1_JLSL.dcm"));
    edit(&mut obj);
    let mut bytes = Vec::new();
    obj.write_all(&mut bytes).unwrap();
    imaging::decode(&bytes, None).unwrap_err()
}

#[test]
fn colour_jpeg_ls_is_refused_by_name() {
    use dicom_core::{PrimitiveValue, VR};
    use dicom_object::mem::InMemElement;
    let error = jlsl_with(|obj| {
        obj.put(InMemElement::new(
            tags::SAMPLES_PER_PIXEL,
            VR::US,
            PrimitiveValue::from(3u16),
        ));
        obj.put(InMemElement::new(
            tags::PHOTOMETRIC_INTERPRETATION,
            VR::CS,
            PrimitiveValue::from("RGB"),
        ));
    });
    assert!(error.to_string().contains("colour JPEG-LS"), "{error}");
}

#[test]
fn a_transfer_syntax_without_a_decoder_is_refused_by_name() {
    // JPEG XL: no decoder here (nor in dicom-rs without C libraries).
    let error = jlsl_with(|obj| obj.meta_mut().transfer_syntax = "1.2.840.10008.1.2.4.112".into());
    let message = error.to_string();
    assert!(
        message.starts_with("unsupported transfer syntax JPEG XL"),
        "{message}"
    );
    assert!(message.contains("1.2.840.10008.1.2.4.112"), "{message}");
    // A private UID (dicom-rs will not write one: patch the bytes, same length).
    let mut bytes = common::read("dicom/CT1_JLSL.dcm");
    let (old, new) = (b"1.2.840.10008.1.2.4.80", b"1.2.840.99999.1.2.4.80");
    let at = bytes.windows(old.len()).position(|w| w == old).unwrap();
    bytes[at..at + old.len()].copy_from_slice(new);
    assert_eq!(
        imaging::decode(&bytes, None).unwrap_err().to_string(),
        "unsupported transfer syntax of a kind this app does not know (1.2.840.99999.1.2.4.80)"
    );
}

#[test]
fn ct_default_window_is_the_files_voi_or_lung() {
    for f in [
        "dicom/CT1_UNC.dcm",
        "dicom/CT_small.dcm",
        "dicom/693_UNCI.dcm",
    ] {
        let s = decode(f).unwrap();
        assert!(s.window.width >= 1.0 && s.window.center.is_finite(), "{f}");
    }
}

/// Stored (pre-LUT) min and max of a CT/MR slice, recovered from its calibrated values.
pub fn stored_range(s: &imaging::Slice, slope: f32, intercept: f32) -> (f32, f32) {
    let (lo, hi) = s
        .pixels
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    ((lo - intercept) / slope, (hi - intercept) / slope)
}

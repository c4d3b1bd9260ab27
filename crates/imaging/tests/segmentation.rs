//! A DICOM Segmentation (SEG) is named for what it is, not refused as an odd pixel format.

mod common;

use dicom_core::{PrimitiveValue, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::mem::InMemElement;
use imaging::ImagingError;

#[test]
fn a_segmentation_object_says_what_it_is() {
    // CT_small relabelled as a SEG with 1-bit "pixels", as a SEG's header reads.
    let mut obj = common::open(&common::read("dicom/CT_small.dcm"));
    let put = |obj: &mut dicom_object::DefaultDicomObject, tag, vr, value: PrimitiveValue| {
        obj.put(InMemElement::new(tag, vr, value));
    };
    put(
        &mut obj,
        tags::SOP_CLASS_UID,
        VR::UI,
        uids::SEGMENTATION_STORAGE.into(),
    );
    put(&mut obj, tags::MODALITY, VR::CS, "SEG".into());
    put(
        &mut obj,
        tags::BITS_ALLOCATED,
        VR::US,
        PrimitiveValue::from(1u16),
    );
    let mut bytes = Vec::new();
    obj.write_all(&mut bytes).unwrap();
    let error = imaging::decode(&bytes, Some("seg.dcm")).unwrap_err();
    assert_eq!(error, ImagingError::Segmentation);
    let message = error.to_string();
    assert!(message.contains("Segmentation (SEG)"), "{message}");
    assert!(!message.contains("BitsAllocated"), "{message}");
}

use common::seg::{self, Frame};

fn ct_small_uid() -> String {
    common::decode("dicom/CT_small.dcm")
        .unwrap()
        .sop_instance_uid
        .expect("CT_small has a SOP Instance UID")
}

#[test]
fn a_binary_seg_reads_as_one_mask_per_frame_with_its_source_and_label() {
    let uid = ct_small_uid();
    let (a, b, c) = (
        seg::disc(128, 64.0, 64.0, 6.0),
        seg::disc(128, 70.0, 60.0, 9.0),
        seg::disc(128, 10.0, 10.0, 3.0),
    );
    let frame = |segment, source_uid: &str, source_frame, bits: &Vec<bool>| Frame {
        segment,
        source_uid: source_uid.into(),
        source_frame,
        bits: bits.clone(),
    };
    let bytes = seg::build(
        "2.25.1",
        128,
        128,
        &[(1, "Nodule"), (2, "Vessel")],
        &[
            frame(1, &uid, None, &a),
            frame(2, &uid, None, &b),
            frame(1, "2.25.99", Some(3), &c),
        ],
        false,
    );
    let masks = imaging::read_segmentation(&bytes).unwrap();
    assert_eq!(masks.len(), 3);
    assert_eq!((masks[0].segment, masks[0].label.as_str()), (1, "Nodule"));
    assert_eq!((masks[1].segment, masks[1].label.as_str()), (2, "Vessel"));
    assert_eq!((masks[0].width, masks[0].height), (128, 128));
    assert_eq!(masks[0].bits, a);
    assert_eq!(masks[1].bits, b);
    assert_eq!(masks[2].bits, c);
    assert!(masks[0].is_on(&uid, 0) && masks[1].is_on(&uid, 0));
    // A frame of another (multi-frame) image: its UID and zero-based frame 2 (file says 3).
    assert_eq!(masks[2].source_frame, Some(2));
    assert!(masks[2].is_on("2.25.99", 2) && !masks[2].is_on("2.25.99", 0));
    assert!(!masks[2].is_on(&uid, 0));
}

#[test]
fn frames_that_do_not_end_on_a_byte_boundary_are_read_bit_by_bit() {
    // 5 × 3 = 15 bits per frame: the second frame starts inside the second byte.
    let first: Vec<bool> = (0..15).map(|i| i % 3 == 0).collect();
    let second: Vec<bool> = (0..15).map(|i| i % 2 == 1 || i == 14).collect();
    let frames = [first.clone(), second.clone()].map(|bits| Frame {
        segment: 1,
        source_uid: "2.25.7".into(),
        source_frame: None,
        bits,
    });
    let bytes = seg::build("2.25.2", 3, 5, &[(1, "x")], &frames, false);
    let masks = imaging::read_segmentation(&bytes).unwrap();
    assert_eq!(masks[0].bits, first);
    assert_eq!(masks[1].bits, second);
}

#[test]
fn a_fractional_seg_is_foreground_from_one_half_up() {
    let bits = seg::disc(16, 8.0, 8.0, 4.0);
    let frames = [Frame {
        segment: 1,
        source_uid: "2.25.7".into(),
        source_frame: None,
        bits: bits.clone(),
    }];
    let bytes = seg::build("2.25.3", 16, 16, &[(1, "lesion")], &frames, true);
    let masks = imaging::read_segmentation(&bytes).unwrap();
    assert_eq!(masks[0].bits, bits);
}

#[test]
fn a_truncated_seg_or_an_image_is_refused_with_a_message() {
    let frames = [Frame {
        segment: 1,
        source_uid: "2.25.7".into(),
        source_frame: None,
        bits: seg::disc(64, 32.0, 32.0, 10.0),
    }];
    let bytes = seg::build("2.25.4", 64, 64, &[(1, "lesion")], &frames, false);
    // Claim more frames than the pixel data holds.
    let mut obj = common::open(&bytes);
    obj.put(InMemElement::new(
        tags::NUMBER_OF_FRAMES,
        VR::IS,
        PrimitiveValue::from("40"),
    ));
    let mut longer = Vec::new();
    obj.write_all(&mut longer).unwrap();
    let error = imaging::read_segmentation(&longer).unwrap_err();
    assert!(matches!(error, ImagingError::Truncated { .. }), "{error}");
    for cut in [0, 10, bytes.len() / 2, bytes.len() - 3] {
        assert!(imaging::read_segmentation(&bytes[..cut]).is_err());
    }
    let image = common::read("dicom/CT_small.dcm");
    let error = imaging::read_segmentation(&image).unwrap_err();
    assert_eq!(error, ImagingError::NotASegmentation);
    assert!(error.to_string().contains("not a DICOM Segmentation"));
}

/// The page's end-to-end test drops `CT_small.dcm` with two readers' SEG files
/// (`tests/e2e/data/`): they are exactly what this builds. `PROBSEG_WRITE_FIXTURES=1` rewrites
/// them after a deliberate change.
#[test]
fn the_e2e_seg_files_are_the_ones_built_here() {
    let uid = ct_small_uid();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e/data");
    for (reader, (cx, cy, r)) in [(1, (64.0, 64.0, 6.0)), (2, (66.0, 63.0, 8.5))] {
        let frames = [Frame {
            segment: 1,
            source_uid: uid.clone(),
            source_frame: None,
            bits: seg::disc(128, cx, cy, r),
        }];
        let built = seg::build(
            &format!("2.25.{}", 1000 + reader),
            128,
            128,
            &[(1, "Nodule")],
            &frames,
            false,
        );
        let path = dir.join(format!("CT_small_reader{reader}_seg.dcm"));
        if std::env::var_os("PROBSEG_WRITE_FIXTURES").is_some() {
            std::fs::write(&path, &built).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            committed == built,
            "{} is stale: PROBSEG_WRITE_FIXTURES=1",
            path.display()
        );
        assert_eq!(imaging::read_segmentation(&committed).unwrap().len(), 1);
    }
}

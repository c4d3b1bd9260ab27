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

//! A data set whose elements were re-encoded as VR UN (what a converter that did not know them
//! writes when it turns implicit VR into explicit VR) decodes to the same pixels and metadata
//! as the original; a known tag whose UN bytes cannot be its VR refuses the file.

mod common;

use dicom_core::header::Header;
use dicom_core::{PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use dicom_object::mem::InMemElement;
use dicom_transfer_syntax_registry::entries;

use common::open;

/// The implicit-VR little-endian value bytes of `element`, or `None` for undefined lengths.
fn implicit_value(element: &InMemElement) -> Option<Vec<u8>> {
    let single = InMemDicomObject::from_element_iter([element.clone()]);
    let mut out = Vec::new();
    single
        .write_dataset_with_ts(&mut out, &entries::IMPLICIT_VR_LITTLE_ENDIAN.erased())
        .expect("one element writes");
    let length = u32::from_le_bytes(out[4..8].try_into().unwrap());
    (length != u32::MAX).then(|| out[8..].to_vec())
}

/// Every element but the pixel data rewritten as UN, the file written again (explicit VR LE).
fn as_unknown(file: &str) -> (Vec<u8>, usize) {
    let mut obj = open(&common::read(file));
    let mut rewritten = 0;
    let elements: Vec<InMemElement> = obj.iter().cloned().collect();
    for element in elements {
        let tag = element.tag();
        if tag == tags::PIXEL_DATA || element.vr() == VR::UN {
            continue;
        }
        if let Some(bytes) = implicit_value(&element) {
            obj.put(InMemElement::new(tag, VR::UN, PrimitiveValue::from(bytes)));
            rewritten += 1;
        }
    }
    let mut out = Vec::new();
    obj.write_all(&mut out).expect("the rewritten file writes");
    (out, rewritten)
}

#[test]
fn elements_stored_as_unknown_read_through_the_dictionary() {
    for file in ["dicom/CT_small.dcm", "dicom/CT2_UNC.dcm"] {
        let original = common::decode(file).expect("the fixture decodes");
        let (bytes, rewritten) = as_unknown(file);
        // The rewrite is real: the file says UN where the original said US, DS, CS, ….
        assert!(
            rewritten > 20,
            "{file}: only {rewritten} elements rewritten"
        );
        let reread = open(&bytes);
        assert_eq!(reread.get(tags::ROWS).unwrap().vr(), VR::UN, "{file}");
        let decoded = imaging::decode(&bytes, Some(file)).expect("the UN copy decodes");
        assert_eq!(decoded.modality.as_deref(), Some("CT"), "{file}");
        assert_eq!(
            decoded, original,
            "{file}: the UN copy must decode identically"
        );
    }
}

#[test]
fn a_known_tag_whose_unknown_bytes_are_not_its_vr_is_refused() {
    // ReferencedImageSequence is a sequence: these eight bytes are no item of one.
    let mut obj = open(&common::read("dicom/CT_small.dcm"));
    let garbage = PrimitiveValue::from(vec![1u8, 2, 3, 4, 5, 6, 7, 8]);
    obj.put(InMemElement::new(
        tags::REFERENCED_IMAGE_SEQUENCE,
        VR::UN,
        garbage,
    ));
    let mut bytes = Vec::new();
    obj.write_all(&mut bytes).unwrap();
    match imaging::decode(&bytes, Some("broken.dcm")) {
        Ok(_) => panic!("a file with an unreadable known element must not be shown"),
        Err(e) => {
            let message = e.to_string();
            assert!(message.contains("(0008,1140)"), "{message}");
            assert!(message.contains("stored as UN"), "{message}");
        }
    }
}

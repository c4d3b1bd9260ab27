//! DICOM Segmentation objects built with dicom-rs, as a SEG writer (e.g. 3D Slicer, OHIF,
//! highdicom) lays them out: one frame per segment and source image, each frame naming its
//! source through the Derivation Image Sequence.

use dicom_core::value::DataSetSequence;
use dicom_core::{PrimitiveValue, Tag, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::mem::InMemElement;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

/// One frame: which segment, which source image (UID, 1-based frame number), the flags.
pub struct Frame {
    pub segment: u16,
    pub source_uid: String,
    pub source_frame: Option<u32>,
    pub bits: Vec<bool>,
}

fn put(obj: &mut InMemDicomObject, tag: Tag, vr: VR, value: impl Into<PrimitiveValue>) {
    obj.put(InMemElement::new(tag, vr, value.into()));
}

fn sequence(obj: &mut InMemDicomObject, tag: Tag, items: Vec<InMemDicomObject>) {
    obj.put(InMemElement::new(tag, VR::SQ, DataSetSequence::from(items)));
}

/// A BINARY (1 bit) or FRACTIONAL (8 bit, maximum 255) SEG of `rows × cols` frames.
pub fn build(
    instance_uid: &str,
    rows: u16,
    cols: u16,
    labels: &[(u16, &str)],
    frames: &[Frame],
    fractional: bool,
) -> Vec<u8> {
    let mut obj = InMemDicomObject::new_empty();
    put(
        &mut obj,
        tags::SOP_CLASS_UID,
        VR::UI,
        uids::SEGMENTATION_STORAGE,
    );
    put(&mut obj, tags::SOP_INSTANCE_UID, VR::UI, instance_uid);
    put(&mut obj, tags::MODALITY, VR::CS, "SEG");
    put(&mut obj, tags::ROWS, VR::US, rows);
    put(&mut obj, tags::COLUMNS, VR::US, cols);
    put(&mut obj, tags::SAMPLES_PER_PIXEL, VR::US, 1u16);
    put(
        &mut obj,
        tags::PHOTOMETRIC_INTERPRETATION,
        VR::CS,
        "MONOCHROME2",
    );
    put(&mut obj, tags::PIXEL_REPRESENTATION, VR::US, 0u16);
    let bits = if fractional { 8u16 } else { 1 };
    put(&mut obj, tags::BITS_ALLOCATED, VR::US, bits);
    put(&mut obj, tags::BITS_STORED, VR::US, bits);
    put(&mut obj, tags::HIGH_BIT, VR::US, bits - 1);
    let kind = if fractional { "FRACTIONAL" } else { "BINARY" };
    put(&mut obj, tags::SEGMENTATION_TYPE, VR::CS, kind);
    if fractional {
        put(
            &mut obj,
            tags::SEGMENTATION_FRACTIONAL_TYPE,
            VR::CS,
            "PROBABILITY",
        );
        put(&mut obj, tags::MAXIMUM_FRACTIONAL_VALUE, VR::US, 255u16);
    }
    put(
        &mut obj,
        tags::NUMBER_OF_FRAMES,
        VR::IS,
        frames.len().to_string(),
    );
    let segments = labels
        .iter()
        .map(|&(number, label)| {
            let mut item = InMemDicomObject::new_empty();
            put(&mut item, tags::SEGMENT_NUMBER, VR::US, number);
            put(&mut item, tags::SEGMENT_LABEL, VR::LO, label);
            put(&mut item, tags::SEGMENT_ALGORITHM_TYPE, VR::CS, "MANUAL");
            item
        })
        .collect();
    sequence(&mut obj, tags::SEGMENT_SEQUENCE, segments);
    let groups = frames
        .iter()
        .map(|frame| {
            let mut source = InMemDicomObject::new_empty();
            put(
                &mut source,
                tags::REFERENCED_SOP_CLASS_UID,
                VR::UI,
                uids::CT_IMAGE_STORAGE,
            );
            put(
                &mut source,
                tags::REFERENCED_SOP_INSTANCE_UID,
                VR::UI,
                frame.source_uid.as_str(),
            );
            if let Some(n) = frame.source_frame {
                put(
                    &mut source,
                    tags::REFERENCED_FRAME_NUMBER,
                    VR::IS,
                    n.to_string(),
                );
            }
            let mut derivation = InMemDicomObject::new_empty();
            sequence(&mut derivation, tags::SOURCE_IMAGE_SEQUENCE, vec![source]);
            let mut identification = InMemDicomObject::new_empty();
            put(
                &mut identification,
                tags::REFERENCED_SEGMENT_NUMBER,
                VR::US,
                frame.segment,
            );
            let mut group = InMemDicomObject::new_empty();
            sequence(
                &mut group,
                tags::DERIVATION_IMAGE_SEQUENCE,
                vec![derivation],
            );
            sequence(
                &mut group,
                tags::SEGMENT_IDENTIFICATION_SEQUENCE,
                vec![identification],
            );
            group
        })
        .collect();
    sequence(&mut obj, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE, groups);
    let flags: Vec<bool> = frames.iter().flat_map(|f| f.bits.iter().copied()).collect();
    let mut pixels: Vec<u8> = if fractional {
        flags.iter().map(|&b| if b { 255 } else { 0 }).collect()
    } else {
        // Frames follow each other bit by bit (PS3.5 8.1.1), least significant bit first.
        let mut packed = vec![0u8; flags.len().div_ceil(8)];
        for (i, _) in flags.iter().enumerate().filter(|(_, b)| **b) {
            packed[i / 8] |= 1 << (i % 8);
        }
        packed
    };
    if pixels.len() % 2 == 1 {
        pixels.push(0);
    }
    put(
        &mut obj,
        tags::PIXEL_DATA,
        VR::OB,
        PrimitiveValue::from(pixels),
    );
    let file = obj
        .with_meta(FileMetaTableBuilder::new().transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN))
        .expect("the SEG has the attributes its meta needs");
    let mut bytes = Vec::new();
    file.write_all(&mut bytes).expect("the SEG writes");
    bytes
}

/// A filled disc of radius `r` around (`cx`, `cy`) on a `side × side` grid.
pub fn disc(side: usize, cx: f32, cy: f32, r: f32) -> Vec<bool> {
    (0..side * side)
        .map(|i| {
            let (x, y) = ((i % side) as f32, (i / side) as f32);
            (x - cx).powi(2) + (y - cy).powi(2) <= r * r
        })
        .collect()
}

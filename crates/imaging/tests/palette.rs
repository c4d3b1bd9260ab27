//! PALETTE COLOR images decode to the luminance of their lookup tables' colours, with 8- and
//! 16-bit entries; out-of-table values take the end entries; broken tables are refused.

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use dicom_transfer_syntax_registry::entries;
use imaging::{ImagingError, Photometric};

/// Entry `i` of each table: red rises, green falls, blue is constant.
fn rgb(i: usize, max: u16) -> [u16; 3] {
    let max = u32::from(max);
    let i = i as u32;
    [
        (i * max / 255) as u16,
        ((255 - i) * max / 255) as u16,
        (max / 2) as u16,
    ]
}

/// A 4×4 8-bit palette image whose pixels are 0, 17, 34, … (and one out-of-table value when
/// the table starts at `first`).
fn palette_file(bits: u16, packed_8bit: bool, first: u16) -> Vec<u8> {
    palette_file_with(bits, packed_8bit, first, |_| {})
}

/// [`palette_file`] with `edit` applied to the data set before it is written.
fn palette_file_with(
    bits: u16,
    packed_8bit: bool,
    first: u16,
    edit: impl FnOnce(&mut InMemDicomObject),
) -> Vec<u8> {
    let entries = 256usize;
    let max = if bits == 16 { u16::MAX } else { 255 };
    let mut ds = InMemDicomObject::new_empty();
    let put = |ds: &mut InMemDicomObject, tag, vr, value: PrimitiveValue| {
        ds.put(DataElement::new(tag, vr, value));
    };
    put(
        &mut ds,
        tags::SOP_CLASS_UID,
        VR::UI,
        uids::SECONDARY_CAPTURE_IMAGE_STORAGE.into(),
    );
    put(&mut ds, tags::SOP_INSTANCE_UID, VR::UI, "1.2.3.4".into());
    put(&mut ds, tags::MODALITY, VR::CS, "OT".into());
    put(&mut ds, tags::ROWS, VR::US, PrimitiveValue::from(4u16));
    put(&mut ds, tags::COLUMNS, VR::US, PrimitiveValue::from(4u16));
    put(
        &mut ds,
        tags::SAMPLES_PER_PIXEL,
        VR::US,
        PrimitiveValue::from(1u16),
    );
    put(
        &mut ds,
        tags::BITS_ALLOCATED,
        VR::US,
        PrimitiveValue::from(8u16),
    );
    put(
        &mut ds,
        tags::BITS_STORED,
        VR::US,
        PrimitiveValue::from(8u16),
    );
    put(&mut ds, tags::HIGH_BIT, VR::US, PrimitiveValue::from(7u16));
    put(
        &mut ds,
        tags::PIXEL_REPRESENTATION,
        VR::US,
        PrimitiveValue::from(0u16),
    );
    put(
        &mut ds,
        tags::PHOTOMETRIC_INTERPRETATION,
        VR::CS,
        "PALETTE COLOR".into(),
    );
    let descriptor = PrimitiveValue::U16([entries as u16, first, bits].into_iter().collect());
    let channels = [
        (
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
        (
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
        (
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
    ];
    for (c, (descriptor_tag, data_tag)) in channels.into_iter().enumerate() {
        put(&mut ds, descriptor_tag, VR::US, descriptor.clone());
        let values = (0..entries).map(|i| rgb(i, max)[c]);
        let data = if packed_8bit {
            PrimitiveValue::U8(values.map(|v| v as u8).collect())
        } else {
            PrimitiveValue::U16(values.collect())
        };
        put(&mut ds, data_tag, VR::OW, data);
    }
    let mut pixels: Vec<u8> = (0..16u8).map(|i| i * 17).collect();
    pixels[15] = 0; // below `first` when the table starts later
    put(
        &mut ds,
        tags::PIXEL_DATA,
        VR::OB,
        PrimitiveValue::U8(pixels.into_iter().collect()),
    );
    edit(&mut ds);
    let meta = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid(uids::SECONDARY_CAPTURE_IMAGE_STORAGE)
        .media_storage_sop_instance_uid("1.2.3.4")
        .transfer_syntax(entries::EXPLICIT_VR_LITTLE_ENDIAN.uid())
        .build()
        .unwrap();
    let mut out = Vec::new();
    ds.with_exact_meta(meta).write_all(&mut out).unwrap();
    out
}

fn luminance([r, g, b]: [u16; 3]) -> f32 {
    0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b)
}

#[test]
fn palette_colour_becomes_the_luminance_of_its_entries() {
    for (bits, packed) in [(16, false), (8, false), (8, true)] {
        let max = if bits == 16 { u16::MAX } else { 255 };
        let slice = imaging::decode(&palette_file(bits, packed, 0), Some("palette.dcm"))
            .unwrap_or_else(|e| panic!("{bits}-bit entries (packed {packed}): {e}"));
        assert_eq!(slice.photometric, Photometric::ColourAsLuminance);
        assert_eq!((slice.width, slice.height), (4, 4));
        for (i, &value) in slice.pixels.iter().enumerate() {
            let index = if i == 15 { 0 } else { i * 17 };
            let expected = luminance(rgb(index, max));
            assert!(
                (value - expected).abs() < 1e-2,
                "{bits}-bit, pixel {i}: {value} vs {expected}"
            );
        }
    }
}

#[test]
fn values_outside_the_table_take_its_end_entries() {
    // The table starts at stored value 16: values below it (0) take entry 0; value 17 is
    // entry 1, value 238 entry 222.
    let slice = imaging::decode(&palette_file(16, false, 16), Some("palette.dcm")).unwrap();
    assert_eq!(slice.pixels[0], luminance(rgb(0, u16::MAX)));
    assert_eq!(slice.pixels[1], luminance(rgb(1, u16::MAX)));
    assert_eq!(slice.pixels[15], luminance(rgb(0, u16::MAX)));
    assert_eq!(slice.pixels[14], luminance(rgb(222, u16::MAX)));
}

#[test]
fn a_palette_without_its_tables_is_refused_by_name() {
    let bytes = palette_file(16, false, 0);
    let mut obj = dicom_object::OpenFileOptions::new()
        .read_preamble(dicom_object::file::ReadPreamble::Always)
        .from_reader(&bytes[..])
        .unwrap();
    obj.remove_element(tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA);
    let mut broken = Vec::new();
    obj.write_all(&mut broken).unwrap();
    let error = imaging::decode(&broken, Some("palette.dcm")).unwrap_err();
    assert!(
        matches!(error, ImagingError::UnsupportedPixelFormat(_)),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("PALETTE COLOR with no green lookup table"),
        "{error}"
    );
}

#[test]
fn signed_indices_count_from_a_negative_first_value() {
    // Signed 8-bit pixels, the table starting at −128 (stored as US 65,408): stored 0 is
    // entry 128, stored 17 entry 145, stored −18 (byte 238) entry 110.
    let bytes = palette_file_with(16, false, (-128i16) as u16, |ds| {
        ds.put(DataElement::new(
            tags::PIXEL_REPRESENTATION,
            VR::US,
            PrimitiveValue::from(1u16),
        ));
    });
    let slice = imaging::decode(&bytes, Some("palette.dcm")).unwrap();
    assert_eq!(slice.pixels[0], luminance(rgb(128, u16::MAX)));
    assert_eq!(slice.pixels[1], luminance(rgb(145, u16::MAX)));
    assert_eq!(slice.pixels[14], luminance(rgb(110, u16::MAX)));
}

#[test]
fn a_window_in_the_file_does_not_apply_to_the_colours() {
    let bytes = palette_file_with(8, false, 0, |ds| {
        ds.put(DataElement::new(
            tags::WINDOW_CENTER,
            VR::DS,
            PrimitiveValue::from("10"),
        ));
        ds.put(DataElement::new(
            tags::WINDOW_WIDTH,
            VR::DS,
            PrimitiveValue::from("4"),
        ));
    });
    let slice = imaging::decode(&bytes, Some("palette.dcm")).unwrap();
    let (lo, hi) = slice.value_range().unwrap();
    assert_eq!(slice.window, imaging::Window::full_range(lo, hi));
}

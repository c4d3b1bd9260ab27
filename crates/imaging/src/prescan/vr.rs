//! The value representations the walk must agree with dicom-rs on: how many bytes one value
//! of a binary VR takes, and which VR dicom-rs reads an implicit-VR element with.

use dicom_core::Tag;
use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_dictionary_std::StandardDataDictionary;

/// Bytes per value of the VRs dicom-rs reads as arrays of binary numbers (PS3.5 §6.2).
pub(super) fn value_size(vr: [u8; 2]) -> Option<u32> {
    match &vr {
        b"US" | b"SS" | b"OW" => Some(2),
        b"AT" | b"FL" | b"OF" | b"SL" | b"UL" | b"OL" => Some(4),
        b"FD" | b"OD" | b"SV" | b"UV" | b"OV" => Some(8),
        _ => None,
    }
}

/// The VR dicom-rs reads an implicit-VR element with: OW for pixel and overlay data, else the
/// standard dictionary's, context-dependent ones relaxed as dicom-rs does ("US or SS" → US,
/// "OB or OW" → OW); none for tags the dictionary does not know (read as UN bytes).
pub(super) fn dictionary_vr(group: u16, elem: u16) -> Option<[u8; 2]> {
    if (group, elem) == (0x7FE0, 0x0010) || (group >> 8 == 0x60 && elem == 0x3000) {
        return Some(*b"OW");
    }
    let entry = StandardDataDictionary.by_tag(Tag(group, elem))?;
    Some(entry.vr().relaxed().to_bytes())
}

//! Elements stored with VR UN, read through the data dictionary.
//!
//! Software that re-encodes an implicit-VR data set as explicit VR without knowing every tag
//! writes the tags it does not know as UN: legal (PS3.5 §6.2.2), and the value bytes are then
//! the implicit-VR little-endian encoding of the real value. Read as UN they are only bytes:
//! the modality comes out as "67\84", rows, spacing and rescale as garbage. The standard allows
//! a reader that knows the tag to read the value through the dictionary's VR, as dcmtk and
//! pydicom do: each such element is parsed again as a one-element implicit-VR data set, where
//! dicom-rs looks its VR up in the standard dictionary. Tags the dictionary does not know stay
//! UN (nothing here reads private tags); a known tag whose bytes do not parse refuses the file
//! rather than showing it with wrong numbers.

use dicom_core::header::HasLength;
use dicom_core::{DicomValue, Tag, VR};
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::entries;

/// Sequences nest; real files go a few levels deep. Deeper than this is not an image header.
const MAX_DEPTH: usize = 16;

/// Re-reads every UN element of `ds` (and of its sequences' items) through the dictionary.
pub(crate) fn resolve(ds: &mut InMemDicomObject) -> Result<(), String> {
    resolve_at(ds, 0)
}

fn resolve_at(ds: &mut InMemDicomObject, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("sequences nest more than {MAX_DEPTH} levels deep"));
    }
    let tags: Vec<Tag> = ds.tags().collect();
    for tag in tags {
        let Some(element) = ds.get(tag) else { continue };
        if element.vr() == VR::UN
            && let Some(bytes) = un_bytes(element.value())
            && let Some(read) = reread(tag, &bytes)?
        {
            ds.put(read);
        }
        // Items of sequences (including those just re-read from UN) may hold UN elements too.
        if ds.get(tag).is_some_and(|e| e.vr() == VR::SQ) {
            let mut nested = Ok(());
            ds.update_value(tag, |value| {
                if let Some(items) = value.items_mut() {
                    nested = items
                        .iter_mut()
                        .try_for_each(|item| resolve_at(item, depth + 1));
                }
            });
            nested?;
        }
    }
    Ok(())
}

/// The raw bytes of a UN value of defined length (an undefined-length UN is a sequence that
/// dicom-rs has already parsed as one).
fn un_bytes(value: &DicomValue<InMemDicomObject>) -> Option<Vec<u8>> {
    if value.length().is_undefined() {
        return None;
    }
    value.primitive().map(|p| p.to_bytes().into_owned())
}

/// Parses `bytes` as the implicit-VR LE value of `tag`; `None` when the dictionary does not
/// know the tag either.
fn reread(tag: Tag, bytes: &[u8]) -> Result<Option<dicom_object::mem::InMemElement>, String> {
    let length = u32::try_from(bytes.len())
        .map_err(|_| format!("the UN element {tag} is larger than DICOM allows"))?;
    let mut encoded = Vec::with_capacity(bytes.len() + 8);
    encoded.extend_from_slice(&tag.group().to_le_bytes());
    encoded.extend_from_slice(&tag.element().to_le_bytes());
    encoded.extend_from_slice(&length.to_le_bytes());
    encoded.extend_from_slice(bytes);
    let ts = entries::IMPLICIT_VR_LITTLE_ENDIAN.erased();
    let parsed = InMemDicomObject::read_dataset_with_ts(&encoded[..], &ts).map_err(|e| {
        format!("the element {tag} is stored as UN (unknown) and does not read as the standard defines it: {e}")
    })?;
    Ok(parsed.get(tag).filter(|e| e.vr() != VR::UN).cloned())
}

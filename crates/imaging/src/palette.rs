//! PALETTE COLOR images: each stored value indexes three lookup tables (red, green, blue).
//!
//! Ultrasound, nuclear medicine and secondary captures use them; OHIF and dwv show them.
//! The model reads grey, so each entry becomes its luminance (`pixels::luminance`, as RGB). Segmented palettes (0028,1221–1223), a compressed form few writers
//! use, are refused by name.

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

use crate::ImagingError;
use crate::pixels::luminance;

/// The three tables, already combined into one luminance per entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Palette {
    luminance: Vec<f32>,
    /// The stored value that maps to the first entry.
    first_mapped: i64,
}

const CHANNELS: [(&str, Tag, Tag); 3] = [
    (
        "red",
        tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
        tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
    ),
    (
        "green",
        tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
        tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
    ),
    (
        "blue",
        tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
        tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
    ),
];

impl Palette {
    /// Reads and checks the three tables (same length and first value, 8- or 16-bit entries);
    /// `signed`: the pixels are (PixelRepresentation 1), and so is the first mapped value.
    pub(crate) fn read(ds: &InMemDicomObject, signed: bool) -> Result<Palette, ImagingError> {
        if ds
            .get(tags::SEGMENTED_RED_PALETTE_COLOR_LOOKUP_TABLE_DATA)
            .is_some()
        {
            return Err(ImagingError::UnsupportedPixelFormat(
                "PALETTE COLOR with segmented lookup tables".into(),
            ));
        }
        let mut tables = Vec::with_capacity(3);
        for (name, descriptor, data) in CHANNELS {
            tables.push(table(ds, name, descriptor, data, signed)?);
        }
        let [(red, first), (green, first_g), (blue, first_b)] =
            <[_; 3]>::try_from(tables).map_err(|_| bad("three tables"))?;
        if first != first_g
            || first != first_b
            || red.len() != green.len()
            || red.len() != blue.len()
        {
            return Err(bad("red, green and blue tables of different shapes"));
        }
        let luminance = (0..red.len())
            .map(|i| luminance(red[i], green[i], blue[i]))
            .collect();
        Ok(Palette {
            luminance,
            first_mapped: first,
        })
    }

    /// The luminance of stored value `v`; values outside the table take its end entries, as
    /// PS3.3 C.7.6.3.1.5 prescribes.
    pub(crate) fn apply(&self, stored: &[f32]) -> Vec<f32> {
        let last = self.luminance.len() as i64 - 1;
        stored
            .iter()
            .map(|&v| {
                let index = (v as i64 - self.first_mapped).clamp(0, last);
                self.luminance[index as usize]
            })
            .collect()
    }
}

fn bad(what: &str) -> ImagingError {
    ImagingError::UnsupportedPixelFormat(format!("PALETTE COLOR with {what}"))
}

/// One channel: its entries (as stored: 0..2^bits − 1) and its first mapped value.
fn table(
    ds: &InMemDicomObject,
    name: &str,
    descriptor: Tag,
    data: Tag,
    signed: bool,
) -> Result<(Vec<f32>, i64), ImagingError> {
    let missing = || bad(&format!("no {name} lookup table"));
    let words = ds
        .get(descriptor)
        .and_then(|e| e.to_multi_int::<i64>().ok())
        .filter(|d| d.len() == 3)
        .ok_or_else(missing)?;
    // 0 entries means 65,536. The first mapped value is US or SS with the pixels; dictionaries
    // call the descriptor US, so a negative one arrives as its unsigned bits.
    let entries = if words[0] == 0 {
        65_536
    } else {
        words[0] as usize
    };
    let first = if signed && (32_768..65_536).contains(&words[1]) {
        words[1] - 65_536
    } else {
        words[1]
    };
    let bits = words[2];
    let bytes = ds
        .get(data)
        .and_then(|e| e.to_bytes().ok())
        .ok_or_else(missing)?;
    let values: Vec<f32> = match bits {
        // 16-bit entries, one per word.
        16 if bytes.len() >= 2 * entries => bytes
            .chunks_exact(2)
            .take(entries)
            .map(|w| f32::from(u16::from_le_bytes([w[0], w[1]])))
            .collect(),
        // 8-bit entries: one per word (its low byte), or packed two per word; pydicom and
        // dcmtk tell the two apart by the data's length, as here.
        8 if bytes.len() >= 2 * entries => bytes
            .chunks_exact(2)
            .take(entries)
            .map(|w| f32::from(w[0]))
            .collect(),
        8 if bytes.len() >= entries => bytes[..entries].iter().map(|&b| f32::from(b)).collect(),
        8 | 16 => {
            return Err(bad(&format!(
                "a {name} table shorter than its {entries} entries"
            )));
        }
        other => {
            return Err(bad(&format!(
                "{other}-bit {name} entries (8 or 16 are read)"
            )));
        }
    };
    Ok((values, first))
}

//! A bounds walk over the raw DICOM element structure *before* dicom-rs sees the bytes.
//!
//! dicom-rs reserves and zero-fills every declared value length before reading it, so one
//! flipped length byte costs gigabytes and tens of seconds (found by the robustness test),
//! and deep sequence nesting recurses. Walking the headers first lets us refuse any element
//! that claims more bytes than the file holds, with a message naming it. The walk must also
//! step exactly as dicom-rs does: dicom-rs reads a binary-number element of odd size as whole
//! values and leaves the rest unread, so every later element shifts and one flipped byte (found
//! by fuzzing) again reads as a gigabyte length. Such elements are refused too.

use std::io::Read;

use crate::ImagingError;
use vr::{dictionary_vr, value_size};

mod vr;

const UNDEFINED: u32 = 0xFFFF_FFFF;
const MAX_DEPTH: u32 = 16;
/// Largest inflated data set accepted from a Deflated Explicit VR LE file.
const MAX_INFLATED: u64 = 256 * 1024 * 1024;

#[derive(Clone, Copy)]
struct Enc {
    explicit: bool,
    big: bool,
    /// Inside encapsulated pixel data: items are opaque fragments, not data sets.
    fragments: bool,
}

impl Enc {
    fn new(explicit: bool, big: bool) -> Enc {
        Enc {
            explicit,
            big,
            fragments: false,
        }
    }
}

fn damaged(msg: String) -> ImagingError {
    ImagingError::InvalidDicom(msg)
}

/// Where in the structure the walk is: which delimiters may end the current level depends on
/// it. Delimiters close only what has an undefined length; dicom-rs reads one elsewhere (a
/// sequence delimiter inside a sequence of known length, found by fuzzing) by ending the
/// sequence early and reading on from there, which the walk would not, so such files are
/// refused, as the standard does not allow them.
#[derive(Clone, Copy)]
struct Level {
    depth: u32,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    DataSet,
    /// A sequence's items (or encapsulated pixel data's fragments); `open`: undefined length.
    Sequence {
        open: bool,
    },
    /// An item's elements.
    Item {
        open: bool,
    },
}

impl Level {
    const TOP: Level = Level {
        depth: 0,
        kind: Kind::DataSet,
    };

    fn inside(self, kind: Kind) -> Level {
        Level {
            depth: self.depth + 1,
            kind,
        }
    }
}

/// Where the walk goes after one element.
enum Step {
    Next(usize),
    /// An item or sequence delimiter (or a header cut short): the enclosing level ends here.
    Stop(usize),
}

struct Walker<'a> {
    b: &'a [u8],
    ts: Option<String>,
}

impl Walker<'_> {
    fn u16(&self, at: usize, big: bool) -> u16 {
        let v = [self.b[at], self.b[at + 1]];
        if big {
            u16::from_be_bytes(v)
        } else {
            u16::from_le_bytes(v)
        }
    }

    fn u32(&self, at: usize, big: bool) -> u32 {
        let v = [self.b[at], self.b[at + 1], self.b[at + 2], self.b[at + 3]];
        if big {
            u32::from_be_bytes(v)
        } else {
            u32::from_le_bytes(v)
        }
    }

    /// Walks elements in `pos..end`; returns where it stopped (after a delimiter or at `end`).
    fn walk(
        &mut self,
        mut pos: usize,
        end: usize,
        enc: Enc,
        level: Level,
    ) -> Result<usize, ImagingError> {
        if level.depth > MAX_DEPTH {
            return Err(damaged(format!(
                "sequences nested deeper than {MAX_DEPTH} levels"
            )));
        }
        while pos + 8 <= end {
            match self.step(pos, end, enc, level)? {
                Step::Next(next) => pos = next,
                Step::Stop(at) => return Ok(at),
            }
        }
        // Inside an item of known length, dicom-rs reads a header that starts before its end
        // across it; a few bytes too short for a header are damage there, not padding.
        if level.depth > 0 && pos < end && !enc.fragments {
            return Err(damaged(format!(
                "an item ends {} bytes into an element header: the file is damaged",
                end - pos
            )));
        }
        Ok(pos)
    }

    /// Checks the element at `pos` (and what it nests) and says where the next one starts.
    fn step(
        &mut self,
        pos: usize,
        end: usize,
        enc: Enc,
        level: Level,
    ) -> Result<Step, ImagingError> {
        let group = self.u16(pos, enc.big);
        let elem = self.u16(pos + 2, enc.big);
        {
            if group == 0xFFFE {
                let len = self.u32(pos + 4, enc.big);
                let pos = pos + 8;
                // Group FFFE holds only items and their delimiters.
                if !matches!(elem, 0xE000 | 0xE00D | 0xE0DD) {
                    return Err(damaged(format!(
                        "element (FFFE,{elem:04X}) is neither an item nor a delimiter: the file is damaged"
                    )));
                }
                // An item belongs in a sequence; dicom-rs reads a stray one unpredictably.
                if elem == 0xE000 && !matches!(level.kind, Kind::Sequence { .. }) {
                    return Err(damaged(
                        "an item (FFFE,E000) stands outside any sequence: the file is damaged"
                            .into(),
                    ));
                }
                // dicom-rs reads a delimiter's length as a value to allocate and fill.
                if matches!(elem, 0xE00D | 0xE0DD) && len != 0 {
                    return Err(damaged(format!(
                        "a delimiter ({group:04X},{elem:04X}) declares {len} bytes where it has none: the file is damaged"
                    )));
                }
                return Ok(match (elem, level.kind) {
                    (0xE00D, Kind::Item { open: true })
                    | (0xE0DD, Kind::Sequence { open: true }) => Step::Stop(pos),
                    // A stray delimiter at top level must not end the walk early.
                    (0xE00D | 0xE0DD, Kind::DataSet) => Step::Next(pos),
                    (0xE00D | 0xE0DD, _) => {
                        return Err(damaged(format!(
                            "a delimiter ({group:04X},{elem:04X}) stands where nothing of undefined length ends: the file is damaged"
                        )));
                    }
                    _ if len == UNDEFINED => {
                        let item = level.inside(Kind::Item { open: true });
                        Step::Next(self.walk(pos, end, enc, item)?)
                    }
                    _ => {
                        let stop = self.fits(pos, len, end, group, elem)?;
                        if !enc.fragments {
                            self.walk(pos, stop, enc, level.inside(Kind::Item { open: false }))?;
                        }
                        Step::Next(stop)
                    }
                });
            }
            let vr = [self.b[pos + 4], self.b[pos + 5]];
            // dicom-rs reads an unknown VR as UN with a 4-byte length: refuse it instead.
            if enc.explicit && !crate::attrs::is_known_vr(vr) {
                return Err(damaged(format!(
                    "element ({group:04X},{elem:04X}) has no valid value representation"
                )));
            }
            let long = enc.explicit
                && matches!(
                    &vr,
                    b"OB"
                        | b"OD"
                        | b"OF"
                        | b"OL"
                        | b"OV"
                        | b"OW"
                        | b"SQ"
                        | b"UC"
                        | b"UN"
                        | b"UR"
                        | b"UT"
                        | b"SV"
                        | b"UV"
                );
            let (header, len) = if !enc.explicit {
                (8, self.u32(pos + 4, enc.big))
            } else if long {
                if pos + 12 > end {
                    return Ok(Step::Stop(pos));
                }
                (12, self.u32(pos + 8, enc.big))
            } else {
                (8, u32::from(self.u16(pos + 6, enc.big)))
            };
            let start = pos + header;
            let value_vr = if enc.explicit {
                Some(vr)
            } else {
                dictionary_vr(group, elem)
            };
            if len == UNDEFINED {
                // Only a sequence, encapsulated pixel data or UN may leave its length open;
                // dicom-rs reads any other as a value of 4 GB.
                if let Some(v) = value_vr.filter(|v| !matches!(v, b"SQ" | b"UN" | b"OB" | b"OW")) {
                    return Err(damaged(format!(
                        "element ({group:04X},{elem:04X}) of VR {} has an undefined length: the file is damaged",
                        String::from_utf8_lossy(&v)
                    )));
                }
                // SQ, encapsulated pixel data, or UN holding implicit VR LE.
                let inner = if enc.explicit && &vr == b"UN" {
                    Enc::new(false, false)
                } else {
                    Enc {
                        fragments: (group, elem) == (0x7FE0, 0x0010),
                        ..enc
                    }
                };
                let items = level.inside(Kind::Sequence { open: true });
                return Ok(Step::Next(self.walk(start, end, inner, items)?));
            }
            if let Some(size) = value_vr.and_then(value_size)
                && len % size != 0
            {
                return Err(damaged(format!(
                    "element ({group:04X},{elem:04X}) holds {len} bytes, not a whole number of {size}-byte values: the file is damaged"
                )));
            }
            let stop = self.fits(start, len, end, group, elem)?;
            let is_seq = (enc.explicit && &vr == b"SQ")
                || (!enc.explicit
                    && self.b.get(start..start + 4) == Some(&[0xFE, 0xFF, 0x00, 0xE0][..]));
            if is_seq {
                self.walk(
                    start,
                    stop,
                    enc,
                    level.inside(Kind::Sequence { open: false }),
                )?;
            }
            if (group, elem) == (0x0002, 0x0010) {
                // Trimmed as dicom-rs trims it (any whitespace, not only spaces): a UID that
                // ends in a tab is still big endian to dicom-rs, and must be to the walk.
                let uid = String::from_utf8_lossy(&self.b[start..stop]);
                let uid = uid.trim_end_matches(|c: char| c.is_whitespace() || c == '\0');
                self.ts = Some(uid.to_string());
            }
            Ok(Step::Next(stop))
        }
    }

    /// Walks the file meta group at `pos` as dicom-rs reads it: its group length (0002,0000)
    /// first, then whole elements until that many bytes are read, whatever their group.
    /// Returns where the data set starts.
    fn meta(&mut self, pos: usize) -> Result<usize, ImagingError> {
        let header = self.b.get(pos..pos + 12);
        let Some(&[2, 0, 0, 0, b'U', b'L', 4, 0, a, b, c, d]) = header else {
            return Err(damaged(
                "the file meta information does not start with its group length (0002,0000)".into(),
            ));
        };
        let end = pos + 12;
        let length = u32::from_le_bytes([a, b, c, d]) as usize;
        let target = end.saturating_add(length);
        let le = Enc::new(true, false);
        let mut at = end;
        while at < target && at + 8 <= self.b.len() {
            match self.step(at, self.b.len(), le, Level::TOP)? {
                Step::Next(next) => at = next,
                Step::Stop(stop) => return Ok(stop),
            }
        }
        Ok(at)
    }

    /// Checks that `len` bytes from `start` lie before `end`; pixel data gets the
    /// "truncated pixel data" wording because that is what a cut-off download looks like.
    fn fits(
        &self,
        start: usize,
        len: u32,
        end: usize,
        group: u16,
        elem: u16,
    ) -> Result<usize, ImagingError> {
        let remaining = end.saturating_sub(start) as u64;
        if u64::from(len) <= remaining {
            return Ok(start + len as usize);
        }
        if (group, elem) == (0x7FE0, 0x0010) {
            return Err(ImagingError::Truncated {
                expected: len.into(),
                found: remaining,
            });
        }
        Err(damaged(format!(
            "element ({group:04X},{elem:04X}) declares {len} bytes but only {remaining} remain: the file is truncated or damaged"
        )))
    }
}

/// Walks a whole file or bare data set starting at `start` (after the preamble).
/// `meta` says whether a "DICM" + file meta group comes first; `explicit` is the guess for
/// bare data sets.
pub(crate) fn check(
    bytes: &[u8],
    start: usize,
    meta: bool,
    explicit: bool,
) -> Result<(), ImagingError> {
    let mut w = Walker { b: bytes, ts: None };
    let le = Enc::new(true, false);
    if !meta {
        w.walk(start, bytes.len(), Enc::new(explicit, false), Level::TOP)?;
        return Ok(());
    }
    let body = w.meta(start + 4)?;
    let ts = w.ts.clone().unwrap_or_default();
    match ts.as_str() {
        "1.2.840.10008.1.2" => w.walk(body, bytes.len(), Enc::new(false, false), Level::TOP)?,
        "1.2.840.10008.1.2.2" => w.walk(body, bytes.len(), Enc::new(true, true), Level::TOP)?,
        "1.2.840.10008.1.2.1.99" => {
            let mut inflated = Vec::new();
            flate2::read::DeflateDecoder::new(&bytes[body..])
                .take(MAX_INFLATED + 1)
                .read_to_end(&mut inflated)
                .map_err(|e| damaged(format!("deflated data set unreadable: {e}")))?;
            if inflated.len() as u64 > MAX_INFLATED {
                return Err(damaged(format!(
                    "deflated data set expands beyond {MAX_INFLATED} bytes"
                )));
            }
            let mut inner = Walker {
                b: &inflated,
                ts: None,
            };
            inner.walk(0, inflated.len(), le, Level::TOP)?
        }
        _ => w.walk(body, bytes.len(), le, Level::TOP)?,
    };
    Ok(())
}

//! Files a person annotated → model-ready slices with every reader's mask: the one grouping
//! rule shared by the page's fine-tuning and the CLI's flat folders.

use std::collections::BTreeMap;

use crate::{ImagingError, InputContract, MaskPixels, SegmentMask, read_segmentation};

/// One image, prepared by the model's contract, with every reader's mask on the same crop.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnotatedSlice {
    /// The slice's name: `<slice>` of `<slice>_image.png`, or a DICOM image's file name.
    pub name: String,
    /// Row-major model input, `model_side²` values.
    pub image: Vec<f32>,
    /// One mask per reader (`model_side²` flags), in the order of `mask_names`.
    pub masks: Vec<MaskPixels>,
    /// Where each mask came from: a mask file's name, or "<SEG file> (<segment label>)".
    pub mask_names: Vec<String>,
}

/// Groups files into annotated slices, each prepared by the model's input `contract` around
/// the image centre, exactly as the page prepares a crop for sampling:
/// - files named like the LIDC layout — `<slice>_image.<ext>` and `<slice>_rater<R>.png` (or
///   `<slice>_mask<R>.png`);
/// - DICOM images with the DICOM Segmentation (SEG) files drawn on them, matched by the SOP
///   Instance UID each SEG frame names (any file names): every segment is one reader's mask.
///
/// Returns the pairs and one line per file that could not be used.
pub fn group_annotated(
    files: Vec<(String, Vec<u8>)>,
    contract: &InputContract,
) -> (Vec<AnnotatedSlice>, Vec<String>) {
    let mut images: BTreeMap<String, Image> = BTreeMap::new();
    let mut masks: BTreeMap<String, Vec<(String, MaskPixels)>> = BTreeMap::new();
    let mut segs: Vec<(String, SegmentMask)> = Vec::new();
    let mut problems = Vec::new();
    let to_mask = |name: &str, bits: Result<MaskPixels, ImagingError>| {
        bits.map_err(|error| format!("{name}: {error}"))
    };
    for (name, bytes) in files {
        let file = match crate::decode(&bytes, Some(&name)) {
            Ok(file) => file,
            Err(ImagingError::Segmentation) => {
                match read_segmentation(&bytes) {
                    Ok(frames) => segs.extend(frames.into_iter().map(|f| (name.clone(), f))),
                    Err(error) => problems.push(format!("{name}: {error}")),
                }
                continue;
            }
            Err(error) => {
                problems.push(format!("{name}: {error}"));
                continue;
            }
        };
        let centre = (file.width as f32 / 2.0, file.height as f32 / 2.0);
        let (slice, role) = match split_name(&name) {
            Some(found) => found,
            // A DICOM image may be named anything: a SEG finds it by its UID.
            None if file.sop_instance_uid.is_some() => (name.clone(), Role::Image),
            None => {
                problems.push(format!(
                    "{name}: name it <slice>_image.png and <slice>_rater0.png, \
                     <slice>_rater1.png, …, or drop a DICOM image with its SEG files"
                ));
                continue;
            }
        };
        match role {
            Role::Image => match contract.prepare(&file, centre) {
                Ok(prepared) => {
                    images.insert(
                        slice,
                        Image {
                            values: prepared.data,
                            uid: file.sop_instance_uid,
                            frame: file.frame,
                            size: (file.width, file.height),
                            centre,
                        },
                    );
                }
                Err(error) => problems.push(format!("{name}: {error}")),
            },
            Role::Mask => match to_mask(&name, contract.prepare_mask(&file, centre)) {
                Ok(mask) => masks.entry(slice).or_default().push((name, mask)),
                Err(error) => problems.push(error),
            },
        }
    }
    for (name, frame) in segs {
        let label = format!("{name} ({})", frame.label);
        let Some((slice, image)) = images.iter().find(|(_, image)| {
            image
                .uid
                .as_deref()
                .is_some_and(|uid| frame.is_on(uid, image.frame))
        }) else {
            problems.push(format!(
                "{label}: drawn on an image that was not dropped with it (SOP Instance UID {})",
                frame.source_uid.as_deref().unwrap_or("not stated")
            ));
            continue;
        };
        if (frame.width, frame.height) != image.size {
            problems.push(format!(
                "{label}: the segmentation is {}×{} but its image is {}×{}",
                frame.width, frame.height, image.size.0, image.size.1
            ));
            continue;
        }
        let bits = contract.prepare_mask_bits(frame.width, frame.height, &frame.bits, image.centre);
        match to_mask(&label, bits) {
            Ok(mask) => masks.entry(slice.clone()).or_default().push((label, mask)),
            Err(error) => problems.push(error),
        }
    }
    let mut slices = Vec::new();
    for (slice, image) in images {
        let mut raters = masks.remove(&slice).unwrap_or_default();
        if raters.is_empty() {
            problems.push(format!("{slice}: an image without masks is not used"));
            continue;
        }
        // Natural order: rater2 before rater10.
        raters.sort_by(|a, b| (a.0.len(), &a.0).cmp(&(b.0.len(), &b.0)));
        let (mask_names, masks) = raters.into_iter().unzip();
        slices.push(AnnotatedSlice {
            name: slice,
            image: image.values,
            masks,
            mask_names,
        });
    }
    for slice in masks.keys() {
        problems.push(format!("{slice}: masks without an image are not used"));
    }
    (slices, problems)
}

/// A prepared image file, with what a SEG frame needs to find it and crop like it.
struct Image {
    values: Vec<f32>,
    uid: Option<String>,
    frame: u32,
    size: (u32, u32),
    centre: (f32, f32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Image,
    Mask,
}

/// `z-103.5_rater2.png` → (`z-103.5`, Mask).
fn split_name(name: &str) -> Option<(String, Role)> {
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let (slice, role) = stem.rsplit_once('_')?;
    let role = if role == "image" {
        Role::Image
    } else if role.starts_with("rater") || role.starts_with("mask") {
        Role::Mask
    } else {
        return None;
    };
    Some((slice.to_string(), role))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_lidc_layout() {
        assert_eq!(
            split_name("z-103.5_image.png"),
            Some(("z-103.5".into(), Role::Image))
        );
        assert_eq!(
            split_name("z-103.5_rater3.png"),
            Some(("z-103.5".into(), Role::Mask))
        );
        assert_eq!(
            split_name("case_mask1.png"),
            Some(("case".into(), Role::Mask))
        );
        assert_eq!(split_name("slice.png"), None);
        assert_eq!(split_name("a_b.png"), None);
    }
}

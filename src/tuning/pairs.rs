//! The person's annotated files → training pairs (read in the page, never uploaded).

use std::collections::BTreeMap;

use imaging::PrepareSpec;
use probunet::Pair;
use probunet::metrics::Mask;

use crate::workbench::CROP_SIDE;

/// Groups files named like the LIDC layout — `<slice>_image.<ext>` and `<slice>_rater<R>.png`
/// (or `<slice>_mask<R>.png`) — into pairs, each cropped around the image centre to the model's
/// input size. Returns the pairs and one line per file that could not be used.
pub fn pairs_from_files(files: Vec<(String, Vec<u8>)>) -> (Vec<Pair>, Vec<String>) {
    let mut images: BTreeMap<String, Vec<f32>> = BTreeMap::new();
    let mut masks: BTreeMap<String, Vec<(String, Mask)>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, bytes) in files {
        let Some((slice, role)) = split_name(&name) else {
            problems.push(format!(
                "{name}: name it <slice>_image.png and <slice>_rater0.png, <slice>_rater1.png, …"
            ));
            continue;
        };
        match crop(&name, &bytes) {
            Ok(values) if role == Role::Image => {
                images.insert(slice, values);
            }
            Ok(values) => {
                let mask = Mask::from_fn(CROP_SIDE as usize, CROP_SIDE as usize, |x, y| {
                    values[y * CROP_SIDE as usize + x] > 0.5
                });
                masks.entry(slice).or_default().push((name, mask));
            }
            Err(error) => problems.push(error),
        }
    }
    let mut pairs = Vec::new();
    for (slice, image) in images {
        let mut raters = masks.remove(&slice).unwrap_or_default();
        if raters.is_empty() {
            problems.push(format!("{slice}: an image without masks is not used"));
            continue;
        }
        raters.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.push(Pair {
            name: slice,
            image,
            side: CROP_SIDE as usize,
            masks: raters.into_iter().map(|(_, mask)| mask).collect(),
        });
    }
    for slice in masks.keys() {
        problems.push(format!("{slice}: masks without an image are not used"));
    }
    (pairs, problems)
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

/// The centre crop of a file at the model's input size, in \[0, 1\] after the file's window.
fn crop(name: &str, bytes: &[u8]) -> Result<Vec<f32>, String> {
    let slice = imaging::decode(bytes, Some(name)).map_err(|error| format!("{name}: {error}"))?;
    let centre = (slice.width as f32 / 2.0, slice.height as f32 / 2.0);
    imaging::prepare(&slice, &PrepareSpec::new(CROP_SIDE, centre))
        .map(|prepared| prepared.data)
        .map_err(|error| format!("{name}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

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

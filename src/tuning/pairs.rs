//! The person's annotated files → training pairs (read in the page, never uploaded).

use std::collections::BTreeMap;

use imaging::{InputContract, Slice};
use probunet::Pair;
use probunet::metrics::Mask;

/// Groups files named like the LIDC layout — `<slice>_image.<ext>` and `<slice>_rater<R>.png`
/// (or `<slice>_mask<R>.png`) — into pairs, each prepared by the model's input `contract`
/// around the image centre, exactly as the page prepares a crop for sampling. Returns the pairs
/// and one line per file that could not be used.
pub fn pairs_from_files(
    files: Vec<(String, Vec<u8>)>,
    contract: &InputContract,
) -> (Vec<Pair>, Vec<String>) {
    let side = contract.model_side as usize;
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
        let prepared = decode(&name, &bytes).and_then(|file| {
            let centre = (file.width as f32 / 2.0, file.height as f32 / 2.0);
            let fail = |error: imaging::ImagingError| format!("{name}: {error}");
            match role {
                Role::Image => contract
                    .prepare(&file, centre)
                    .map(|p| Prepared::Image(p.data))
                    .map_err(fail),
                Role::Mask => contract
                    .prepare_mask(&file, centre)
                    .map_err(fail)
                    .and_then(|bits| {
                        Mask::from_bools(side, side, &bits)
                            .map(Prepared::Mask)
                            .map_err(|error| format!("{name}: {error}"))
                    }),
            }
        });
        match prepared {
            Ok(Prepared::Image(values)) => {
                images.insert(slice, values);
            }
            Ok(Prepared::Mask(mask)) => masks.entry(slice).or_default().push((name, mask)),
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
            side,
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

enum Prepared {
    Image(Vec<f32>),
    Mask(Mask),
}

fn decode(name: &str, bytes: &[u8]) -> Result<Slice, String> {
    imaging::decode(bytes, Some(name)).map_err(|error| format!("{name}: {error}"))
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

#[cfg(test)]
mod contract_tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const IMAGE: &[u8] =
        include_bytes!("../../../shared/fixtures/multirater/lidc0221/z-103.5_image.png");
    const RATER: &[u8] =
        include_bytes!("../../../shared/fixtures/multirater/lidc0221/z-103.5_rater0.png");

    #[test]
    fn pairs_are_prepared_exactly_like_the_crop_the_page_samples() {
        let contract = InputContract::lidc(64, 1.0);
        let files = vec![
            ("z_image.png".to_string(), IMAGE.to_vec()),
            ("z_rater0.png".to_string(), RATER.to_vec()),
        ];
        let (pairs, problems) = pairs_from_files(files, &contract);
        assert!(problems.is_empty(), "{problems:?}");
        let slice = imaging::decode(IMAGE, None).unwrap();
        let centre = (slice.width as f32 / 2.0, slice.height as f32 / 2.0);
        // The same function, the same numbers as inference on that crop.
        assert_eq!(
            pairs[0].image,
            contract.prepare(&slice, centre).unwrap().data
        );
        let mask = imaging::decode(RATER, None).unwrap();
        let bits = contract.prepare_mask(&mask, centre).unwrap();
        assert_eq!(pairs[0].masks[0], Mask::from_bools(64, 64, &bits).unwrap());
        assert!(pairs[0].masks[0].foreground_count() > 0);
    }
}

//! The person's annotated files → training pairs (read in the page, never uploaded).

use imaging::InputContract;
use metrics::Mask;
use probunet::Pair;

/// The person's files → training pairs ([`imaging::group_annotated`]: the LIDC file-name layout,
/// or DICOM images with their SEG files), each prepared by the model's input `contract`
/// exactly as the page prepares a crop for sampling. Returns the pairs and one line per file
/// that could not be used.
pub fn pairs_from_files(
    files: Vec<(String, Vec<u8>)>,
    contract: &InputContract,
) -> (Vec<Pair>, Vec<String>) {
    let side = contract.model_side as usize;
    let (slices, mut problems) = imaging::group_annotated(files, contract);
    let mut pairs = Vec::with_capacity(slices.len());
    for slice in slices {
        let masks = slice
            .masks
            .iter()
            .zip(&slice.mask_names)
            .map(|(bits, name)| {
                Mask::from_bools(side, side, bits).map_err(|error| format!("{name}: {error}"))
            })
            .collect::<Result<Vec<_>, _>>();
        match masks {
            Ok(masks) => pairs.push(Pair {
                name: slice.name,
                image: slice.image,
                side,
                masks,
            }),
            Err(problem) => problems.push(problem),
        }
    }
    (pairs, problems)
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

    #[test]
    fn a_dicom_image_and_its_readers_seg_files_make_one_pair() {
        const CT: &[u8] = include_bytes!("../../../shared/fixtures/dicom/CT_small.dcm");
        const READER1: &[u8] = include_bytes!("../../tests/e2e/data/CT_small_reader1_seg.dcm");
        const READER2: &[u8] = include_bytes!("../../tests/e2e/data/CT_small_reader2_seg.dcm");
        let contract = InputContract::lidc(64, 1.0);
        let files = vec![
            ("reader2.dcm".to_string(), READER2.to_vec()),
            ("CT_small.dcm".to_string(), CT.to_vec()),
            ("reader1.dcm".to_string(), READER1.to_vec()),
        ];
        let (pairs, problems) = pairs_from_files(files, &contract);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].name, "CT_small.dcm");
        // Sorted by file name: reader 1's disc (r 6) before reader 2's (r 8.5).
        let sizes: Vec<usize> = pairs[0].masks.iter().map(Mask::foreground_count).collect();
        assert_eq!(sizes.len(), 2);
        assert!(sizes[0] > 100 && sizes[0] < sizes[1], "{sizes:?}");
        // The SEG frame goes through the same crop as the image.
        let image = imaging::decode(CT, None).unwrap();
        let frame = imaging::read_segmentation(READER1).unwrap().remove(0);
        let bits = contract
            .prepare_mask_bits(128, 128, &frame.bits, (64.0, 64.0))
            .unwrap();
        assert_eq!(pairs[0].masks[0], Mask::from_bools(64, 64, &bits).unwrap());
        assert_eq!(
            pairs[0].image,
            contract.prepare(&image, (64.0, 64.0)).unwrap().data
        );

        let (pairs, problems) =
            pairs_from_files(vec![("r.dcm".into(), READER1.to_vec())], &contract);
        assert!(pairs.is_empty());
        assert!(problems[0].contains("not dropped with it"), "{problems:?}");
    }
}

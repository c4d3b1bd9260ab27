//! The model-input contract: one recipe for images and masks, whoever prepares them.

mod common;

use imaging::{InputContract, Intensity, PrepareSpec, Preset, Slice, prepare};

/// A grey PNG slice from raw 8-bit pixels, through the real decoder.
fn png_slice(width: u32, height: u32, pixels: &[u8]) -> Slice {
    let img = image::GrayImage::from_raw(width, height, pixels.to_vec()).unwrap();
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .unwrap();
    imaging::decode(&bytes, Some("test.png")).unwrap()
}

#[test]
fn label_maps_and_0_255_masks_read_alike() {
    // A 0/1 label map used to load as an empty mask (threshold 127): any non-zero pixel counts.
    let contract = InputContract::lidc(4, 1.0);
    let mut ones = vec![0u8; 8 * 8];
    let mut full = vec![0u8; 8 * 8];
    for i in [27, 28, 35, 36] {
        ones[i] = 1;
        full[i] = 255;
    }
    let center = (4.0, 4.0);
    let a = contract
        .prepare_mask(&png_slice(8, 8, &ones), center)
        .unwrap();
    let b = contract
        .prepare_mask(&png_slice(8, 8, &full), center)
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.iter().filter(|&&v| v).count(), 4);
}

#[test]
fn crops_at_native_scale_never_resizes() {
    // The lidc0221 fixture is 180²: the model sees its central 64² native pixels, not the
    // whole square shrunk to 64².
    let bytes = common::read("multirater/lidc0221/z-103.5_image.png");
    let slice = imaging::decode(&bytes, None).unwrap();
    assert_eq!((slice.width, slice.height), (180, 180));
    let contract = InputContract::lidc(64, 1.0);
    let p = contract.prepare(&slice, (90.0, 90.0)).unwrap();
    assert_eq!(p.map.scale, (1.0, 1.0));
    assert_eq!(p.map.origin, (58.0, 58.0));
    // Min–max over the 128² context around the centre, then the centre 64² copied exactly.
    let context: Vec<f32> = (26..154)
        .flat_map(|y| (26..154).map(move |x| (x, y)))
        .map(|(x, y)| slice.pixels[y * 180 + x])
        .collect();
    let lo = context.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = context.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for my in 0..64 {
        for mx in 0..64 {
            let v = slice.pixels[(58 + my) * 180 + 58 + mx];
            let want = (v - lo) / (hi - lo);
            let got = p.data[my * 64 + mx];
            assert!((got - want).abs() < 1e-5, "({mx},{my}): {got} vs {want}");
        }
    }
    // The masks come from the same native pixels.
    let mask = imaging::decode(
        &common::read("multirater/lidc0221/z-103.5_rater0.png"),
        None,
    )
    .unwrap();
    let bits = contract.prepare_mask(&mask, (90.0, 90.0)).unwrap();
    for my in 0..64 {
        for mx in 0..64 {
            let v = mask.pixels[(58 + my) * 180 + 58 + mx];
            assert_eq!(bits[my * 64 + mx], v != 0.0);
        }
    }
}

#[test]
fn a_lidc_crop_is_its_own_grey_levels() {
    // The data set's crops were min–max scaled one by one: through the contract a stored crop
    // comes back as grey / 255, so training and inference see the same numbers.
    let pixels: Vec<u8> = (0..128 * 128).map(|i| (i * 7 % 256) as u8).collect();
    let slice = png_slice(128, 128, &pixels);
    let p = InputContract::lidc(64, 1.0)
        .prepare(&slice, (64.0, 64.0))
        .unwrap();
    for my in 0..64 {
        for mx in 0..64 {
            let want = f32::from(pixels[(32 + my) * 128 + 32 + mx]) / 255.0;
            assert!((p.data[my * 64 + mx] - want).abs() < 1e-6);
        }
    }
}

#[test]
fn ct_goes_through_the_contract_window_png_keeps_its_own() {
    let ct = common::decode("dicom/CT_small.dcm").unwrap();
    let synthetic = InputContract::synthetic(64, 0.25);
    let p = synthetic.prepare(&ct, (64.0, 64.0)).unwrap();
    let mut spec = PrepareSpec::new(64, (64.0, 64.0));
    spec.window = Some(Preset::Lung.window());
    assert_eq!(p.data, prepare(&ct, &spec).unwrap().data);
    // A PNG has no Hounsfield units: its own grey levels, not the lung window on them.
    let png = common::decode("png/CT_small_lungwin_8bit.png").unwrap();
    assert_eq!(synthetic.window_for(&png, (64.0, 64.0)), png.window);
    // Min–max on CT: the context's own range, whatever the file's window.
    let lidc = InputContract::lidc(64, 1.0);
    let p = lidc.prepare(&ct, (64.0, 64.0)).unwrap();
    let lo = p.data.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = p.data.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    assert!(lo >= 0.0 && hi <= 1.0 && hi - lo > 0.5, "{lo}..{hi}");
}

#[test]
fn off_grid_centres_snap_so_image_and_mask_align() {
    let contract = InputContract::lidc(4, 1.0);
    assert_eq!(contract.snap((10.3, 9.7)), (10.0, 10.0));
    let pixels: Vec<u8> = (0..16 * 16).map(|i| i as u8).collect();
    let slice = png_slice(16, 16, &pixels);
    let p = contract.prepare(&slice, (8.4, 8.4)).unwrap();
    assert_eq!(p.map.origin, (6.0, 6.0));
}

#[test]
fn contracts_round_trip_and_nonsense_is_refused() {
    for c in [
        InputContract::lidc(64, 1.0),
        InputContract::synthetic(64, 0.25),
    ] {
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<InputContract>(&json).unwrap(), c);
        c.check().unwrap();
    }
    let mut c = InputContract::lidc(64, 1.0);
    c.crop_side = 32;
    assert!(c.check().is_err());
    let mut c = InputContract::lidc(64, 1.0);
    c.intensity = Intensity::CtWindow {
        center: f32::NAN,
        width: 10.0,
    };
    assert!(c.check().is_err());
    let mut c = InputContract::lidc(64, 1.0);
    c.training.beta = -1.0;
    assert!(c.check().is_err());
}

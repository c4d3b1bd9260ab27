//! `prepare` (window → crop/resample) and `mask_to_image` (back onto the slice).

mod common;

use imaging::{PrepareSpec, Preset, mask_to_image, prepare};

#[test]
fn native_resolution_crop_of_ct_small_is_its_windowed_pixels() {
    let s = common::decode("dicom/CT_small.dcm").unwrap();
    let mut spec = PrepareSpec::new(128, (64.0, 64.0));
    spec.window = Some(Preset::Lung.window());
    let p = prepare(&s, &spec).unwrap();
    assert_eq!((p.width, p.height, p.data.len()), (128, 128, 128 * 128));
    let w = s.windowed(Preset::Lung.window());
    for (a, b) in p.data.iter().zip(&w) {
        assert!((a - b).abs() < 1e-6);
    }
    assert!(p.data.iter().all(|v| (0.0..=1.0).contains(v)));
    assert_eq!(p.map.origin, (0.0, 0.0));
    assert_eq!(p.map.scale, (1.0, 1.0));
}

#[test]
fn physical_spacing_resamples_and_maps_back() {
    let s = common::decode("dicom/CT1_UNC.dcm").unwrap();
    let spec = PrepareSpec {
        spacing_mm: Some(1.0),
        ..PrepareSpec::new(128, (300.0, 200.0))
    };
    let p = prepare(&s, &spec).unwrap();
    assert!(p.resampled);
    let k = 1.0 / 0.661468;
    assert!((p.map.scale.0 - k).abs() < 1e-4 && (p.map.scale.1 - k).abs() < 1e-4);
    // The crop is centred on the requested point...
    let (cx, cy) = p.map.to_image(64.0, 64.0);
    assert!((cx - 300.0).abs() < 1e-3 && (cy - 200.0).abs() < 1e-3);
    // ...and the two maps are inverse.
    let (mx, my) = p.map.to_model(123.4, 250.5);
    let (x, y) = p.map.to_image(mx, my);
    assert!((x - 123.4).abs() < 1e-3 && (y - 250.5).abs() < 1e-3);
}

#[test]
fn unknown_spacing_is_reported_not_guessed() {
    let s = common::decode("png/CT_small_lungwin_8bit.png").unwrap();
    let spec = PrepareSpec {
        spacing_mm: Some(0.7),
        ..PrepareSpec::new(64, (64.0, 64.0))
    };
    let p = prepare(&s, &spec).unwrap();
    assert!(!p.resampled);
    assert_eq!(p.map.scale, (1.0, 1.0));
}

#[test]
fn outside_the_image_is_zero() {
    let s = common::decode("dicom/CT_small.dcm").unwrap();
    let p = prepare(&s, &PrepareSpec::new(128, (0.0, 0.0))).unwrap();
    // Top-left quadrant lies outside the slice.
    assert_eq!(p.data[0], 0.0);
    assert_eq!(p.data[63 * 128 + 63], 0.0);
    assert!(p.data[127 * 128 + 127] > 0.0 || s.pixels[63 * 128 + 63] < -1400.0);
}

#[test]
fn mask_round_trip_lands_on_the_same_pixels() {
    let s = common::decode("dicom/CT1_UNC.dcm").unwrap();
    let spec = PrepareSpec::new(128, (256.0, 256.0));
    let p = prepare(&s, &spec).unwrap();
    // A 10×10 square at model (20..30, 40..50).
    let mut mask = vec![0.0f32; 128 * 128];
    for y in 40..50 {
        for x in 20..30 {
            mask[y * 128 + x] = 1.0;
        }
    }
    let img = mask_to_image(&mask, &p.map).unwrap();
    assert_eq!(img.len(), 512 * 512);
    // Model (20, 40) is image (192 + 20, 192 + 40) at native scale.
    let on: Vec<usize> = (0..img.len()).filter(|&i| img[i] >= 0.5).collect();
    assert_eq!(on.len(), 100);
    assert!(on.contains(&((192 + 40) * 512 + 192 + 20)));
    assert!(on.contains(&((192 + 49) * 512 + 192 + 29)));
}

#[test]
fn mask_round_trip_under_resampling_keeps_area() {
    let s = common::decode("dicom/CT1_UNC.dcm").unwrap();
    let spec = PrepareSpec {
        spacing_mm: Some(1.0),
        ..PrepareSpec::new(128, (256.0, 256.0))
    };
    let p = prepare(&s, &spec).unwrap();
    let mut mask = vec![0.0f32; 128 * 128];
    for y in 54..74 {
        for x in 54..74 {
            mask[y * 128 + x] = 1.0;
        }
    }
    let img = mask_to_image(&mask, &p.map).unwrap();
    let area = img.iter().filter(|&&v| v >= 0.5).count() as f32;
    // 20 mm × 20 mm at 0.661468 mm/pixel ≈ 914 pixels.
    let want = (20.0 / 0.661468f32).powi(2);
    assert!((area - want).abs() / want < 0.05, "area {area} vs {want}");
}

#[test]
fn bad_requests_are_errors() {
    let s = common::decode("dicom/CT_small.dcm").unwrap();
    assert!(prepare(&s, &PrepareSpec::new(0, (1.0, 1.0))).is_err());
    assert!(prepare(&s, &PrepareSpec::new(128, (f32::NAN, 1.0))).is_err());
    let neg = PrepareSpec {
        spacing_mm: Some(-1.0),
        ..PrepareSpec::new(128, (1.0, 1.0))
    };
    assert!(prepare(&s, &neg).is_err());
    let p = prepare(&s, &PrepareSpec::new(128, (64.0, 64.0))).unwrap();
    let e = mask_to_image(&[0.0; 3], &p.map).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid crop request: mask has 3 values, expected 128×128"
    );
}

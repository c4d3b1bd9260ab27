//! PNG fixtures: sizes and ranges from MANIFEST.txt, and the stated relations to CT1/CT_small.

mod common;

use common::decode;
use imaging::{Photometric, Preset, Source, Units};

fn range(p: &[f32]) -> (f32, f32) {
    p.iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

#[test]
fn every_png_fixture_has_its_manifest_size_and_range() {
    let table = [
        (
            "png/BrainProtonDensitySlice.png",
            (181, 217),
            (0.0, 251.0),
            8,
        ),
        (
            "png/CT1_HUplus1024_16bit.png",
            (512, 512),
            (0.0, 2278.0),
            16,
        ),
        ("png/CT1_lungwin_8bit.png", (512, 512), (0.0, 255.0), 8),
        (
            "png/CT_small_HUplus1024_16bit.png",
            (128, 128),
            (128.0, 2191.0),
            16,
        ),
        (
            "png/CT_small_lungwin_8bit.png",
            (128, 128),
            (77.0, 255.0),
            8,
        ),
    ];
    for (file, size, minmax, depth) in table {
        let s = decode(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!((s.width, s.height), size, "{file}");
        assert_eq!(range(&s.pixels), minmax, "{file}");
        assert_eq!(s.units, Units::Raw, "{file}");
        assert_eq!(s.spacing, None, "{file}");
        let Source::Png { bit_depth, .. } = s.source else {
            panic!("{file}: not PNG")
        };
        assert_eq!(bit_depth, depth, "{file}");
    }
}

#[test]
fn palette_png_decodes_as_grey() {
    let s = decode("png/BrainProtonDensitySlice.png").unwrap();
    assert_eq!(
        s.source,
        Source::Png {
            bit_depth: 8,
            color: "Palette".into()
        }
    );
    assert_eq!(s.photometric, Photometric::Monochrome2, "grey palette");
}

#[test]
fn sixteen_bit_png_minus_1024_is_the_dicom_hu() {
    for (png, dcm) in [
        ("png/CT1_HUplus1024_16bit.png", "dicom/CT1_UNC.dcm"),
        ("png/CT_small_HUplus1024_16bit.png", "dicom/CT_small.dcm"),
    ] {
        let mut p = decode(png).unwrap();
        p.rescale(1.0, -1024.0, Units::Hounsfield);
        let d = decode(dcm).unwrap();
        for (i, (a, b)) in p.pixels.iter().zip(&d.pixels).enumerate() {
            // MANIFEST: clip(HU + 1024, 0, 65535): HU below -1024 (padding) became 0.
            let want = b.max(-1024.0);
            assert_eq!(*a, want, "{png} pixel {i}");
        }
    }
}

#[test]
fn eight_bit_lung_png_matches_our_lung_window() {
    for (png, dcm) in [
        ("png/CT1_lungwin_8bit.png", "dicom/CT1_UNC.dcm"),
        ("png/CT_small_lungwin_8bit.png", "dicom/CT_small.dcm"),
    ] {
        let p = decode(png).unwrap();
        let d = decode(dcm).unwrap();
        let ours = d.windowed(Preset::Lung.window());
        let worst = p
            .pixels
            .iter()
            .zip(&ours)
            .map(|(a, b)| (a / 255.0 - b).abs())
            .fold(0.0f32, f32::max);
        // Exporters round differently; one grey level plus the LINEAR half-pixel offset.
        assert!(worst <= 1.5 / 255.0, "{png}: worst {worst}");
    }
}

#[test]
fn multirater_pngs_decode() {
    let dir = common::fixtures().join("multirater/lidc0221");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "png") {
            let bytes = std::fs::read(&path).unwrap();
            let s = imaging::decode(&bytes, None).unwrap();
            assert_eq!((s.width, s.height), (180, 180), "{}", path.display());
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .contains("rater")
            {
                let (lo, hi) = range(&s.pixels);
                assert!(lo == 0.0 && hi <= 255.0, "{}", path.display());
            }
            n += 1;
        }
    }
    assert_eq!(n, 25);
}

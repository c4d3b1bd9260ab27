//! Damaged and hostile inputs return errors (never panic), absurd sizes are refused before
//! allocation, and header edits are honoured (MONOCHROME1).

mod common;

use imaging::{ImagingError, Photometric, Preset};

/// Replaces the value of a short explicit-VR LE element `(group, element)` with `value`.
fn patch(bytes: &mut [u8], group: u16, element: u16, value: &[u8]) {
    let mut tag = group.to_le_bytes().to_vec();
    tag.extend_from_slice(&element.to_le_bytes());
    let at = bytes.windows(4).position(|w| w == tag.as_slice()).unwrap() + 8;
    bytes[at..at + value.len()].copy_from_slice(value);
}

#[test]
fn absurd_dicom_dimensions_are_refused_before_allocating() {
    let mut b = common::read("dicom/CT_small.dcm");
    patch(&mut b, 0x0028, 0x0010, &u16::MAX.to_le_bytes());
    patch(&mut b, 0x0028, 0x0011, &u16::MAX.to_le_bytes());
    let e = imaging::decode(&b, None).unwrap_err();
    assert!(matches!(e, ImagingError::TooLarge { .. }), "{e}");
    assert!(
        e.to_string().starts_with("image too large: 65535×65535"),
        "{e}"
    );
}

#[test]
fn bigger_header_than_pixel_data_is_truncation() {
    let mut b = common::read("dicom/CT_small.dcm");
    patch(&mut b, 0x0028, 0x0010, &256u16.to_le_bytes());
    let e = imaging::decode(&b, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "truncated pixel data: expected 65536 bytes, found 32768"
    );
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn absurd_png_dimensions_are_refused() {
    let mut b = common::read("png/CT_small_lungwin_8bit.png");
    b[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    b[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&b[12..29]);
    b[29..33].copy_from_slice(&crc.to_be_bytes());
    let e = imaging::decode(&b, None).unwrap_err();
    assert!(
        e.to_string().starts_with("image too large: 100000×100000"),
        "{e}"
    );
}

#[test]
fn monochrome1_is_inverted_after_the_window() {
    let mut b = common::read("dicom/CT_small.dcm");
    let at = b.windows(11).position(|w| w == b"MONOCHROME2").unwrap();
    b[at + 10] = b'1';
    let m1 = imaging::decode(&b, None).unwrap();
    let m2 = common::decode("dicom/CT_small.dcm").unwrap();
    assert_eq!(m1.photometric, Photometric::Monochrome1);
    assert!(
        m1.pixels == m2.pixels,
        "values are not changed, only display"
    );
    let w = Preset::Lung.window();
    for (a, b) in m1.windowed(w).iter().zip(m2.windowed(w)) {
        assert!((a - (1.0 - b)).abs() < 1e-6);
    }
}

#[test]
fn empty_and_unknown_inputs_say_so() {
    assert_eq!(imaging::decode(&[], None).unwrap_err(), ImagingError::Empty);
    let e = imaging::decode(b"hello world, not an image", Some("notes.txt")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unrecognised file format of notes.txt: expected PNG, JPEG or DICOM"
    );
}

#[test]
fn generated_jpeg_and_colour_pngs_decode() {
    use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
    let mut rgb = RgbImage::new(16, 8);
    for (x, _, p) in rgb.enumerate_pixels_mut() {
        *p = Rgb([(x * 16) as u8, 0, 0]);
    }
    let img = DynamicImage::ImageRgb8(rgb);
    for (fmt, expect) in [(ImageFormat::Png, "Rgb8"), (ImageFormat::Jpeg, "")] {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, fmt).unwrap();
        let s = imaging::decode(out.get_ref(), None).unwrap();
        assert_eq!((s.width, s.height), (16, 8));
        assert_eq!(s.photometric, Photometric::ColourAsLuminance, "{fmt:?}");
        if fmt == ImageFormat::Png {
            assert_eq!(
                s.source,
                imaging::Source::Png {
                    bit_depth: 8,
                    color: expect.into()
                }
            );
            assert!((s.pixels[15] - 0.299 * 240.0).abs() < 1e-3);
        }
    }
    let la = DynamicImage::ImageLumaA8(image::ImageBuffer::from_pixel(4, 4, image::LumaA([77, 0])));
    let mut out = std::io::Cursor::new(Vec::new());
    la.write_to(&mut out, ImageFormat::Png).unwrap();
    let s = imaging::decode(out.get_ref(), None).unwrap();
    assert!(s.pixels.iter().all(|&v| v == 77.0), "alpha ignored");
}

/// Deterministic xorshift so failures reproduce.
fn rng(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// Decodes (result ignored) and fails if it took long: a flipped length byte once made
/// dicom-rs zero-fill gigabytes for ~30 s per file before `prescan` existed.
fn bounded(bytes: &[u8], name: &str) {
    let t = std::time::Instant::now();
    let _ = imaging::decode(bytes, None);
    let secs = t.elapsed().as_secs_f32();
    if secs > 5.0 {
        let _ = std::fs::write(std::env::temp_dir().join("imaging_slow_case.bin"), bytes);
    }
    assert!(secs < 5.0, "{name}: a damaged copy took {secs} s");
}

#[test]
fn truncated_and_mutated_fixtures_never_panic() {
    let small = [
        "dicom/CT_small.dcm",
        "dicom/MR_small_bigendian.dcm",
        "dicom/MR_small_implicit.dcm",
        "dicom/emri_small.dcm",
        "dicom/image_dfl.dcm",
        "dicom/rtstruct.dcm",
        "dicom/CT1_J2KI.dcm",
        "png/CT_small_lungwin_8bit.png",
    ];
    let large = [
        "dicom/CT1_RLE.dcm",
        "dicom/CT1_JPLL.dcm",
        "dicom/CT1_J2KR.dcm",
        "dicom/CT1_JLSL.dcm",
        "dicom/693_UNCI.dcm",
        "png/BrainProtonDensitySlice.png",
    ];
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for f in small.iter().chain(&large) {
        let b = common::read(f);
        let cuts = if small.contains(f) { 24 } else { 6 };
        for k in 0..cuts {
            let len = (b.len() * k / cuts).max(1);
            let t = std::time::Instant::now();
            let _ = imaging::decode(&b[..len], None);
            if t.elapsed().as_secs_f32() > 1.0 {
                eprintln!("SLOW cut {f} {len} {:?}", t.elapsed());
            }
        }
        if small.contains(f) {
            for _ in 0..40 {
                let mut m = b.clone();
                for _ in 0..1 + rng(&mut seed) % 4 {
                    // Mostly the header, where lengths and sizes live.
                    let span = if rng(&mut seed).is_multiple_of(4) {
                        m.len()
                    } else {
                        m.len().min(1500)
                    };
                    let i = (rng(&mut seed) as usize) % span;
                    m[i] = rng(&mut seed) as u8;
                }
                bounded(&m, f);
            }
        }
    }
}

/// The codecs added last (hayro-jpeg2000, pure_jpegls) see damaged *compressed data*, not only
/// damaged headers: bytes flipped anywhere in the codestream decode or fail, never panic (this
/// runs as a debug build, so an arithmetic overflow would panic too) and never hang.
#[test]
fn damaged_jpeg_2000_and_jpeg_ls_codestreams_never_panic() {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for f in [
        "dicom/CT1_J2KR.dcm",
        "dicom/CT1_J2KI.dcm",
        "dicom/CT1_JLSL.dcm",
    ] {
        let b = common::read(f);
        // The pixel data is the last element: damage its second half.
        let start = b.len() / 2;
        for _ in 0..12 {
            let mut m = b.clone();
            for _ in 0..1 + rng(&mut seed) % 8 {
                let i = start + (rng(&mut seed) as usize) % (m.len() - start);
                m[i] = rng(&mut seed) as u8;
            }
            bounded(&m, f);
        }
    }
}

/// dicom-rs reads an odd-sized binary-number element as whole values and leaves a byte
/// unread, shifting every later element (a fuzzer input made a 14 kB file claim 1.1 GB that
/// way). Such a file is refused at once, naming the element, in either VR encoding.
#[test]
fn binary_numbers_of_odd_size_are_refused_naming_the_element() {
    // Explicit VR: CT_small's Rows (0028,0010) US, its length made 3 (the value keeps 2 bytes
    // and the next element's first byte joins it).
    let mut b = common::read("dicom/CT_small.dcm");
    let rows = b
        .windows(6)
        .position(|w| w == [0x28, 0x00, 0x10, 0x00, b'U', b'S'])
        .unwrap();
    b[rows + 6..rows + 8].copy_from_slice(&3u16.to_le_bytes());
    let t = std::time::Instant::now();
    let e = imaging::decode(&b, None).unwrap_err();
    assert!(t.elapsed().as_secs_f32() < 1.0);
    assert!(
        e.to_string()
            .contains("element (0028,0010) holds 3 bytes, not a whole number of 2-byte values"),
        "{e}"
    );
    // Implicit VR: the dictionary says Columns is US.
    let mut b = common::read("dicom/MR_small_implicit.dcm");
    let columns = b
        .windows(8)
        .position(|w| w == [0x28, 0x00, 0x11, 0x00, 2, 0, 0, 0])
        .unwrap();
    b[columns + 4..columns + 8].copy_from_slice(&5u32.to_le_bytes());
    let e = imaging::decode(&b, None).unwrap_err();
    assert!(
        e.to_string().contains("element (0028,0011) holds 5 bytes"),
        "{e}"
    );
}

/// Inputs the fuzzer (scripts/fuzz.sh) found that made a file of a few kB cost seconds and
/// gigabytes: the prescan stepped differently from dicom-rs (odd-sized SS and OW elements; an item outside a sequence, or a group-FFFE tag that is no
/// item at all; an undefined length on a plain value; an item too short for
/// the header it starts; a meta
/// group whose end dicom-rs takes from its group length, not from the group numbers; a
/// sequence delimiter with a length, which dicom-rs allocates). Each is now refused at once,
/// naming what is wrong.
#[test]
fn fuzzer_findings_are_refused_at_once() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-regressions");
    let decode = |b: &[u8]| imaging::decode(b, None).map(|_| ());
    let segmentation = |b: &[u8]| imaging::read_segmentation(b).map(|_| ());
    type Reader<'a> = &'a dyn Fn(&[u8]) -> Result<(), ImagingError>;
    let cases: [(&str, &str, Reader); 11] = [
        (
            "odd-length-ss.dcm",
            "element (0019,104B) holds 595 bytes",
            &decode,
        ),
        (
            "meta-group-by-length-1.dcm",
            "element (4D4D,4D4D) has no valid value representation",
            &decode,
        ),
        (
            "meta-group-by-length-2.dcm",
            "element (3438,2E30) has no valid value representation",
            &decode,
        ),
        (
            "delimiter-with-length-seg.dcm",
            "a delimiter (FFFE,E0DD) declares 4278190080 bytes",
            &segmentation,
        ),
        // Implicit VR: dicom-rs reads the dictionary's "OB or OW" as OW.
        (
            "implicit-ob-or-ow-odd.dcm",
            "element (7F00,0010) holds 3 bytes",
            &segmentation,
        ),
        (
            "item-outside-sequence.dcm",
            "an item (FFFE,E000) stands outside any sequence",
            &segmentation,
        ),
        (
            "group-fffe-not-an-item.dcm",
            "element (FFFE,0000) is neither an item nor a delimiter",
            &segmentation,
        ),
        (
            "undefined-length-ul.dcm",
            "element (0004,0000) of VR UL has an undefined length",
            &segmentation,
        ),
        (
            "item-shorter-than-a-header.dcm",
            "an item ends 4 bytes into an element header",
            &segmentation,
        ),
        // Its transfer syntax UID ends in a tab, which dicom-rs trims: big endian.
        (
            "ts-uid-with-tab.dcm",
            "element (0000,0000) has no valid value representation",
            &segmentation,
        ),
        // dicom-rs ends the sequence of known length at the delimiter and reads on from there.
        (
            "delimiter-in-defined-sequence.dcm",
            "a delimiter (FFFE,E0DD) stands where nothing of undefined length ends",
            &segmentation,
        ),
    ];
    for (name, message, read) in cases {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let t = std::time::Instant::now();
        let e = read(&bytes).unwrap_err();
        assert!(t.elapsed().as_secs_f32() < 1.0, "{name}: {:?}", t.elapsed());
        assert!(e.to_string().contains(message), "{name}: {e}");
    }
}

/// dicom-rs reads the meta group by its group length, so an element of another group inside
/// that length is part of the meta group; the walk agrees and the image still decodes.
#[test]
fn the_meta_group_ends_where_its_group_length_says() {
    let original = common::read("dicom/image_dfl.dcm");
    let mut b = original.clone();
    let at = b
        .windows(6)
        .position(|w| w == [0x02, 0x00, 0x12, 0x00, b'U', b'I'])
        .unwrap();
    b[at] = 0x03;
    let (a, b) = (
        imaging::decode(&original, None).unwrap(),
        imaging::decode(&b, None).unwrap(),
    );
    assert_eq!(
        (a.width, a.height, a.pixels.len()),
        (b.width, b.height, b.pixels.len())
    );
}

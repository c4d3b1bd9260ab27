/// FNV-1a over the bits of every value: one number that says "the same pixels", shared by the
/// native fixture tests and the browser ones (`tests/imaging_web.rs` includes this file).
pub fn pixel_checksum(pixels: &[f32]) -> u64 {
    pixels.iter().flat_map(|v| v.to_bits().to_le_bytes()).fold(
        0xcbf2_9ce4_8422_2325,
        |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3),
    )
}

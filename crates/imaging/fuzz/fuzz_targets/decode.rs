//! Any bytes through `decode` (and the first crop) must return, not panic, hang or
//! allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(slice) = imaging::decode(data, None) {
        let spec =
            imaging::PrepareSpec::new(32, (slice.width as f32 / 2.0, slice.height as f32 / 2.0));
        let _ = imaging::prepare(&slice, &spec);
    }
});

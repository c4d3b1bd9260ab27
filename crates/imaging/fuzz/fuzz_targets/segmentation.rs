//! Any bytes through `read_segmentation` (a SEG dropped beside an image) must return, not
//! panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = imaging::read_segmentation(data);
});

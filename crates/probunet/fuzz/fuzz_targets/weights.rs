//! Any bytes loaded as weights (the page's "Load weights…", the CLI's `--weights`) must come
//! back as a model or a `WeightsError`: no panic, hang or unbounded allocation, whatever the
//! container, the config JSON or the tensors claim.
#![no_main]

use std::sync::OnceLock;

use burn::tensor::Device;
use libfuzzer_sys::fuzz_target;
use probunet::ProbUNet;
use probunet::hierarchical::HierarchicalProbUNet;
use probunet::weights::{ModelKind, load_stored, stored_kind};

fuzz_target!(|data: &[u8]| {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    let device = DEVICE.get_or_init(Device::flex);
    match stored_kind(data) {
        Ok(ModelKind::Probabilistic) => drop(load_stored::<ProbUNet>(data, device)),
        Ok(ModelKind::Hierarchical) => drop(load_stored::<HierarchicalProbUNet>(data, device)),
        Err(_) => {}
    }
});

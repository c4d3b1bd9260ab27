use std::path::PathBuf;

use burn::store::{ModuleStore, SafetensorsStore};
use burn::tensor::{DType, Device, Int, Tensor, TensorData};
use probunet::SeededRng;

pub fn device() -> Device {
    Device::flex()
}

/// Runs an async read on flex, which completes at once.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    probunet::complete_now(future).expect("flex completes reads at once")
}

/// A reproducible uniform [0, 1) image batch.
pub fn image(shape: [usize; 4], seed: u64, device: &Device) -> Tensor<4> {
    let mut rng = SeededRng::new(seed);
    let n = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.uniform() as f32).collect();
    Tensor::from_data(TensorData::new(v, shape), device)
}

/// Reproducible standard-normal latents.
pub fn latents(n: usize, m: usize, seed: u64, device: &Device) -> Tensor<2> {
    Tensor::from_data(
        TensorData::new(SeededRng::new(seed).normals(n * m, 1.0), [n, m]),
        device,
    )
}

pub fn mask_from(v: Vec<i64>, shape: [usize; 3], device: &Device) -> Tensor<3, Int> {
    Tensor::from_data(TensorData::new(v, shape), device)
}

pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

pub fn max_abs_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b).abs().max().into_scalar::<f32>()
}

/// This crate's folder (tests read their data relative to it).
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"),
    )
}

/// Reads tensor `name` of `io.safetensors` (f32) onto `device`.
pub fn read<const D: usize>(
    store: &mut SafetensorsStore,
    name: &str,
    device: &Device,
) -> Tensor<D> {
    let t = store
        .get_tensor(name)
        .unwrap()
        .unwrap_or_else(|| panic!("{name} in the reference outputs"));
    assert_eq!(t.dtype, DType::F32);
    let bytes = t.to_bytes().unwrap();
    let v: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let shape: [usize; D] = t.shape.to_vec().try_into().unwrap();
    Tensor::from_data(TensorData::new(v, shape), device)
}

pub fn assert_close<const D: usize>(name: &str, ours: Tensor<D>, theirs: Tensor<D>) {
    let diff = max_abs_diff(ours, theirs);
    assert!(diff <= 1e-4, "{name}: max |ours − reference| = {diff}");
    eprintln!("{name}: max |diff| = {diff:.2e}");
}

//! Where the tensors live: burn's CPU backend (flex) by default, a GPU with `--device`.
//!
//! burn 0.22 dispatches on the device at run time, so the model, the training loop and the
//! metrics are the same code on every backend; only which backends are compiled in is a build
//! choice. The GPU runtime adds minutes of compile time and is needed by nobody who trains the
//! page's 64² models on a CPU, so it sits behind the `wgpu` cargo feature: Vulkan, Metal or
//! DirectX 12 through wgpu, which covers NVIDIA, AMD, Intel and Apple GPUs with no vendor
//! toolkit. (burn's CUDA backend is not offered: its build downloads an LLVM bundle, which
//! an offline machine cannot.)
//!
//! The device is chosen once, in `main`, before any tensor exists: every subcommand then
//! asks [`device`] for it.

use std::sync::OnceLock;

use anyhow::Result;
use burn::tensor::Device;

/// The `--device` flag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceChoice {
    /// burn's CPU backend (flex): every core unless RAYON_NUM_THREADS says otherwise.
    #[default]
    Cpu,
    /// A GPU through wgpu (Vulkan, Metal, DirectX 12); needs the `wgpu` build feature.
    Wgpu,
}

static DEVICE: OnceLock<(DeviceChoice, Device)> = OnceLock::new();

/// Opens the chosen device, or says why it cannot: not compiled in, or no such GPU here.
pub fn init(choice: DeviceChoice) -> Result<()> {
    let device = open(choice)?;
    // A second call keeps the first device: tensors may already live there.
    let _ = DEVICE.set((choice, device));
    Ok(())
}

/// The device every subcommand runs on (the CPU unless `--device` chose otherwise).
pub fn device() -> Device {
    DEVICE
        .get()
        .map_or_else(Device::flex, |(_, device)| device.clone())
}

/// What [`device`] is, for logs: "the CPU" or "the GPU (wgpu)".
pub fn describe() -> &'static str {
    match DEVICE
        .get()
        .map_or(DeviceChoice::Cpu, |(choice, _)| *choice)
    {
        DeviceChoice::Cpu => "the CPU",
        DeviceChoice::Wgpu => "the GPU (wgpu)",
    }
}

fn open(choice: DeviceChoice) -> Result<Device> {
    match choice {
        DeviceChoice::Cpu => Ok(Device::flex()),
        DeviceChoice::Wgpu => open_wgpu(),
    }
}

#[cfg(feature = "wgpu")]
fn open_wgpu() -> Result<Device> {
    Device::wgpu_options().init().map_err(|e| {
        anyhow::anyhow!("no GPU could be opened through wgpu (Vulkan, Metal or DirectX 12): {e}")
    })
}

#[cfg(not(feature = "wgpu"))]
fn open_wgpu() -> Result<Device> {
    anyhow::bail!(
        "this probunet was built without GPU support; rebuild it with \
         `cargo build --release -p probunet-cli --features wgpu`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_is_always_there() {
        assert!(open(DeviceChoice::Cpu).is_ok());
    }

    #[cfg(not(feature = "wgpu"))]
    #[test]
    fn a_gpu_not_compiled_in_is_refused_with_the_rebuild_command() {
        let message = open(DeviceChoice::Wgpu).unwrap_err().to_string();
        assert!(message.contains("--features wgpu"), "{message}");
    }
}

//! Writes the weights fuzzer's seeds (`scripts/fuzz.sh weights`, `crates/probunet/fuzz`) into
//! the folder named by its argument: small configs of both models, in f32 and f16, so mutations
//! start from files that load. An example of this crate rather than a fuzz binary: it must not
//! be built with the fuzzer's instrumentation.
use burn::tensor::Device;
use probunet::hierarchical::{HierarchicalProbUNet, HpuNetConfig};
use probunet::weights::{Precision, save_weights};
use probunet::{ProbUNet, ProbUNetConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).ok_or("usage: fuzz_seeds DIR")?);
    std::fs::create_dir_all(&dir)?;
    let device = Device::flex();
    let first = ProbUNet::new_seeded(
        &ProbUNetConfig::new(vec![4, 8])
            .with_latent_dim(2)
            .with_fcomb_channels(4),
        1,
        &device,
    );
    let second = HierarchicalProbUNet::new_seeded(&HpuNetConfig::tiny(), 1, &device);
    for (name, precision) in [("f32", Precision::Full), ("f16", Precision::Half)] {
        std::fs::write(
            dir.join(format!("probunet-{name}.bpk")),
            save_weights(&first, precision)?,
        )?;
        std::fs::write(
            dir.join(format!("hpunet-{name}.bpk")),
            save_weights(&second, precision)?,
        )?;
    }
    Ok(())
}

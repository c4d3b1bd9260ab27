//! Saving and loading weights.
//!
//! Our own format is a burnpack record (burn-store's native container) whose metadata carries the
//! [`ProbUNetConfig`] as JSON under [`CONFIG_KEY`], so a file always says which model it belongs
//! to. Shipped weights are half precision (f16; halves the download, and the model's outputs move
//! by ~1e-3, far below what changes a mask); they are widened to f32 on load.
//!
//! Loading never panics on bad input: truncated or foreign bytes, a missing or different config,
//! and tensors that do not fit all come back as a [`WeightsError`]. Before anything is built the
//! file's tensor sizes are checked against the config's parameter count, so a hostile config
//! cannot make the loader allocate a gigantic model.
//!
//! [`load_pytorch_safetensors`] imports weights of the PyTorch reference layout
//! (`shared/peers/probunet.py`: `nn.Sequential` indices, `fcomb.net.*`), through burn-store's
//! SafeTensors importer with key remapping.

use burn::store::burn_pack::Reader;
use burn::store::{
    ApplyResult, BurnpackStore, FloatCastAdapter, HalfPrecisionAdapter, KeyRemapper, ModuleAdapter,
    ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter, SafetensorsStore,
};
use burn::tensor::{Bytes, DType, Device};

use crate::config::{ConfigError, ProbUNetConfig};
use crate::model::ProbUNet;

/// Metadata key of the JSON config inside a weights file.
pub const CONFIG_KEY: &str = "probunet.config";
/// Metadata key of the format version.
pub const FORMAT_KEY: &str = "probunet.format";
const FORMAT_VERSION: &str = "1";

/// Storage precision of the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// f16: for shipping (half the bytes).
    Half,
    /// f32: exact, for checkpoints that training resumes from.
    Full,
}

/// Why weights could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("not a readable ProbUNet weights file: {0}")]
    Corrupt(String),
    #[error("the weights file carries no model config (metadata key `{CONFIG_KEY}`)")]
    MissingConfig,
    #[error("the weights file's model config is unreadable: {0}")]
    BadConfig(String),
    #[error(transparent)]
    InvalidConfig(#[from] ConfigError),
    #[error("these weights belong to a different model: {0}")]
    ConfigMismatch(String),
    #[error("the tensors do not fit the model: {0}")]
    TensorMismatch(String),
    #[error("could not write the weights: {0}")]
    Save(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Serialises `model` (weights + config) to bytes.
pub fn save_weights(model: &ProbUNet, precision: Precision) -> Result<Vec<u8>, WeightsError> {
    let json =
        serde_json::to_string(model.config()).map_err(|e| WeightsError::Save(e.to_string()))?;
    let mut store = BurnpackStore::from_bytes(None)
        .metadata(CONFIG_KEY, json)
        .metadata(FORMAT_KEY, FORMAT_VERSION);
    if precision == Precision::Half {
        store = store.with_to_adapter(HalfPrecisionAdapter::new());
    }
    model
        .save_into(&mut store)
        .map_err(|e| WeightsError::Save(e.to_string()))?;
    let bytes = store
        .get_bytes()
        .map_err(|e| WeightsError::Save(e.to_string()))?;
    Ok(bytes.to_vec())
}

/// [`save_weights`] for a model on any device: the parameters are read back asynchronously
/// first ([`crate::copy_to_host`]), which WebGPU in the browser requires.
pub async fn save_weights_async(
    model: &ProbUNet,
    precision: Precision,
) -> Result<Vec<u8>, WeightsError> {
    let host = crate::copy_to_host(model)
        .await
        .map_err(|e| WeightsError::Save(e.to_string()))?;
    save_weights(&host, precision)
}

/// Writes [`save_weights`]' bytes to `path`.
pub fn save_weights_file(
    model: &ProbUNet,
    path: impl AsRef<std::path::Path>,
    precision: Precision,
) -> Result<(), WeightsError> {
    std::fs::write(path, save_weights(model, precision)?)?;
    Ok(())
}

/// The config stored in a weights file, without loading the weights.
pub fn read_weights_config(bytes: &[u8]) -> Result<ProbUNetConfig, WeightsError> {
    let reader = open(bytes)?;
    config_of(&reader)
}

/// Loads a model from weights bytes, building it from the config the file carries.
pub fn load_weights(bytes: &[u8], device: &Device) -> Result<ProbUNet, WeightsError> {
    let reader = open(bytes)?;
    let config = config_of(&reader)?;
    load_checked(bytes, reader, &config, device)
}

/// Loads weights that must belong to `expected` (e.g. the page's model); any other config is
/// refused with a message naming the fields that differ.
pub fn load_weights_expecting(
    bytes: &[u8],
    expected: &ProbUNetConfig,
    device: &Device,
) -> Result<ProbUNet, WeightsError> {
    let reader = open(bytes)?;
    let found = config_of(&reader)?;
    if &found != expected {
        return Err(WeightsError::ConfigMismatch(describe_difference(
            expected, &found,
        )));
    }
    load_checked(bytes, reader, &found, device)
}

/// Loads a model from a weights file.
pub fn load_weights_file(
    path: impl AsRef<std::path::Path>,
    device: &Device,
) -> Result<ProbUNet, WeightsError> {
    load_weights(&std::fs::read(path)?, device)
}

/// Imports a PyTorch `state_dict` saved as SafeTensors in the layout of the reference
/// implementation (`shared/peers/probunet.py`) into a model of `config`.
pub fn load_pytorch_safetensors(
    bytes: Vec<u8>,
    config: &ProbUNetConfig,
    device: &Device,
) -> Result<ProbUNet, WeightsError> {
    config.check()?;
    let mut store = SafetensorsStore::from_bytes(Some(bytes))
        .with_from_adapter(PyTorchToBurnAdapter.chain(FloatCastAdapter::to(DType::F32)))
        .remap(pytorch_key_map(config))
        .allow_partial(true);
    fill_from(&mut store, config, device)
}

/// [`load_pytorch_safetensors`] from a file.
pub fn load_pytorch_safetensors_file(
    path: impl AsRef<std::path::Path>,
    config: &ProbUNetConfig,
    device: &Device,
) -> Result<ProbUNet, WeightsError> {
    load_pytorch_safetensors(std::fs::read(path)?, config, device)
}

/// PyTorch names → ours. `nn.Sequential` interleaves ReLUs, so conv k of a level is index 2k
/// there (`blocks.L.2k`) and `convs.k` here; fcomb's `net.2k` is `layers.k`.
fn pytorch_key_map(config: &ProbUNetConfig) -> KeyRemapper {
    let mut patterns = Vec::new();
    for k in 0..config.convs_per_level {
        let from = format!(r"^(.*\.blocks\.\d+)\.{}\.(weight|bias)$", 2 * k);
        patterns.push((from, format!("${{1}}.convs.{k}.${{2}}")));
    }
    for k in 0..=config.fcomb_layers {
        let from = format!(r"^fcomb\.net\.{}\.(weight|bias)$", 2 * k);
        patterns.push((from, format!("fcomb.layers.{k}.${{1}}")));
    }
    KeyRemapper::from_patterns(patterns).expect("the patterns above are valid regexes")
}

fn open(bytes: &[u8]) -> Result<Reader, WeightsError> {
    Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| WeightsError::Corrupt(e.to_string()))
}

fn config_of(reader: &Reader) -> Result<ProbUNetConfig, WeightsError> {
    let json = reader
        .metadata()
        .get(CONFIG_KEY)
        .ok_or(WeightsError::MissingConfig)?;
    let config: ProbUNetConfig =
        serde_json::from_str(json).map_err(|e| WeightsError::BadConfig(e.to_string()))?;
    config.check()?;
    Ok(config)
}

/// Checks the file's tensors add up to the config's size, then builds and fills the model.
fn load_checked(
    bytes: &[u8],
    reader: Reader,
    config: &ProbUNetConfig,
    device: &Device,
) -> Result<ProbUNet, WeightsError> {
    let tensors = reader
        .into_tensors()
        .map_err(|e| WeightsError::Corrupt(e.to_string()))?;
    // Casting integers or quantized blocks to f32 would "load" numbers that mean nothing.
    if let Some(odd) = tensors.iter().find(|t| !t.dtype.is_float()) {
        return Err(WeightsError::TensorMismatch(format!(
            "`{}` is stored as {:?}; a model's weights are floating point (f16 or f32)",
            odd.name, odd.dtype
        )));
    }
    let in_file: usize = tensors.iter().map(|t| t.shape.num_elements()).sum();
    let expected = config.num_params();
    if in_file != expected {
        return Err(WeightsError::TensorMismatch(format!(
            "the file holds {in_file} values, a model of its config has {expected} parameters"
        )));
    }
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes.to_vec())))
        // Widen f16 (or any float) back to the f32 the model computes in.
        .with_from_adapter(FloatCastAdapter::to(DType::F32))
        .allow_partial(true);
    fill_from(&mut store, config, device)
}

/// Builds a zeroed model of `config` and fills it from `store`, every parameter required.
fn fill_from<S: ModuleStore>(
    store: &mut S,
    config: &ProbUNetConfig,
    device: &Device,
) -> Result<ProbUNet, WeightsError> {
    let mut model = ProbUNet::new_zeroed(config, device);
    let result = model
        .load_from(store)
        .map_err(|e| WeightsError::Corrupt(e.to_string()))?;
    check_applied(&result)?;
    Ok(model)
}

/// Every parameter filled, nothing left over, no shape or dtype errors.
fn check_applied(result: &ApplyResult) -> Result<(), WeightsError> {
    let mut problems = Vec::new();
    if !result.errors.is_empty() {
        problems.push(format!(
            "{} errors: {:?}",
            result.errors.len(),
            result.errors
        ));
    }
    if !result.missing.is_empty() {
        let names: Vec<&str> = result.missing.iter().map(|(p, _)| p.as_str()).collect();
        problems.push(format!("missing {names:?}"));
    }
    if !result.unused.is_empty() {
        problems.push(format!("unexpected {:?}", result.unused));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(WeightsError::TensorMismatch(problems.join("; ")))
    }
}

/// "filters: expected [32, 64], found [16, 32]; latent_dim: …".
fn describe_difference(expected: &ProbUNetConfig, found: &ProbUNetConfig) -> String {
    let (serde_json::Value::Object(e), serde_json::Value::Object(f)) = (
        serde_json::to_value(expected).unwrap_or_default(),
        serde_json::to_value(found).unwrap_or_default(),
    ) else {
        return format!("expected {expected}, found {found}");
    };
    let diffs: Vec<String> = e
        .iter()
        .filter(|(k, v)| f.get(*k) != Some(*v))
        .map(|(k, v)| {
            let other = f.get(k).map_or("nothing".to_string(), |x| x.to_string());
            format!("{k}: expected {v}, found {other}")
        })
        .collect();
    diffs.join("; ")
}

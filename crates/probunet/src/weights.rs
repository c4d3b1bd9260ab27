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
//! SafeTensors importer with key remapping; [`load_hpunet_safetensors`] those of the
//! hierarchical model's reference (`scripts/hpunet_reference.py`), named as ours.

use burn::store::burn_pack::Reader;
use burn::store::{
    ApplyResult, BurnpackStore, FloatCastAdapter, HalfPrecisionAdapter, KeyRemapper, ModuleAdapter,
    ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter, SafetensorsStore,
};
use burn::tensor::{Bytes, DType, Device};

use burn::module::Module;

use crate::config::{ConfigError, ProbUNetConfig};
use crate::hierarchical::{HierarchicalProbUNet, HpuNetConfig, HpuNetConfigError};
use crate::model::ProbUNet;

/// Metadata key of the JSON config inside a probabilistic U-Net's weights file.
pub const CONFIG_KEY: &str = "probunet.config";
/// Metadata key of the JSON config inside a hierarchical model's weights file.
pub const HPU_CONFIG_KEY: &str = "hpunet.config";
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
    #[error(
        "the weights file carries no model config (metadata key `{CONFIG_KEY}` or `{HPU_CONFIG_KEY}`)"
    )]
    MissingConfig,
    #[error("the weights file's model config is unreadable: {0}")]
    BadConfig(String),
    #[error(transparent)]
    InvalidConfig(#[from] ConfigError),
    #[error(transparent)]
    InvalidHierarchicalConfig(#[from] HpuNetConfigError),
    #[error("these weights belong to a different model: {0}")]
    ConfigMismatch(String),
    #[error("the tensors do not fit the model: {0}")]
    TensorMismatch(String),
    #[error("could not write the weights: {0}")]
    Save(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// A model a weights file can hold: its config travels as JSON under [`StoredModel::CONFIG_KEY`],
/// so a file says which kind of model it is and how to build it.
pub trait StoredModel: Module + Sized {
    type Config: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Display;
    /// The metadata key of the config.
    const CONFIG_KEY: &'static str;
    /// The model's name in messages.
    const NAME: &'static str;
    fn config(&self) -> &Self::Config;
    /// Checks a config read from a file describes a usable model.
    fn check(config: &Self::Config) -> Result<(), WeightsError>;
    fn params_of(config: &Self::Config) -> usize;
    /// A model of `config` with every parameter zero, to be filled.
    fn zeroed(config: &Self::Config, device: &Device) -> Self;
}

impl StoredModel for ProbUNet {
    type Config = ProbUNetConfig;
    const CONFIG_KEY: &'static str = CONFIG_KEY;
    const NAME: &'static str = "probabilistic U-Net";
    fn config(&self) -> &ProbUNetConfig {
        ProbUNet::config(self)
    }
    fn check(config: &ProbUNetConfig) -> Result<(), WeightsError> {
        Ok(config.check()?)
    }
    fn params_of(config: &ProbUNetConfig) -> usize {
        config.num_params()
    }
    fn zeroed(config: &ProbUNetConfig, device: &Device) -> Self {
        ProbUNet::new_zeroed(config, device)
    }
}

impl StoredModel for HierarchicalProbUNet {
    type Config = HpuNetConfig;
    const CONFIG_KEY: &'static str = HPU_CONFIG_KEY;
    const NAME: &'static str = "hierarchical probabilistic U-Net";
    fn config(&self) -> &HpuNetConfig {
        HierarchicalProbUNet::config(self)
    }
    fn check(config: &HpuNetConfig) -> Result<(), WeightsError> {
        Ok(config.check()?)
    }
    fn params_of(config: &HpuNetConfig) -> usize {
        config.num_params()
    }
    fn zeroed(config: &HpuNetConfig, device: &Device) -> Self {
        HierarchicalProbUNet::new_zeroed(config, device)
    }
}

/// Which model a weights file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    Probabilistic,
    Hierarchical,
}

/// Tells which model `bytes` hold, from the config key in the metadata (nothing is loaded).
pub fn stored_kind(bytes: &[u8]) -> Result<ModelKind, WeightsError> {
    let reader = open(bytes)?;
    let metadata = reader.metadata();
    if metadata.contains_key(HPU_CONFIG_KEY) {
        Ok(ModelKind::Hierarchical)
    } else if metadata.contains_key(CONFIG_KEY) {
        Ok(ModelKind::Probabilistic)
    } else {
        Err(WeightsError::MissingConfig)
    }
}

/// Serialises `model` (weights + config) to bytes.
pub fn save_weights<M: StoredModel>(
    model: &M,
    precision: Precision,
) -> Result<Vec<u8>, WeightsError> {
    let json =
        serde_json::to_string(model.config()).map_err(|e| WeightsError::Save(e.to_string()))?;
    let mut store = BurnpackStore::from_bytes(None)
        .metadata(M::CONFIG_KEY, json)
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
pub fn save_weights_file<M: StoredModel>(
    model: &M,
    path: impl AsRef<std::path::Path>,
    precision: Precision,
) -> Result<(), WeightsError> {
    std::fs::write(path, save_weights(model, precision)?)?;
    Ok(())
}

/// The config stored in a weights file, without loading the weights.
pub fn read_weights_config(bytes: &[u8]) -> Result<ProbUNetConfig, WeightsError> {
    let reader = open(bytes)?;
    config_of::<ProbUNet>(&reader)
}

/// Loads a probabilistic U-Net from weights bytes, building it from the config the file carries.
pub fn load_weights(bytes: &[u8], device: &Device) -> Result<ProbUNet, WeightsError> {
    load_stored(bytes, device)
}

/// Loads a model of type `M` from weights bytes; a file holding another kind of model is
/// refused saying which it holds.
pub fn load_stored<M: StoredModel>(bytes: &[u8], device: &Device) -> Result<M, WeightsError> {
    let reader = open(bytes)?;
    let config = config_of::<M>(&reader)?;
    load_checked::<M>(bytes, reader, &config, device)
}

/// Loads weights that must belong to `expected` (e.g. the page's model); any other config is
/// refused with a message naming the fields that differ.
pub fn load_weights_expecting(
    bytes: &[u8],
    expected: &ProbUNetConfig,
    device: &Device,
) -> Result<ProbUNet, WeightsError> {
    let reader = open(bytes)?;
    let found = config_of::<ProbUNet>(&reader)?;
    if &found != expected {
        return Err(WeightsError::ConfigMismatch(describe_difference(
            expected, &found,
        )));
    }
    load_checked::<ProbUNet>(bytes, reader, &found, device)
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
    fill_from::<ProbUNet, _>(&mut store, config, device)
}

/// [`load_pytorch_safetensors`] from a file.
pub fn load_pytorch_safetensors_file(
    path: impl AsRef<std::path::Path>,
    config: &ProbUNetConfig,
    device: &Device,
) -> Result<ProbUNet, WeightsError> {
    load_pytorch_safetensors(std::fs::read(path)?, config, device)
}

/// Imports a hierarchical model from SafeTensors whose tensor names are our module paths, as
/// the PyTorch reference (`scripts/hpunet_reference.py`) names its parameters; every parameter
/// must be there and nothing else.
pub fn load_hpunet_safetensors(
    bytes: Vec<u8>,
    config: &HpuNetConfig,
    device: &Device,
) -> Result<HierarchicalProbUNet, WeightsError> {
    config.check()?;
    let mut store = SafetensorsStore::from_bytes(Some(bytes))
        .with_from_adapter(FloatCastAdapter::to(DType::F32))
        .allow_partial(true);
    fill_from::<HierarchicalProbUNet, _>(&mut store, config, device)
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

fn config_of<M: StoredModel>(reader: &Reader) -> Result<M::Config, WeightsError> {
    let metadata = reader.metadata();
    let Some(json) = metadata.get(M::CONFIG_KEY) else {
        let other = [
            (CONFIG_KEY, ProbUNet::NAME),
            (HPU_CONFIG_KEY, HierarchicalProbUNet::NAME),
        ]
        .into_iter()
        .find(|(key, _)| metadata.contains_key(*key));
        return Err(match other {
            Some((_, name)) => {
                WeightsError::ConfigMismatch(format!("the file holds a {name}, not a {}", M::NAME))
            }
            None => WeightsError::MissingConfig,
        });
    };
    let config: M::Config =
        serde_json::from_str(json).map_err(|e| WeightsError::BadConfig(e.to_string()))?;
    M::check(&config)?;
    Ok(config)
}

/// Checks the file's tensors add up to the config's size, then builds and fills the model.
fn load_checked<M: StoredModel>(
    bytes: &[u8],
    reader: Reader,
    config: &M::Config,
    device: &Device,
) -> Result<M, WeightsError> {
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
    let expected = M::params_of(config);
    if in_file != expected {
        return Err(WeightsError::TensorMismatch(format!(
            "the file holds {in_file} values, a model of its config has {expected} parameters"
        )));
    }
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes.to_vec())))
        // Widen f16 (or any float) back to the f32 the model computes in.
        .with_from_adapter(FloatCastAdapter::to(DType::F32))
        .allow_partial(true);
    fill_from::<M, _>(&mut store, config, device)
}

/// Builds a zeroed model of `config` and fills it from `store`, every parameter required.
fn fill_from<M: StoredModel, S: ModuleStore>(
    store: &mut S,
    config: &M::Config,
    device: &Device,
) -> Result<M, WeightsError> {
    let mut model = M::zeroed(config, device);
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

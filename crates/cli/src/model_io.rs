//! What every model-using subcommand shares: loading weights with the run's metadata beside
//! them, images into tensors, and logits back into host masks.
//!
//! A weights file (`X.bpk`, burnpack with the model config inside) may have a sidecar `X.json`
//! ([`RunMeta`]) written by `probunet train`: it records the input size and whether the model is
//! the deterministic baseline, so `eval` and `sample` need no flags to use it the right way.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use burn::tensor::{Device, Int, Tensor, TensorData};
use imaging::InputContract;
use metrics::Mask;
use probunet::ProbUNet;
use serde::{Deserialize, Serialize};

use crate::train::step::ignores_latent;

/// The sidecar of a checkpoint or final weights file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunMeta {
    /// Optimisation steps done when these weights were written.
    pub step: usize,
    /// Steps the run was asked for.
    pub total_steps: usize,
    /// Side of the square model input the run trained at.
    pub size: usize,
    /// The preset name (`tiny`, `small`, `paper`).
    pub preset: String,
    /// Whether this is the deterministic U-Net baseline (fcomb ignores z).
    pub deterministic: bool,
    /// The run's seed.
    pub seed: u64,
    /// Where the data came from (`synthetic` or the folder).
    pub data: String,
    /// Wall seconds spent training up to `step` (summed over resumed runs).
    pub train_seconds: f64,
    /// The last step's loss values: total, CE, KL.
    pub last_loss: [f32; 3],
    /// The factor `probunet calibrate` multiplied the prior's σ by (baked into the weights);
    /// absent for weights straight out of training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_temperature: Option<f64>,
    /// What `probunet fit-prior` did to these weights' prior net, if it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_fit: Option<PriorFitRecord>,
    /// The hierarchical model's GECO state (λ, moving average), for resuming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geco: Option<probunet::hierarchical::GecoState>,
}

/// A `probunet fit-prior` run, as recorded in the sidecar of its output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PriorFitRecord {
    /// Prior-net optimisation steps (added over repeated fits).
    pub steps: usize,
    /// Of those, the steps that trained fcomb too (`--train-fcomb`): the decoder head is no
    /// longer the one training left.
    #[serde(default)]
    pub fcomb_steps: usize,
    /// Of those, the steps whose prior gradient was the score function (`--gradient
    /// score-function`); the others were straight-through.
    #[serde(default)]
    pub score_function_steps: usize,
    /// Of those, the steps fitted to the posterior mixture (`--objective posterior-mixture`)
    /// rather than the energy distance.
    #[serde(default)]
    pub posterior_mixture_steps: usize,
    /// Prior samples per image and step.
    pub samples: usize,
    /// Where the data came from.
    pub data: String,
    /// Wall seconds of the fit (added over repeated fits).
    pub seconds: f64,
}

/// The sidecar path of a weights file: `X.bpk` → `X.json`.
pub fn meta_path(weights: &Path) -> PathBuf {
    weights.with_extension("json")
}

/// Reads the sidecar of `weights` if there is one.
pub fn read_meta(weights: &Path) -> Result<Option<RunMeta>> {
    let path = meta_path(weights);
    if !path.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let meta =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok(Some(meta))
}

/// Writes weights bytes to `path`, creating its folder.
pub fn write_weights(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Writes `meta` as the sidecar of the weights at `weights`.
pub fn write_meta(weights: &Path, meta: &RunMeta) -> Result<()> {
    let json = serde_json::to_string_pretty(meta)? + "\n";
    let path = meta_path(weights);
    std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))
}

/// Loads weights (any precision) and their sidecar.
pub fn load_model(weights: &Path, device: &Device) -> Result<(ProbUNet, Option<RunMeta>)> {
    let bytes = std::fs::read(weights).with_context(|| format!("reading {}", weights.display()))?;
    let model = probunet::load_weights(&bytes, device)
        .with_context(|| format!("loading weights {}", weights.display()))?;
    Ok((model, read_meta(weights)?))
}

/// The input size to use: the flag if given, else the weights' input contract's, else the
/// sidecar's, else 128 (the paper's).
pub fn resolve_size(flag: Option<usize>, model: &ProbUNet, meta: Option<&RunMeta>) -> usize {
    resolve_side(flag, model.config().input.as_ref(), meta)
}

/// The input side of either model: `flag`, else the stored contract's, else the sidecar's,
/// else 128.
pub fn resolve_side(
    flag: Option<usize>,
    stored: Option<&InputContract>,
    meta: Option<&RunMeta>,
) -> usize {
    flag.or(stored.map(|c| c.model_side as usize))
        .or(meta.map(|m| m.size))
        .unwrap_or(128)
}

/// The model's input contract, at side `size` (a `--size` flag may ask for another).
pub fn contract_at(model: &ProbUNet, size: usize) -> InputContract {
    at_side(model.config().contract(), size)
}

/// `contract` run at side `size`: the crop is at least as large as the model's input.
pub fn at_side(mut contract: InputContract, size: usize) -> InputContract {
    contract.model_side = size as u32;
    contract.crop_side = contract.crop_side.max(contract.model_side);
    contract
}

/// Loads the model at `weights` and the input size to run it at (`--size`, else the sidecar's,
/// else 128), checked to be divisible by the model's size divisor. Used by `eval` and `sample`.
pub fn load_model_sized(
    weights: &Path,
    size: Option<usize>,
) -> Result<(ProbUNet, Option<RunMeta>, usize)> {
    let (model, meta) = load_model(weights, &crate::device::device())?;
    let size = resolve_size(size, &model, meta.as_ref());
    ensure!(
        size.is_multiple_of(model.config().size_divisor()),
        "--size {size} is not divisible by {}",
        model.config().size_divisor()
    );
    Ok((model, meta, size))
}

/// [`load_model_sized`] for the commands that work on the prior (`calibrate`, `fit-prior`):
/// a deterministic model (fcomb ignores the latent) is refused, saying it has no prior to
/// `action`.
pub fn load_probabilistic_model(
    weights: &Path,
    size: Option<usize>,
    action: &str,
) -> Result<(ProbUNet, Option<RunMeta>, usize)> {
    let loaded = load_model_sized(weights, size)?;
    ensure!(
        !ignores_latent(&loaded.0)?,
        "{} is a deterministic model: it has no prior to {action}",
        weights.display()
    );
    Ok(loaded)
}

/// Row-major `[0, 1]` images of `size × size` → `[B, 1, size, size]`.
pub fn images_tensor(images: &[&[f32]], size: usize, device: &Device) -> Tensor<4> {
    let data: Vec<f32> = images.iter().flat_map(|i| i.iter().copied()).collect();
    Tensor::from_data(TensorData::new(data, [images.len(), 1, size, size]), device)
}

/// Masks of one size → label maps `[N, H, W]` (1 = foreground).
pub fn masks_tensor(masks: &[Mask], device: &Device) -> Tensor<3, Int> {
    let (w, h) = masks.first().map_or((0, 0), Mask::shape);
    let labels: Vec<i64> = masks
        .iter()
        .flat_map(|m| m.to_bools().into_iter().map(i64::from))
        .collect();
    Tensor::from_data(TensorData::new(labels, [masks.len(), h, w]), device)
}

/// Logits `[N, 2, H, W]` → N hard masks (foreground where the lesion logit is strictly larger,
/// the same tie rule as the arg-max).
pub fn masks_from_logits(logits: Tensor<4>) -> Result<Vec<Mask>> {
    let [n, c, h, w] = logits.dims();
    anyhow::ensure!(c == 2, "expected 2 classes, the model has {c}");
    let margin = logits.clone().narrow(1, 1, 1) - logits.narrow(1, 0, 1);
    masks_from_margins(margin.reshape([n, h * w]), w, h)
}

/// Margins `[N, H·W]` (lesion logit minus background logit) → N hard masks of `w`×`h`, with
/// [`masks_from_logits`]' tie rule.
pub fn masks_from_margins(margins: Tensor<2>, w: usize, h: usize) -> Result<Vec<Mask>> {
    let n = margins.dims()[0];
    let values = to_vec(margins)?;
    values
        .chunks(h * w)
        .take(n)
        .map(|chunk| Mask::from_probabilities(w, h, chunk, 0.0).map_err(Into::into))
        .collect()
}

/// Reads a float tensor back to the host.
pub fn to_vec<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("reading a tensor back: {e:?}"))
}

//! Checkpoints: full-precision weights plus the run's metadata, written so that a crash or a
//! diverged step never leaves a half-written or poisoned file behind.
//!
//! `DIR/checkpoint-00001000.bpk` + `.json` + `.adam` every `--checkpoint-every` steps (the
//! newest few are kept), `DIR/final.bpk` + `final.json` + `final.adam` at the end. The `.adam`
//! file is Adam's state, so a run resumed from a checkpoint takes exactly the steps the
//! uninterrupted run would have; weights without one (an f16 export, a committed stage) resume
//! with Adam afresh, and the run says so. Files are written under a temporary name and renamed,
//! and weights are checked finite before they are written at all. The `.adam` file starts with
//! a tag and the step it belongs to, so a stale one (a crash between two renames of `final`) is
//! noticed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::module::Module;
use probunet::weights::StoredModel;
use probunet::{Learner, Precision, save_weights};

use crate::model_io::{RunMeta, meta_path, read_meta};

/// The first bytes of a `.adam` file.
const ADAM_TAG: &[u8] = b"probunet-adam\n";

/// Checkpoints kept on disk (older ones are deleted as new ones arrive).
pub const KEEP: usize = 3;

/// `checkpoint-00001000`.
pub fn checkpoint_stem(step: usize) -> String {
    format!("checkpoint-{step:08}")
}

/// Writes `dir/stem.bpk`, Adam's `optimizer_state` as `dir/stem.adam` (after [`ADAM_TAG`] and
/// the step, 8 bytes little-endian) and the sidecar `dir/stem.json`; returns the weights path.
pub fn write<M: StoredModel>(
    dir: &Path,
    stem: &str,
    model: &M,
    optimizer_state: &[u8],
    meta: &RunMeta,
    precision: Precision,
) -> Result<PathBuf> {
    let weights = dir.join(format!("{stem}.bpk"));
    let bytes = save_weights(model, precision).context("serialising the weights")?;
    write_atomic(&weights, &bytes)?;
    let mut tagged = ADAM_TAG.to_vec();
    tagged.extend_from_slice(&(meta.step as u64).to_le_bytes());
    tagged.extend_from_slice(optimizer_state);
    write_atomic(&optimizer_path(&weights), &tagged)?;
    let json = serde_json::to_string_pretty(meta)? + "\n";
    write_atomic(&meta_path(&weights), json.as_bytes())?;
    Ok(weights)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}

/// The checkpoints in `dir`, oldest first.
pub fn list(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "bpk")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("checkpoint-"))
        })
        .collect();
    found.sort();
    Ok(found)
}

/// Where the Adam state of `weights` lies: `stem.adam` beside `stem.bpk`.
pub fn optimizer_path(weights: &Path) -> PathBuf {
    weights.with_extension("adam")
}

/// Continues `learner`'s Adam from the state saved beside `weights` (at `step`), or says that
/// Adam starts afresh when there is none or it belongs to another step. A file that is there
/// but unreadable stops the run: continuing with a silently reset optimiser is what the file
/// exists to prevent.
pub fn resume_optimizer<M: Module>(
    learner: &mut Learner<M>,
    weights: &Path,
    step: usize,
) -> Result<()> {
    let path = optimizer_path(weights);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let unreadable = || {
                format!(
                    "{} does not hold Adam's state (delete it to resume with Adam afresh)",
                    path.display()
                )
            };
            let Some((saved_step, state)) = untag(&bytes) else {
                bail!(unreadable());
            };
            if saved_step != step as u64 {
                eprintln!(
                    "{} belongs to step {saved_step}, the weights to step {step}: Adam starts \
                     afresh",
                    path.display()
                );
                return Ok(());
            }
            learner.resume_optimizer(state).with_context(unreadable)?;
            eprintln!("Adam continues from {}", path.display());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => eprintln!(
            "no Adam state beside {} (no {}): Adam starts afresh",
            weights.display(),
            path.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    Ok(())
}

/// The step and the optimiser record of a `.adam` file's bytes; `None` without the tag.
fn untag(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let rest = bytes.strip_prefix(ADAM_TAG)?;
    let (step, state) = rest.split_first_chunk::<8>()?;
    Some((u64::from_le_bytes(*step), state))
}

/// Deletes all but the newest [`KEEP`] checkpoints.
pub fn prune(dir: &Path) -> Result<()> {
    let all = list(dir)?;
    for old in &all[..all.len().saturating_sub(KEEP)] {
        std::fs::remove_file(old).with_context(|| format!("removing {}", old.display()))?;
        let _ = std::fs::remove_file(meta_path(old));
        let _ = std::fs::remove_file(optimizer_path(old));
    }
    Ok(())
}

/// `--resume PATH`: a weights file, or a folder whose most advanced weights (a checkpoint or
/// `final.bpk`, by the step in their sidecars) are taken — so a finished run can be extended.
pub fn resolve_resume(path: &Path) -> Result<PathBuf> {
    if path.is_dir() {
        let mut candidates = list(path)?;
        let last = path.join("final.bpk");
        if last.exists() {
            candidates.push(last);
        }
        let step_of = |p: &PathBuf| read_meta(p).ok().flatten().map(|m| m.step);
        match candidates.into_iter().max_by_key(step_of) {
            Some(p) => Ok(p),
            None => bail!(
                "{} holds no checkpoint-*.bpk or final.bpk to resume from",
                path.display()
            ),
        }
    } else if path.exists() {
        Ok(path.to_path_buf())
    } else {
        bail!("--resume {}: no such file or folder", path.display())
    }
}

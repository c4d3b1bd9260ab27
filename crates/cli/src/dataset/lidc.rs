//! The LIDC-IDRI crops layout: `<patient>/nodule-N/images/slice-K.png` with one
//! `<patient>/nodule-N/mask-R/slice-K.png` per annotation slot, as extracted folders or straight
//! from per-patient `.tar` archives (`shared/lidc-crops`).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use imaging::InputContract;

use super::{MultiRaterSlice, PatientSplit, prepare_image, prepare_mask};

/// How a folder holds LIDC patients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `LIDC-IDRI-XXXX.tar` files, one per patient.
    Tars,
    /// Extracted patient folders (`LIDC-IDRI-XXXX/nodule-N/…`).
    Folders,
    /// The folder is one patient (`nodule-N/…` inside).
    Patient,
}

impl Layout {
    /// The LIDC layout `dir` holds, or `None` when it holds none (e.g. a flat folder).
    pub fn of(dir: &Path) -> Result<Option<Layout>> {
        let entries =
            std::fs::read_dir(dir).with_context(|| format!("reading folder {}", dir.display()))?;
        let (mut tars, mut folders, mut nodules) = (0, 0, 0);
        for entry in entries {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() && name.starts_with("nodule-") {
                nodules += 1;
            } else if path.is_dir() && path.join("nodule-0").is_dir() {
                folders += 1;
            } else if name.ends_with(".tar") {
                tars += 1;
            }
        }
        Ok(if tars > 0 {
            Some(Layout::Tars)
        } else if folders > 0 {
            Some(Layout::Folders)
        } else if nodules > 0 {
            Some(Layout::Patient)
        } else {
            None
        })
    }
}

/// The files of one slice: its image and each slot's mask, as bytes.
#[derive(Default)]
struct SliceFiles {
    image: Option<Vec<u8>>,
    masks: BTreeMap<usize, Vec<u8>>,
}

/// (patient, nodule number, slice number): sorts numerically, so `slice-10` follows `slice-9`.
type SliceKey = (String, u32, u32);

/// Reads the patients of `dir` that `split` keeps, through `contract`.
pub fn read(
    dir: &Path,
    layout: Layout,
    contract: &InputContract,
    split: PatientSplit,
) -> Result<Vec<MultiRaterSlice>> {
    let mut files: BTreeMap<SliceKey, SliceFiles> = BTreeMap::new();
    match layout {
        Layout::Tars => {
            for tar in sorted_entries(dir)? {
                let Some(patient) = tar
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".tar"))
                else {
                    continue;
                };
                if split.keeps(patient) {
                    read_tar(&tar, &mut files)?;
                }
            }
        }
        Layout::Folders => {
            for patient_dir in sorted_entries(dir)? {
                let patient = file_name(&patient_dir);
                if patient_dir.is_dir() && split.keeps(&patient) {
                    read_tree(&patient_dir, &patient, &mut files)?;
                }
            }
        }
        Layout::Patient => {
            let patient = file_name(dir);
            if split.keeps(&patient) {
                read_tree(dir, &patient, &mut files)?;
            }
        }
    }
    files
        .into_iter()
        .map(|((patient, nodule, slice), f)| {
            let name = format!("{patient}/nodule-{nodule}/slice-{slice}");
            let Some(image) = f.image else {
                bail!("{name} has masks but no image (images/slice-{slice}.png)");
            };
            let (image, center) = prepare_image(&image, &name, contract)?;
            ensure!(
                !f.masks.is_empty(),
                "{name} has an image but no mask-R/slice-{slice}.png"
            );
            let raters = f
                .masks
                .iter()
                .map(|(slot, bytes)| {
                    prepare_mask(bytes, &format!("{name} mask-{slot}"), contract, center)
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(MultiRaterSlice {
                name,
                patient,
                image,
                raters,
            })
        })
        .collect()
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths = std::fs::read_dir(dir)
        .with_context(|| format!("reading folder {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    paths.sort();
    Ok(paths)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Collects the slice files of one patient's archive.
fn read_tar(path: &Path, files: &mut BTreeMap<SliceKey, SliceFiles>) -> Result<()> {
    let context = || format!("reading archive {}", path.display());
    let file = std::fs::File::open(path).with_context(context)?;
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    for entry in archive.entries().with_context(context)? {
        let mut entry = entry.with_context(context)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let inner = entry.path().with_context(context)?.into_owned();
        let parts: Vec<String> = inner
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        let [patient, rest @ ..] = parts.as_slice() else {
            continue;
        };
        let Some((key, role)) = classify(patient, rest) else {
            continue;
        };
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        std::io::Read::read_to_end(&mut entry, &mut bytes).with_context(context)?;
        store(files, key, role, bytes);
    }
    Ok(())
}

/// Collects the slice files of one extracted patient folder.
fn read_tree(dir: &Path, patient: &str, files: &mut BTreeMap<SliceKey, SliceFiles>) -> Result<()> {
    for nodule in sorted_entries(dir)? {
        for kind in sorted_entries(&nodule).unwrap_or_default() {
            for file in sorted_entries(&kind).unwrap_or_default() {
                let rest = [file_name(&nodule), file_name(&kind), file_name(&file)];
                if let Some((key, role)) = classify(patient, &rest) {
                    let bytes = std::fs::read(&file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    store(files, key, role, bytes);
                }
            }
        }
    }
    Ok(())
}

/// Whether a file is an image or a slot's mask.
enum Role {
    Image,
    Mask(usize),
}

/// `["nodule-0", "mask-2", "slice-5.png"]` of `patient` → its slice key and role.
fn classify(patient: &str, rest: &[String]) -> Option<(SliceKey, Role)> {
    let [nodule, kind, file] = rest else {
        return None;
    };
    let nodule = nodule.strip_prefix("nodule-")?.parse().ok()?;
    let slice = file
        .strip_prefix("slice-")?
        .strip_suffix(".png")?
        .parse()
        .ok()?;
    let role = match kind.as_str() {
        "images" => Role::Image,
        other => Role::Mask(other.strip_prefix("mask-")?.parse().ok()?),
    };
    Some(((patient.to_string(), nodule, slice), role))
}

fn store(files: &mut BTreeMap<SliceKey, SliceFiles>, key: SliceKey, role: Role, bytes: Vec<u8>) {
    let slot = files.entry(key).or_default();
    match role {
        Role::Image => slot.image = Some(bytes),
        Role::Mask(r) => {
            slot.masks.insert(r, bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn classifies_the_kaggle_names() {
        let (key, role) = classify("P", &parts(&["nodule-2", "mask-3", "slice-10.png"])).unwrap();
        assert_eq!(key, ("P".to_string(), 2, 10));
        assert!(matches!(role, Role::Mask(3)));
        let (_, role) = classify("P", &parts(&["nodule-0", "images", "slice-0.png"])).unwrap();
        assert!(matches!(role, Role::Image));
        assert!(classify("P", &parts(&["nodule-0", "other", "slice-0.png"])).is_none());
        assert!(classify("P", &parts(&["nodule-0", "images", "slice-0.jpg"])).is_none());
        assert!(classify("P", &parts(&["README.md"])).is_none());
    }
}

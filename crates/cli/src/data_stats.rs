//! `probunet data-stats`: how the raters of a multi-rater folder agree, and how far a sampler
//! could go on subset B (slices every rater drew) knowing only the lesion's size.
//!
//! Why: the LIDC issue asks for ≤ 5 % empty samples on subset B, while GED rewards drawing
//! empty masks as often as the raters do on each kind of image. Whether both can hold depends
//! on the data: if readers leave masks empty even on large, clear lesions (a reader who did not
//! count the lesion as a nodule at all), no calibrated sampler can tell subset B apart. This
//! command measures that, from the masks alone, with no model.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use imaging::InputContract;

use crate::dataset::{self, MultiRaterSlice, PatientSplit};

/// Foreground pixels from which a lesion counts as clearly visible (8×8 at the model's side).
const SIZEABLE: usize = 64;

/// Options of `probunet data-stats`.
#[derive(Debug, Args)]
pub struct DataStatsArgs {
    /// Multi-rater data: LIDC-IDRI-XXXX.tar files, their extracted tree, or a flat folder.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,

    /// With LIDC data: which patients (default: the training patients).
    #[arg(long, value_enum, value_name = "SPLIT")]
    pub split: Option<PatientSplit>,

    /// Side of the centre crop the masks are measured on (the LIDC model's input: 64).
    #[arg(long, default_value_t = 64, value_name = "PX")]
    pub side: u32,
}

pub fn run(args: &DataStatsArgs) -> Result<()> {
    let contract = InputContract::lidc(args.side, 1.0);
    let slices = dataset::read(&args.data, &contract, args.split, PatientSplit::Train)?;
    let stats = RaterStats::of(&slices);
    print!("{}", stats.report(args.side));
    Ok(())
}

/// One bin of slices by the area of their largest mask (`2^k ..< 2^(k+1)` pixels).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct SizeBin {
    slices: usize,
    slots: usize,
    empty_slots: usize,
    all_drew: usize,
}

impl SizeBin {
    fn empty_share(&self) -> f64 {
        self.empty_slots as f64 / self.slots.max(1) as f64
    }
}

/// The raters' agreement over a set of slices.
#[derive(Debug, PartialEq)]
struct RaterStats {
    /// Slices by how many raters drew something (index = raters), all slots counted.
    by_raters: Vec<usize>,
    /// Slices with at least one mask, by the largest mask's area.
    bins: BTreeMap<u32, SizeBin>,
    /// Lesions (slices grouped by their name's folder, e.g. `patient/nodule-N`) by how many
    /// raters marked them on any of their slices.
    lesions_by_markers: Vec<usize>,
    /// Empty masks on slices with a sizeable lesion, and how many of them come from a rater
    /// who marked that lesion on none of its slices.
    sizeable_empty: usize,
    sizeable_empty_never_marked: usize,
    /// The empty share a sampler that reproduces each size bin's empty share would have, on
    /// the slices every rater drew ("subset B") and on those only some drew.
    size_only_empty_b: f64,
    size_only_empty_some: f64,
}

impl RaterStats {
    fn of(slices: &[MultiRaterSlice]) -> Self {
        let slots = slices.iter().map(|s| s.raters.len()).max().unwrap_or(0);
        let mut by_raters = vec![0; slots + 1];
        let mut bins: BTreeMap<u32, SizeBin> = BTreeMap::new();
        let mut marked: BTreeMap<&str, Vec<bool>> = BTreeMap::new();
        for slice in slices {
            let drew = slice.raters_with_lesion();
            by_raters[drew] += 1;
            let lesion = marked
                .entry(lesion_of(slice))
                .or_insert_with(|| vec![false; slots]);
            for (r, mask) in slice.raters.iter().enumerate() {
                lesion[r] |= !mask.is_empty();
            }
            let Some(bin) = size_bin(slice) else { continue };
            let entry = bins.entry(bin).or_default();
            entry.slices += 1;
            entry.slots += slice.raters.len();
            entry.empty_slots += slice.raters.len() - drew;
            entry.all_drew += usize::from(drew == slice.raters.len());
        }
        let mut lesions_by_markers = vec![0; slots + 1];
        for raters in marked.values() {
            lesions_by_markers[raters.iter().filter(|&&m| m).count()] += 1;
        }
        let (mut sizeable_empty, mut sizeable_empty_never_marked) = (0, 0);
        let (mut b, mut some) = ((0.0, 0usize), (0.0, 0usize));
        for slice in slices {
            let Some(bin) = size_bin(slice) else { continue };
            let share = bins[&bin].empty_share();
            let all_drew = slice.raters_with_lesion() == slice.raters.len();
            let (sum, count) = if all_drew { &mut b } else { &mut some };
            *sum += share;
            *count += 1;
            if largest_area(slice) >= SIZEABLE {
                let lesion = &marked[lesion_of(slice)];
                for (r, mask) in slice.raters.iter().enumerate() {
                    if mask.is_empty() {
                        sizeable_empty += 1;
                        sizeable_empty_never_marked += usize::from(!lesion[r]);
                    }
                }
            }
        }
        let mean = |(sum, count): (f64, usize)| sum / count.max(1) as f64;
        RaterStats {
            by_raters,
            bins,
            lesions_by_markers,
            sizeable_empty,
            sizeable_empty_never_marked,
            size_only_empty_b: mean(b),
            size_only_empty_some: mean(some),
        }
    }

    fn report(&self, side: u32) -> String {
        let slices: usize = self.by_raters.iter().sum();
        let mut out = format!(
            "{slices} slices; by raters who drew on them (0, 1, …): {:?}\n\n\
             | largest mask at {side}² | slices | empty masks | every rater drew |\n\
             |---|---|---|---|\n",
            self.by_raters
        );
        for (k, bin) in &self.bins {
            out += &format!(
                "| {}–{} px | {} | {:.0} % | {:.0} % |\n",
                1u64 << k,
                (1u64 << (k + 1)) - 1,
                bin.slices,
                100.0 * bin.empty_share(),
                100.0 * bin.all_drew as f64 / bin.slices as f64
            );
        }
        out += &format!(
            "\nlesions by raters who marked them on any slice (0, 1, …): {:?}\n\
             empty masks on slices whose largest mask has ≥ {SIZEABLE} px: {}, of which from a \
             rater who marked that lesion on none of its slices: {} ({:.0} %)\n\
             a sampler drawing each size bin's share of empty masks: {:.1} % empty on the slices \
             every rater drew (subset B), {:.1} % on those only some drew\n",
            self.lesions_by_markers,
            self.sizeable_empty,
            self.sizeable_empty_never_marked,
            100.0 * self.sizeable_empty_never_marked as f64 / self.sizeable_empty.max(1) as f64,
            100.0 * self.size_only_empty_b,
            100.0 * self.size_only_empty_some,
        );
        out
    }
}

/// The lesion a slice belongs to: its name's folder (`patient/nodule-N`), or the whole set for
/// flat folders whose names have none.
fn lesion_of(slice: &MultiRaterSlice) -> &str {
    slice.name.rsplit_once('/').map_or("", |(folder, _)| folder)
}

fn largest_area(slice: &MultiRaterSlice) -> usize {
    let areas = slice.raters.iter().map(|m| m.foreground_count());
    areas.max().unwrap_or(0)
}

/// `⌊log₂⌋` of the largest mask's area; `None` when no rater drew.
fn size_bin(slice: &MultiRaterSlice) -> Option<u32> {
    let area = largest_area(slice);
    (area > 0).then(|| area.ilog2())
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics::Mask;

    /// A slice of `lesion` whose raters drew squares of the given sides (0: nothing).
    fn slice(lesion: &str, sides: [usize; 4]) -> MultiRaterSlice {
        MultiRaterSlice {
            name: format!("{lesion}/slice-0"),
            patient: "p".into(),
            image: vec![0.0; 16 * 16],
            raters: sides
                .iter()
                .map(|&s| Mask::from_fn(16, 16, |x, y| x < s && y < s))
                .collect(),
        }
    }

    #[test]
    fn counts_agreement_by_size_and_by_lesion() {
        let slices = [
            slice("a", [8, 8, 8, 8]),   // 64 px, all drew
            slice("a", [9, 8, 0, 8]),   // 81 px, rater 2 left it empty but marked "a" above
            slice("b", [10, 10, 0, 0]), // 100 px; raters 2 and 3 never marked "b"
            slice("c", [2, 0, 0, 0]),   // 4 px
            slice("d", [0, 0, 0, 0]),
        ];
        let stats = RaterStats::of(&slices);
        assert_eq!(stats.by_raters, vec![1, 1, 1, 1, 1]);
        assert_eq!(stats.lesions_by_markers, vec![1, 1, 1, 0, 1]);
        // The three sizeable slices share the 64–127 px bin: 3 empty masks in 12.
        let bin = stats.bins[&6];
        assert_eq!((bin.slices, bin.empty_slots, bin.all_drew), (3, 3, 1));
        assert_eq!(stats.bins[&2].empty_slots, 3);
        assert_eq!(
            (stats.sizeable_empty, stats.sizeable_empty_never_marked),
            (3, 2)
        );
        // Subset B is the one 64 px slice: its bin's share, 25 %.
        assert!((stats.size_only_empty_b - 0.25).abs() < 1e-12);
        // Some drew: two slices at 25 % and one at 75 %.
        assert!((stats.size_only_empty_some - (0.25 + 0.25 + 0.75) / 3.0).abs() < 1e-12);
        let report = stats.report(16);
        assert!(
            report.contains("| 64–127 px | 3 | 25 % | 33 % |"),
            "{report}"
        );
        assert!(report.contains("(67 %)"), "{report}");
    }
}

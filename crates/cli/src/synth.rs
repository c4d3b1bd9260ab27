//! `probunet synth`: write synthetic ambiguity-benchmark cases to a folder.
//!
//! Layout per case (`XXXX` = the case's position in this run):
//! `case-XXXX_image.png` (8-bit lung-window image), `case-XXXX_hyp-K.png` (hypothesis K, 0/255),
//! `case-XXXX.json` (seed, kind, labels and exact probabilities) and, with `--raters N`,
//! `case-XXXX_raterR.png`: image + one mask per rater, the same naming as the LIDC fixture
//! `multirater/lidc0221` (`z-103.5_image.png`, `z-103.5_rater0.png`), so one reader trains on
//! both. `index.json` lists all cases.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use clap::{Args, ValueEnum};
use serde::Serialize;
use synth::{
    AmbiguityKind, Case, EVAL_SEED_BASE, LUNG_WINDOW, MIN_SIZE, Split, draw_rater_indices,
};

use crate::png::{write_grey, write_mask};

mod sheet;

/// Options of `probunet synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Folder to write the cases into (created if missing; existing files are overwritten).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Number of cases to write.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub count: u64,

    /// Index of the first case within the split: case i gets the split's seed for index
    /// `seed + i` (train: seed = index; eval: seed = 1000000000 + index). The same seed always
    /// gives the same case, on every platform.
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub seed: u64,

    /// Which seeds to draw from: `train` (seeds below 1000000000) or `eval` (the held-out
    /// seeds from 1000000000 on, used for the reported numbers; never train on them).
    #[arg(long, value_enum, default_value_t = SplitArg::Train)]
    pub split: SplitArg,

    /// Side of the square images in pixels (the paper's model takes 128); anatomy scales with
    /// it. At least 32.
    #[arg(long, default_value_t = 128, value_name = "PIXELS")]
    pub size: usize,

    /// Also write this many rater masks per case, drawn independently from the hypothesis
    /// distribution with the case's own rater stream (LIDC has 4 raters). 0 writes none.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub raters: usize,

    /// Also write one RGB overview PNG: a row per case (at most 12) with the image, each
    /// hypothesis outlined in red with a green bar as long as its probability, and the raters
    /// in blue.
    #[arg(long, value_name = "FILE")]
    pub contact_sheet: Option<PathBuf>,

    /// Keep only the first case of each ambiguity kind among the --count seeds scanned (the
    /// web page's demo set: `--split eval --count 64 --one-per-kind`).
    #[arg(long)]
    pub one_per_kind: bool,
}

/// The split, as typed on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    /// Training seeds.
    Train,
    /// Held-out evaluation seeds.
    Eval,
}

impl From<SplitArg> for Split {
    fn from(s: SplitArg) -> Split {
        match s {
            SplitArg::Train => Split::Train,
            SplitArg::Eval => Split::Eval,
        }
    }
}

/// `case-XXXX.json`: everything a reader needs to use the case without this crate.
#[derive(Serialize)]
struct CaseDoc<'a> {
    name: &'a str,
    seed: u64,
    split: Split,
    kind: AmbiguityKind,
    width: usize,
    height: usize,
    /// The 8-bit image; grey level / 255 is the lung-window intensity the model sees.
    image: String,
    window: WindowDoc,
    hypotheses: Vec<HypothesisDoc<'a>>,
    raters: Vec<RaterDoc>,
}

#[derive(Serialize)]
struct WindowDoc {
    level: f64,
    width: f64,
}

const WINDOW: WindowDoc = WindowDoc {
    level: LUNG_WINDOW.0,
    width: LUNG_WINDOW.1,
};

#[derive(Serialize)]
struct HypothesisDoc<'a> {
    index: usize,
    label: &'a str,
    probability: f64,
    rare: bool,
    empty: bool,
    foreground_pixels: usize,
    file: String,
}

#[derive(Serialize)]
struct RaterDoc {
    rater: usize,
    hypothesis: usize,
    file: String,
}

/// `index.json`: the run's parameters and one entry per case.
#[derive(Serialize)]
struct IndexDoc {
    generator: &'static str,
    version: &'static str,
    split: Split,
    first_index: u64,
    count: u64,
    size: usize,
    raters: usize,
    window: WindowDoc,
    cases: Vec<IndexEntry>,
}

#[derive(Serialize)]
struct IndexEntry {
    name: String,
    seed: u64,
    kind: AmbiguityKind,
    hypotheses: usize,
    file: String,
}

/// Runs `probunet synth`.
pub fn run(args: &SynthArgs) -> Result<()> {
    ensure!(
        args.size >= MIN_SIZE,
        "--size must be at least {MIN_SIZE} (got {})",
        args.size
    );
    let split = Split::from(args.split);
    if split == Split::Train {
        ensure!(
            args.seed.saturating_add(args.count) <= EVAL_SEED_BASE,
            "training indices must stay below {EVAL_SEED_BASE} (the evaluation seeds)"
        );
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let digits = args.count.saturating_sub(1).to_string().len().max(4);
    let mut cases = Vec::new();
    let mut sheet_rows = Vec::new();
    let mut kinds_written = Vec::new();
    for i in 0..args.count {
        let seed = split.seed(args.seed + i);
        let case = Case::generate(seed, args.size, args.size);
        if args.one_per_kind {
            if kinds_written.contains(&case.kind) {
                continue;
            }
            kinds_written.push(case.kind);
        }
        let name = format!("case-{i:0digits$}");
        let raters = if args.raters > 0 {
            draw_rater_indices(&case, args.raters, &mut case.rater_rng())
        } else {
            Vec::new()
        };
        write_case(&args.out, &name, &case, split, &raters)?;
        cases.push(IndexEntry {
            file: format!("{name}.json"),
            name,
            seed,
            kind: case.kind,
            hypotheses: case.hypotheses.len(),
        });
        if args.contact_sheet.is_some() && sheet_rows.len() < sheet::MAX_ROWS {
            sheet_rows.push((case, raters));
        }
    }
    let index = IndexDoc {
        generator: "probunet synth",
        version: env!("CARGO_PKG_VERSION"),
        split,
        first_index: args.seed,
        count: cases.len() as u64,
        size: args.size,
        raters: args.raters,
        window: WINDOW,
        cases,
    };
    write_json(&args.out.join("index.json"), &index)?;
    if let Some(path) = &args.contact_sheet {
        sheet::write(path, &sheet_rows)?;
    }
    println!(
        "wrote {} {} case(s) of {}×{} to {}",
        index.count,
        split_name(split),
        args.size,
        args.size,
        args.out.display()
    );
    Ok(())
}

/// Writes one case's PNGs and JSON.
fn write_case(dir: &Path, name: &str, case: &Case, split: Split, raters: &[usize]) -> Result<()> {
    let image = format!("{name}_image.png");
    write_grey(&dir.join(&image), case.width, case.height, case.image_u8())?;
    let mut hypotheses = Vec::new();
    for (k, h) in case.hypotheses.iter().enumerate() {
        let file = format!("{name}_hyp-{k}.png");
        write_mask(&dir.join(&file), &h.mask)?;
        hypotheses.push(HypothesisDoc {
            index: k,
            label: &h.label,
            probability: h.probability,
            rare: h.is_rare(),
            empty: h.mask.is_empty(),
            foreground_pixels: h.mask.foreground_count(),
            file,
        });
    }
    let mut rater_docs = Vec::new();
    for (r, &k) in raters.iter().enumerate() {
        let file = format!("{name}_rater{r}.png");
        write_mask(&dir.join(&file), &case.hypotheses[k].mask)?;
        rater_docs.push(RaterDoc {
            rater: r,
            hypothesis: k,
            file,
        });
    }
    let doc = CaseDoc {
        name,
        seed: case.seed,
        split,
        kind: case.kind,
        width: case.width,
        height: case.height,
        image,
        window: WINDOW,
        hypotheses,
        raters: rater_docs,
    };
    write_json(&dir.join(format!("{name}.json")), &doc)
}

fn split_name(split: Split) -> &'static str {
    match split {
        Split::Train => "train",
        Split::Eval => "eval",
    }
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

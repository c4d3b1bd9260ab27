//! What the page and the fine-tuning worker say to each other: typed messages, as JSON in
//! `postMessage` (the weights travel beside them as bytes, transferred rather than copied).
//! The page's side is `worker/page.rs`, the worker's `worker/inside.rs`.

use metrics::Mask;
use probunet::{FineTuneConfig, LossValues, Pair};
use serde::{Deserialize, Serialize};

/// A training pair on the wire.
#[derive(Serialize, Deserialize)]
pub(super) struct WirePair {
    pub(super) name: String,
    pub(super) side: usize,
    pub(super) image: Vec<f32>,
    pub(super) masks: Vec<Vec<bool>>,
}

impl WirePair {
    pub(super) fn from_pair(pair: &Pair) -> Self {
        Self {
            name: pair.name.clone(),
            side: pair.side,
            image: pair.image.clone(),
            masks: pair.masks.iter().map(Mask::to_bools).collect(),
        }
    }

    /// The pair, checked: an image or a mask of the wrong size is refused.
    pub(super) fn to_pair(&self) -> Result<Pair, String> {
        if self.image.len() != self.side * self.side {
            return Err(format!(
                "{}: {} pixels for a {}² image",
                self.name,
                self.image.len(),
                self.side
            ));
        }
        let masks = self
            .masks
            .iter()
            .map(|bits| Mask::from_bools(self.side, self.side, bits).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        Ok(Pair {
            name: self.name.clone(),
            image: self.image.clone(),
            side: self.side,
            masks,
        })
    }
}

/// The run, as the page posts it (the weights travel beside it as bytes).
#[derive(Serialize, Deserialize)]
pub(super) struct WireRequest {
    pub(super) training: Vec<WirePair>,
    pub(super) held_out: Option<WirePair>,
    pub(super) config: FineTuneConfig,
    pub(super) steps: usize,
    /// Train on WebGPU (else on the CPU).
    pub(super) webgpu: bool,
}

/// What the worker tells the page.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum Report {
    /// The device is open; listening for pause and cancel.
    Started,
    /// The worker could not open WebGPU (some browsers offer it to pages only).
    NoWebGpu {
        why: String,
    },
    GedBefore {
        ged: Option<f64>,
    },
    Step {
        values: LossValues,
        steps_done: usize,
        steps_per_s: f64,
    },
    /// The weights after `steps_done` steps come with this one: the page keeps them, so a
    /// closed tab or a dead worker loses only the steps since.
    Checkpoint {
        steps_done: usize,
    },
    Finishing,
    GedAfter {
        ged: Option<f64>,
    },
    /// The tuned weights come with this one.
    Done {
        steps: usize,
        stopped: Option<String>,
    },
    Failed {
        message: String,
    },
}

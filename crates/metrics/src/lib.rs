//! Segmentation-distribution metrics (docs/CONVENTIONS.md, Metrics), on host-side binary masks.
//!
//! The model hands its samples over as [`Mask`]s (packed bitsets); nothing here touches burn
//! tensors, so the metrics run the same natively, in the browser and in tests.
//!
//! Conventions (pinned in docs/CONVENTIONS.md, documented where implemented):
//!
//! * [`iou()`]: foreground IoU; both masks empty → 1 (d = 0), exactly one empty → 0 (d = 1);
//!   d = 1 − IoU.
//! * [`ged()`]: GED² = 2·E[d(ŷ,y)] − E[d(ŷ,ŷ′)] − E[d(y,y′)], each E the mean over the full
//!   pairwise matrix, diagonal included; optional annotation weights. **The number reported as
//!   "GED" is GED² ([`Ged::squared`])**, as in Kohl et al. (2018) and its follow-ups; always give
//!   n (GED₁₆, GED₁₀₀).
//! * [`hm_iou()`]: annotations tiled to ⌈n/m⌉·m slots (slot s = annotation s mod m), Hungarian
//!   matching maximising IoU, mean IoU of the n matched pairs.
//! * [`diversity`]: E[d(ŷ,ŷ′)] over the full n×n matrix (= GED's sample term).
//! * [`UncertaintyMap`]: per-pixel foreground frequency p, variance p(1−p), entropy in bits.
//! * [`variance_ncc`]: Pearson correlation of the sample and annotation variance maps; both maps
//!   constant and equal → 1, otherwise any constant map → 0.
//! * [`hypothesis_frequencies`]: nearest hypothesis by IoU (ties → lower index), shares vs true
//!   probabilities, mean absolute error.

mod error;
mod frequency;
mod ged;
mod hm_iou;
mod iou;
mod mask;
mod ncc;
mod report;
mod uncertainty;

pub use error::{MetricsError, Result};
pub use frequency::{HypothesisFrequencies, hypothesis_frequencies};
pub use ged::{Ged, diversity, ged, ged_from_matrices, ged_weighted};
pub use hm_iou::{HmIou, hm_iou, hm_iou_from_matrix};
pub use iou::{IouMatrix, iou, iou_distance, iou_from_counts};
pub use mask::Mask;
pub use ncc::{ncc, variance_ncc};
pub use report::{Evaluation, evaluate};
pub use uncertainty::{UncertaintyMap, bernoulli_variance, binary_entropy};

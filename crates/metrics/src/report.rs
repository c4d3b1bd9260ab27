//! All set-level metrics of one image at once, sharing the pairwise IoU matrices.

use serde::{Deserialize, Serialize};

use super::Mask;
use super::error::{Result, same_shape};
use super::ged::{Ged, ged_from_matrices};
use super::hm_iou::{HmIou, hm_iou_from_matrix};
use super::iou::IouMatrix;
use super::ncc::variance_ncc;

/// GED², HM-IoU, diversity and variance NCC of n samples against m annotations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// GED² and its terms; `ged.squared` is the number reported as "GED".
    pub ged: Ged,
    /// Hungarian-matched IoU (unweighted: the annotation list is tiled, see `hm_iou`).
    pub hm_iou: HmIou,
    /// E[d(ŷ, ŷ′)], the same value as `ged.samples`.
    pub diversity: f64,
    /// NCC of the sample and annotation variance maps.
    pub ncc: f64,
}

/// Evaluates `samples` against `annotations`, each pairwise intersection computed once.
///
/// `weights` (annotation probabilities) enter GED and NCC; HM-IoU has no weighted form and
/// always tiles the annotation list as given (repeat an annotation to weigh it there).
pub fn evaluate(
    samples: &[Mask],
    annotations: &[Mask],
    weights: Option<&[f64]>,
) -> Result<Evaluation> {
    same_shape(samples, "samples", annotations, "annotations")?;
    let cross = IouMatrix::between(samples, annotations)?;
    let ged = ged_from_matrices(
        &cross,
        &IouMatrix::within(samples)?,
        &IouMatrix::within(annotations)?,
        weights,
    )?;
    Ok(Evaluation {
        hm_iou: hm_iou_from_matrix(&cross)?,
        diversity: ged.samples,
        ncc: variance_ncc(samples, annotations, weights)?,
        ged,
    })
}

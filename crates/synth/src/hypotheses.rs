//! The exact annotation distribution of a case: one mask per row of its kind's table.
//!
//! Masks are level sets of the same geometry the image was painted from (see
//! [`super::nodule`]), so each hypothesis is something a careful rater could draw on this image.
//! Hypotheses are kept clearly apart (IoU ≤ 0.8 between a mask with and without the vessel
//! segment), so that a sample can be assigned to the hypothesis it imitates without doubt, and
//! masks that happen to coincide (possible on tiny crops) are merged into one hypothesis.

use super::Hypothesis;
use super::kind::{AmbiguityKind, Outline};
use super::scene::Scene;
use super::vessels::Vessel;
use metrics::{Mask, iou};

/// The largest IoU allowed between a mask and the same mask plus the vessel segment.
const MAX_VESSEL_IOU: f64 = 0.8;

/// The hypotheses of `scene` under `kind`'s table, distinct, probabilities summing to 1.
pub(crate) fn build(kind: AmbiguityKind, scene: &Scene) -> Vec<Hypothesis> {
    let (w, h) = (scene.width, scene.height);
    let lesion = &scene.lesion;
    let core = lesion.mask(0.0, w, h);
    let generous = lesion.mask(lesion.generous_level(), w, h);
    let satellite = scene.satellite.as_ref().map(|s| s.mask(0.0, w, h));
    let bases: Vec<&Mask> = if kind.has_halo() {
        vec![&core, &generous]
    } else {
        vec![&core]
    };
    let stub = scene
        .attached
        .as_ref()
        .map(|v| vessel_segment(v, scene, &bases));

    let mut out: Vec<Hypothesis> = Vec::new();
    for variant in kind.variants() {
        let mut mask = match variant.outline {
            Outline::Missed => Mask::empty(w, h),
            Outline::Lesion | Outline::Tight => core.clone(),
            Outline::Generous => generous.clone(),
        };
        if variant.vessel {
            mask = union(&mask, stub.as_ref().expect("vessel kinds place a vessel"));
        }
        if variant.satellite {
            mask = union(
                &mask,
                satellite.as_ref().expect("rare kind places a satellite"),
            );
        }
        match out.iter_mut().find(|h| h.mask == mask) {
            Some(same) => {
                same.probability += variant.probability;
                same.label = format!("{} / {}", same.label, variant.label);
            }
            None => out.push(Hypothesis {
                mask,
                probability: variant.probability,
                label: variant.label.to_string(),
            }),
        }
    }
    out
}

/// The part of the touching vessel a rater who includes it draws: the tube out to some reach
/// beyond the lesion's outline, grown until adding it changes every base mask clearly.
fn vessel_segment(vessel: &Vessel, scene: &Scene, bases: &[&Mask]) -> Mask {
    let (w, h) = (scene.width, scene.height);
    let tube = vessel.mask(w, h);
    let lesion = &scene.lesion;
    let radius = lesion.shape.radius;
    let mut reach = lesion.generous_level() + 0.8 * radius;
    loop {
        let segment = Mask::from_fn(w, h, |x, y| {
            tube.get(x, y) && lesion.shape.edge_distance((x as f64 + 0.5, y as f64 + 0.5)) <= reach
        });
        let clear = bases
            .iter()
            .all(|base| iou(base, &union(base, &segment)).expect("same shapes") <= MAX_VESSEL_IOU);
        if clear || reach > 4.0 * radius {
            return segment;
        }
        reach += 0.2 * radius;
    }
}

/// Pixel-wise OR of two masks of the same shape.
fn union(a: &Mask, b: &Mask) -> Mask {
    Mask::from_fn(a.width(), a.height(), |x, y| a.get(x, y) || b.get(x, y))
}

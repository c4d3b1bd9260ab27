//! Normalised cross-correlation of uncertainty maps (docs/CONVENTIONS.md, Metrics).
//!
//! Following the idea of PHiSeg's S_NCC (Baumgartner et al., MICCAI 2019) — does the model put
//! its uncertainty where the annotators disagree? — but on the maps docs/CONVENTIONS.md (Metrics) pins: the
//! per-pixel Bernoulli variance p(1 − p) of the samples against that of the annotations
//! (annotation p optionally weighted by known probabilities). NCC is Pearson's correlation over
//! pixels, in [−1, 1].
//!
//! **Constant maps.** Pearson's correlation is 0/0 when a map has no spread. We define:
//!
//! * both maps constant and equal (typically: every sample identical and every annotation
//!   identical, so both maps are all zero) → NCC = 1: the model is exactly as certain, everywhere,
//!   as the annotators;
//! * otherwise, if either map is constant → NCC = 0: no linear relation can be measured.
//!
//! "Constant" means every value equals the first one exactly, which is what happens for maps made
//! from identical masks (no tolerance is needed: equal counts give bit-identical values).

use super::Mask;
use super::error::{MetricsError, Result, same_shape};
use super::uncertainty::UncertaintyMap;

/// Pearson correlation of two equally long maps, with the constant-map rules of the module doc.
///
/// Panics when the lengths differ or the maps are empty.
pub fn ncc(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "maps of different sizes");
    assert!(!a.is_empty(), "empty maps");
    let constant = |v: &[f64]| v.iter().all(|&x| x == v[0]);
    match (constant(a), constant(b)) {
        (true, true) => return if a[0] == b[0] { 1.0 } else { 0.0 },
        (true, false) | (false, true) => return 0.0,
        (false, false) => {}
    }
    let len = a.len() as f64;
    let mean_a = a.iter().sum::<f64>() / len;
    let mean_b = b.iter().sum::<f64>() / len;
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - mean_a, y - mean_b);
        ab += dx * dy;
        aa += dx * dx;
        bb += dy * dy;
    }
    if aa == 0.0 || bb == 0.0 {
        // Not constant, yet the centred sum of squares underflowed (values within ~1e-154).
        return 0.0;
    }
    (ab / (aa.sqrt() * bb.sqrt())).clamp(-1.0, 1.0)
}

/// NCC between the sample variance map and the annotation variance map; `weights` are the
/// annotations' probabilities (`None` = equally likely).
pub fn variance_ncc(
    samples: &[Mask],
    annotations: &[Mask],
    weights: Option<&[f64]>,
) -> Result<f64> {
    same_shape(samples, "samples", annotations, "annotations")?;
    let sample_map = UncertaintyMap::from_masks(samples)?;
    let annotation_map = match weights {
        Some(w) => UncertaintyMap::from_weighted_masks(annotations, w)?,
        None => UncertaintyMap::from_masks(annotations)?,
    };
    if sample_map.frequency().is_empty() {
        return Err(MetricsError::EmptySet("pixels"));
    }
    Ok(ncc(&sample_map.variance(), &annotation_map.variance()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_values() {
        assert!((ncc(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]) - 1.0).abs() < 1e-15);
        assert!((ncc(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-15);
        assert_eq!(ncc(&[1.0, 0.0, 1.0, 0.0], &[1.0, 1.0, 0.0, 0.0]), 0.0);
    }

    #[test]
    fn constant_maps() {
        assert_eq!(ncc(&[0.0; 4], &[0.0; 4]), 1.0);
        assert_eq!(ncc(&[0.25; 4], &[0.0; 4]), 0.0);
        assert_eq!(ncc(&[0.0; 4], &[0.0, 0.25, 0.0, 0.0]), 0.0);
        assert_eq!(ncc(&[0.0, 0.25, 0.0, 0.0], &[0.1; 4]), 0.0);
    }

    #[test]
    fn masks() {
        let m = |b: &str| Mask::parse_bits(4, 1, b).unwrap();
        // Identical samples and identical annotations: both variance maps are zero → 1.
        assert_eq!(
            variance_ncc(&vec![m("1100"); 2], &[m("0011")], None).unwrap(),
            1.0
        );
        // Samples disagree exactly where annotations do.
        let samples = [m("1100"), m("1000")];
        let annotations = [m("1000"), m("1100"), m("1100")];
        assert!((variance_ncc(&samples, &annotations, None).unwrap() - 1.0).abs() < 1e-12);
        // One annotation (zero variance) against varying samples → 0.
        assert_eq!(variance_ncc(&samples, &[m("1000")], None).unwrap(), 0.0);
        assert!(variance_ncc(&samples, &annotations, Some(&[1.0])).is_err());
    }
}

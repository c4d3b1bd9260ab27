//! The ambiguity types and their exact annotation distributions.
//!
//! Each kind has a FIXED table of hypotheses and probabilities. Fixed, because a model sees only
//! the image: if the probabilities varied at random between cases that look alike, no model
//! could match them, and the per-hypothesis frequency error (issue 5 asks ≤ 0.05) would have a
//! floor far above zero by construction. Every kind is recognisable from the image (a faint
//! ground-glass lesion, a halo, a vessel running through the lesion, a satellite), so a perfect
//! model can reach zero error. Every probability is a multiple of 0.05 and at least 0.10, and
//! the 10–20 % entries are the "rare" hypotheses of docs/CONVENTIONS.md.

use serde::{Deserialize, Serialize};

use super::seeds::{Stream, stream};

/// What raters disagree about in a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmbiguityKind {
    /// A well-defined solid nodule: every rater draws the same outline.
    Certain,
    /// A faint ground-glass lesion: some raters miss it (the empty hypothesis).
    Faint,
    /// A solid core with a ground-glass halo (a blurred edge): drawn tight or generous.
    Boundary,
    /// A vessel runs through the nodule: its adjoining segment is included or not.
    Vessel,
    /// A small satellite opacity next to the nodule that a few raters include (rare).
    Rare,
    /// A faint lesion with a halo: missed (rare), tight or generous.
    FaintBoundary,
    /// Halo and touching vessel: tight or generous, each with or without the vessel.
    BoundaryVessel,
    /// A faint lesion crossed by a vessel: missed (rare), lesion alone, or with the vessel.
    FaintVessel,
}

/// How a hypothesis outlines the lesion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outline {
    /// Nothing drawn: the rater missed the lesion.
    Missed,
    /// The outline of the lesion (no halo in this case, so tight and generous coincide).
    Lesion,
    /// The core only.
    Tight,
    /// Core and halo.
    Generous,
}

/// One row of a kind's table: how the mask is built, its label and its probability.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Variant {
    /// Human-readable name, written to the case JSON.
    pub label: &'static str,
    /// How the lesion is outlined.
    pub outline: Outline,
    /// Whether the segment of the touching vessel next to the lesion is included.
    pub vessel: bool,
    /// Whether the satellite opacity is included.
    pub satellite: bool,
    /// Exact probability of this hypothesis.
    pub probability: f64,
}

const fn v(
    label: &'static str,
    outline: Outline,
    vessel: bool,
    satellite: bool,
    probability: f64,
) -> Variant {
    Variant {
        label,
        outline,
        vessel,
        satellite,
        probability,
    }
}

use Outline::{Generous, Lesion, Missed, Tight};

const CERTAIN: &[Variant] = &[v("nodule", Lesion, false, false, 1.0)];
const FAINT: &[Variant] = &[
    v("missed", Missed, false, false, 0.30),
    v("lesion", Lesion, false, false, 0.70),
];
const BOUNDARY: &[Variant] = &[
    v("tight", Tight, false, false, 0.60),
    v("generous", Generous, false, false, 0.40),
];
const VESSEL: &[Variant] = &[
    v("nodule", Lesion, false, false, 0.65),
    v("with vessel", Lesion, true, false, 0.35),
];
const RARE: &[Variant] = &[
    v("nodule", Lesion, false, false, 0.85),
    v("with satellite", Lesion, false, true, 0.15),
];
const FAINT_BOUNDARY: &[Variant] = &[
    v("missed", Missed, false, false, 0.20),
    v("tight", Tight, false, false, 0.50),
    v("generous", Generous, false, false, 0.30),
];
const BOUNDARY_VESSEL: &[Variant] = &[
    v("tight", Tight, false, false, 0.40),
    v("generous", Generous, false, false, 0.25),
    v("tight with vessel", Tight, true, false, 0.20),
    v("generous with vessel", Generous, true, false, 0.15),
];
const FAINT_VESSEL: &[Variant] = &[
    v("missed", Missed, false, false, 0.15),
    v("lesion", Lesion, false, false, 0.55),
    v("with vessel", Lesion, true, false, 0.30),
];

impl AmbiguityKind {
    /// Every kind, in table order.
    pub const ALL: [AmbiguityKind; 8] = [
        AmbiguityKind::Certain,
        AmbiguityKind::Faint,
        AmbiguityKind::Boundary,
        AmbiguityKind::Vessel,
        AmbiguityKind::Rare,
        AmbiguityKind::FaintBoundary,
        AmbiguityKind::BoundaryVessel,
        AmbiguityKind::FaintVessel,
    ];

    /// How often each kind is drawn, per mille (sums to 1000, in [`Self::ALL`] order). Single
    /// ambiguities are commoner than combinations; certain cases keep the model from inventing
    /// doubt where there is none.
    pub const PER_MILLE: [u32; 8] = [100, 150, 150, 150, 120, 110, 110, 110];

    /// The hypotheses of this kind with their exact probabilities (summing to 1).
    pub fn variants(self) -> &'static [Variant] {
        match self {
            AmbiguityKind::Certain => CERTAIN,
            AmbiguityKind::Faint => FAINT,
            AmbiguityKind::Boundary => BOUNDARY,
            AmbiguityKind::Vessel => VESSEL,
            AmbiguityKind::Rare => RARE,
            AmbiguityKind::FaintBoundary => FAINT_BOUNDARY,
            AmbiguityKind::BoundaryVessel => BOUNDARY_VESSEL,
            AmbiguityKind::FaintVessel => FAINT_VESSEL,
        }
    }

    /// The kind of the case with this seed (cheap: no image is drawn).
    pub fn for_seed(seed: u64) -> AmbiguityKind {
        let draw = (stream(seed, Stream::Kind).uniform() * 1000.0) as u32;
        let mut cumulative = 0;
        for (kind, per_mille) in Self::ALL.iter().zip(Self::PER_MILLE) {
            cumulative += per_mille;
            if draw < cumulative {
                return *kind;
            }
        }
        AmbiguityKind::FaintVessel
    }

    /// The lesion is faint ground glass.
    pub fn is_faint(self) -> bool {
        matches!(self, Self::Faint | Self::FaintBoundary | Self::FaintVessel)
    }

    /// The lesion has a halo (tight/generous).
    pub fn has_halo(self) -> bool {
        matches!(
            self,
            Self::Boundary | Self::FaintBoundary | Self::BoundaryVessel
        )
    }

    /// A vessel runs through the lesion.
    pub fn has_attached_vessel(self) -> bool {
        matches!(
            self,
            Self::Vessel | Self::BoundaryVessel | Self::FaintVessel
        )
    }

    /// A satellite opacity sits next to the lesion.
    pub fn has_satellite(self) -> bool {
        matches!(self, Self::Rare)
    }

    /// One sentence for a teacher: what makes a case of this kind ambiguous.
    pub fn description(self) -> &'static str {
        match self {
            Self::Certain => "A well-defined solid nodule: every rater draws the same outline.",
            Self::Faint => "A faint ground-glass lesion that some raters miss entirely.",
            Self::Boundary => "A solid core with a ground-glass halo: drawn tight or generous.",
            Self::Vessel => "A vessel runs through the nodule: its segment is included or not.",
            Self::Rare => "A small satellite opacity beside the nodule that few raters include.",
            Self::FaintBoundary => {
                "A faint lesion with a halo: missed (rarely), tight or generous."
            }
            Self::BoundaryVessel => {
                "Halo and touching vessel: tight or generous, each with or without the vessel."
            }
            Self::FaintVessel => {
                "A faint lesion crossed by a vessel: missed (rarely), alone, or with the vessel."
            }
        }
    }

    /// The snake-case name used in JSON and file listings.
    pub fn name(self) -> &'static str {
        match self {
            Self::Certain => "certain",
            Self::Faint => "faint",
            Self::Boundary => "boundary",
            Self::Vessel => "vessel",
            Self::Rare => "rare",
            Self::FaintBoundary => "faint_boundary",
            Self::BoundaryVessel => "boundary_vessel",
            Self::FaintVessel => "faint_vessel",
        }
    }
}

impl std::fmt::Display for AmbiguityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_distributions() {
        assert_eq!(AmbiguityKind::PER_MILLE.iter().sum::<u32>(), 1000);
        for kind in AmbiguityKind::ALL {
            let total: f64 = kind.variants().iter().map(|v| v.probability).sum();
            assert!((total - 1.0).abs() < 1e-12, "{kind}: {total}");
            for v in kind.variants() {
                assert!(v.probability >= 0.10 - 1e-12 && v.probability <= 1.0);
                assert_eq!(v.outline == Missed, v.label == "missed");
            }
            assert_eq!(
                kind.variants().iter().any(|v| v.vessel),
                kind.has_attached_vessel()
            );
            assert_eq!(
                kind.variants().iter().any(|v| v.satellite),
                kind.has_satellite()
            );
            assert_eq!(
                kind.variants().iter().any(|v| v.outline == Missed),
                kind.is_faint()
            );
            assert_eq!(
                kind.variants().iter().any(|v| v.outline == Generous),
                kind.has_halo()
            );
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{kind}\""));
        }
    }
}

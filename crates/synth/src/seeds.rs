//! Seeds: which cases train and which are held out, and one random stream per concern.
//!
//! A case is a pure function of its seed. Every concern (kind, layout, texture, vessels, noise,
//! raters) draws from its own stream, derived from the seed and a fixed tag, so that changing
//! how, say, the texture is drawn does not move the nodules of every case. The streams come from
//! [`SeededRng`] (SplitMix64 + arithmetic-only normals), whose output is bit-identical natively
//! and in wasm; the generator itself uses only `+ − × ÷ √`, `floor` and comparisons (no `sin`,
//! `exp`, `powf`, whose last bits differ between libms), so the web app's demo cases equal the
//! native ones exactly.

use serde::{Deserialize, Serialize};

use crate::rng::SeededRng;

/// First seed of the held-out evaluation split. Training seeds are `0..EVAL_SEED_BASE`, so the
/// two splits can never share a case, however many training cases are drawn.
pub const EVAL_SEED_BASE: u64 = 1_000_000_000;

/// Which part of the benchmark a seed belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Seeds `0..EVAL_SEED_BASE`: for training (and validation curves while training).
    Train,
    /// Seeds `EVAL_SEED_BASE..`: held out, only for `probunet eval` and the reported numbers.
    Eval,
}

impl Split {
    /// The seed of the `index`-th case of this split. Panics when `index` would leave the
    /// split (a training index of a billion or more).
    pub fn seed(self, index: u64) -> u64 {
        match self {
            Split::Train => {
                assert!(
                    index < EVAL_SEED_BASE,
                    "training index {index} reaches the evaluation seeds"
                );
                index
            }
            Split::Eval => EVAL_SEED_BASE
                .checked_add(index)
                .expect("evaluation index overflows u64"),
        }
    }

    /// The split a seed belongs to.
    pub fn of_seed(seed: u64) -> Split {
        if seed < EVAL_SEED_BASE {
            Split::Train
        } else {
            Split::Eval
        }
    }
}

/// The independent random streams of one case.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stream {
    Kind = 1,
    Layout,
    Texture,
    Dots,
    Vessels,
    Noise,
    Raters,
}

/// The random stream `stream` of the case with seed `seed`.
pub(crate) fn stream(seed: u64, stream: Stream) -> SeededRng {
    // "SYNTHCT" in ASCII: keeps these streams apart from other users of SeededRng with small
    // seeds (model initialisation uses SeededRng::new(seed) directly).
    const DOMAIN: u64 = 0x0053_594E_5448_4354;
    SeededRng::new(mix(mix(seed ^ DOMAIN) ^ stream as u64))
}

/// SplitMix64's finaliser: a bijection that scatters nearby seeds across the state space.
fn mix(z: u64) -> u64 {
    let z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_are_disjoint() {
        assert_eq!(Split::Train.seed(5), 5);
        assert_eq!(Split::Eval.seed(5), EVAL_SEED_BASE + 5);
        assert_eq!(
            Split::of_seed(Split::Train.seed(EVAL_SEED_BASE - 1)),
            Split::Train
        );
        assert_eq!(Split::of_seed(Split::Eval.seed(0)), Split::Eval);
    }

    #[test]
    fn streams_differ() {
        let a = stream(1, Stream::Kind).next_u64();
        assert_ne!(a, stream(1, Stream::Layout).next_u64());
        assert_ne!(a, stream(2, Stream::Kind).next_u64());
        assert_eq!(a, stream(1, Stream::Kind).next_u64());
    }
}

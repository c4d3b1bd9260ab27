//! What the page and an encode worker say to each other: a JSON header per message, with the
//! numbers beside it as a typed array (transferred, not copied, and exact: no float goes
//! through text).

use serde::{Deserialize, Serialize};

/// What the page asks. Each is answered by one [`Reply`].
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum Request {
    /// Build the model from the weights beside this (bytes); forget any projection held.
    Load,
    /// The U-Net and fcomb's projection of the `width`×`height` pixels beside this (f32);
    /// keep the projection as `ticket` and send it back.
    Project {
        ticket: u64,
        width: usize,
        height: usize,
    },
    /// The prior net on the `width`×`height` pixels beside this (f32).
    Prior { width: usize, height: usize },
    /// Keep the projection beside this (f32, `channels`×`height`×`width`) as `ticket`.
    Hold {
        ticket: u64,
        channels: usize,
        height: usize,
        width: usize,
    },
    /// Masks for the latents beside this (f32, `count` × `dims`) of the projection `ticket`.
    Decode {
        ticket: u64,
        count: usize,
        dims: usize,
    },
}

/// What a worker answers.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum Reply {
    /// The wasm is running and listening (the first message).
    Ready,
    Loaded,
    /// The projection is beside this (f32).
    Projected {
        channels: usize,
        height: usize,
        width: usize,
    },
    /// μ then σ are beside this (f32, `dims` each).
    Prior {
        dims: usize,
    },
    Held,
    /// The masks are beside this: one byte (0 or 1) per pixel, mask after mask.
    Masks {
        width: usize,
        height: usize,
    },
    /// The projection asked for is no longer held (the model changed, or a newer crop).
    NotHeld,
    Failed {
        message: String,
    },
}

impl Reply {
    /// The reply in words, for a message about one that was not expected.
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Reply::Ready => "ready",
            Reply::Loaded => "loaded",
            Reply::Projected { .. } => "a projection",
            Reply::Prior { .. } => "a prior",
            Reply::Held => "held",
            Reply::Masks { .. } => "masks",
            Reply::NotHeld => "not held",
            Reply::Failed { .. } => "failed",
        }
    }
}

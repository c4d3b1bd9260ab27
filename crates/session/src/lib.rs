//! The page's model work as plain Rust, so it can be read and tested without a browser.
//!
//! - [`Engine`]: the model a weights file holds (either kind), on its device; it encodes a
//!   crop once and reruns only the latent-dependent part per sample.
//! - [`Steps`]: encode → sample → latent map (or the hierarchical model's scale rows), in
//!   pieces, letting the [`Host`] run between them and stopping when its [`Job`] is cancelled.
//! - [`Analysis`], [`LatentMap`], [`ScaleRows`]: host-side results only (masks, latents,
//!   timings), which the page's components draw without touching a tensor.
//!
//! The web app implements [`Host`] (timers, the status line, and two workers that encode and
//! decode off its thread: [`Elsewhere`]) and keeps the results in its view signals; the same
//! steps run natively in this crate's tests.

mod analysis;
mod elsewhere;
mod engine;
mod jobs;
mod steps;

pub use analysis::{Analysis, LatentMap, Sample, ScaleRows, distinct_count};
pub use elsewhere::{Elsewhere, HostMap};
pub use engine::{Encoding, Engine, EngineError, Projection};
pub use jobs::{Cancelled, Job, Jobs};
pub use steps::{
    DECODE_CHUNK, Encoded, Host, MAP_CELLS, MAP_EXTENT, SCALE_ROW_SAMPLES, StepError, Steps,
};

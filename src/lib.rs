//! ProbSeg's web app: Leptos components and the glue that calls the model.
//!
//! No tensor maths lives here: the model is in the `probunet` crate, the model work the page
//! runs (encode, sample, latent map, with cancellation) in `session`, metrics in `metrics` and
//! image decoding in `imaging`. This crate picks a device ([`backend`]), keeps the page's
//! state and drives the session's steps ([`workbench`]), and draws what comes back
//! ([`render`], `components`).

pub mod backend;
#[cfg(feature = "bench")]
pub mod bench;
pub mod broken;
pub mod browser;
mod components;
pub mod demo;
pub mod encode_workers;
#[cfg(feature = "bench")]
pub mod kernel_bench;
pub mod probe;
pub mod render;
pub mod smoke_test;
pub mod storage;
pub mod tuning;
pub mod viewport;
pub mod wasm_worker;
mod webgpu;
pub mod workbench;

pub use components::App;

#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

//! ProbSeg's web app: Leptos components and the glue that calls the model.
//!
//! No tensor maths lives here: the model, its sampling and its metrics are in the `probunet`
//! crate and image decoding in `imaging`. This crate picks a device ([`backend`]), loads the
//! shipped weights ([`engine`]), keeps the page's state and runs the model in small steps
//! ([`workbench`]), and draws what comes back ([`render`], `components`).

pub mod analysis;
pub mod backend;
#[cfg(feature = "bench")]
pub mod bench;
pub mod broken;
pub mod browser;
mod components;
pub mod demo;
pub mod engine;
pub mod probe;
pub mod render;
pub mod smoke_test;
pub mod storage;
pub mod tuning;
pub mod viewport;
mod webgpu;
pub mod workbench;

pub use components::App;

#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

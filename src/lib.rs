//! ProbSeg's web app: Leptos components and the glue that calls the model.
//!
//! No tensor maths lives here: the model and its smoke test are in the `probunet` crate; this
//! crate picks a device ([`backend`]), hands it to the model and shows what came back.

pub mod backend;
mod components;
pub mod smoke_test;
mod webgpu;

pub use components::App;

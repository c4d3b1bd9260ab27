//! Integration tests of the probunet crate, in one binary (one link of burn instead of four).

mod common;
mod explore;
mod finetune;
mod hierarchical;
mod hpu_reference;
mod model;
mod prior_fit;
mod reference;
mod train;
mod weights;

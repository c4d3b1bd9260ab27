//! `probunet train / eval / sample / export` end to end on the tiny preset at 32×32: a few
//! steps each, so the whole file runs in well under a minute on two cores (CI runs it).

mod common;
mod hierarchical;
mod lidc;
mod options;
mod synthetic;

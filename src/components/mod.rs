//! The page's components. Small functions, signals next to their use, no tensor code.

mod about;
mod app;
mod backend_panel;
mod header;

pub use app::App;

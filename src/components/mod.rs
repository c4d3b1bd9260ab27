//! The page's components. Small functions, signals next to their use, no tensor code.

mod about;
mod app;
mod backend_panel;
mod canvas;
mod downloads;
mod gallery;
mod header;
mod image_info;
mod input;
mod latent_map;
mod overlay;
mod status;
mod teaching;
mod uncertainty;
mod viewer;

pub use app::App;

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
mod loss_chart;
mod mask_editor;
mod model_choice;
mod overlay;
mod scale_rows;
mod status;
mod teaching;
mod tuning_panel;
mod uncertainty;
mod viewer;
mod weights_files;

pub use app::App;

//! The page's state and the actions that change it: open a file or a demo case, choose the
//! crop, sample, resample, explore the latent space (or, for the hierarchical model, its scales).
//!
//! Components read the signals and call the actions. The model work is `session`'s steps,
//! run from `jobs.rs` with the page as their host (a timer between pieces, so the page keeps
//! painting); every long action is a job, and a newer request (another file, another click)
//! cancels an older one.

use std::rc::Rc;
use std::sync::Arc;

use imaging::{Slice, Window};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::backend::BackendKind;
use crate::demo::{self, DemoCase, DemoEntry};
use crate::encode_workers::EncodeWorkers;
use crate::smoke_test::BackendReport;
use session::{Analysis, LatentMap, ScaleRows};
use session::{Encoding, Engine, Jobs};

mod current;
mod helpers;
mod jobs;
mod models;

pub use current::CurrentModel;
pub use models::ShippedModel;

/// Side of the model's input crop in pixels: both shipped models take 64² crops, and the page
/// refuses weights whose input contract asks for another side.
pub const CROP_SIDE: u32 = 64;

/// Where the model is.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelStatus {
    /// The backend is being chosen.
    Waiting,
    /// Downloading the weights.
    Loading {
        received: u64,
        total: Option<u64>,
    },
    /// `origin` says where the weights came from, for the status line; `since_start_ms` when
    /// the model became usable, in ms since the navigation started (what "page ready" means).
    Ready {
        parameters: usize,
        origin: String,
        /// What the model expects to see (its input contract's words).
        expects: String,
        since_start_ms: f64,
    },
    Failed(String),
}

/// The image on screen.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedImage {
    pub name: String,
    pub slice: Arc<Slice>,
    /// Set for built-in teaching cases: the true hypotheses.
    pub demo: Option<Arc<DemoCase>>,
}

/// Which mask is drawn on the slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    Mean,
    Sample(usize),
    Cell(usize),
    /// The hierarchical model's scale explorer: (scale, mask) in [`ScaleRows::rows`].
    ScaleSample(usize, usize),
}

/// What the uncertainty overlay shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverlayMode {
    /// Share of samples that call the pixel foreground.
    Frequency,
    /// Binary entropy of that share, in bits.
    Entropy,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overlay {
    pub visible: bool,
    pub mode: OverlayMode,
    pub opacity: f64,
}

/// Work in progress, for the status line.
#[derive(Debug, Clone, PartialEq)]
pub struct Busy {
    pub what: String,
    /// 0 … 1 when known.
    pub fraction: Option<f64>,
}

/// All the page's state. `Copy`: signals are handles.
#[derive(Clone, Copy)]
pub struct Workbench {
    pub backend: RwSignal<Option<BackendReport>>,
    pub model: RwSignal<ModelStatus>,
    /// Which shipped model is in use; `None`: weights the person loaded or fine-tuned.
    pub model_in_use: RwSignal<Option<ShippedModel>>,
    pub demos: RwSignal<Result<Vec<DemoEntry>, String>>,
    /// Every teaching case has been fetched (and so is available offline).
    pub demos_cached: RwSignal<bool>,
    pub image: RwSignal<Option<LoadedImage>>,
    /// A problem with the last file or action, in plain words.
    pub message: RwSignal<Option<String>>,
    pub display_window: RwSignal<Window>,
    pub crop_center: RwSignal<(f32, f32)>,
    pub sample_count: RwSignal<usize>,
    pub analysis: RwSignal<Option<Arc<Analysis>>>,
    pub latent_map: RwSignal<Option<Arc<LatentMap>>>,
    /// The hierarchical model's explorer (instead of the latent map).
    pub scale_rows: RwSignal<Option<Arc<ScaleRows>>>,
    /// The latent map's axes as the person chose them; `None`: the crop's most telling pair.
    pub map_dims: RwSignal<Option<(usize, usize)>>,
    pub selection: RwSignal<Selection>,
    pub overlay: RwSignal<Overlay>,
    pub busy: RwSignal<Option<Busy>>,
    engine: StoredValue<Option<Rc<Engine>>, LocalStorage>,
    /// The two workers that encode and decode off the page's thread (CPU backend).
    helpers: StoredValue<Option<Rc<EncodeWorkers>>, LocalStorage>,
    encoding: StoredValue<Option<Rc<Encoding>>, LocalStorage>,
    weights: StoredValue<Option<Arc<Vec<u8>>>>,
    /// The shipped models' bytes once downloaded, so switching back is instant.
    shipped: StoredValue<Vec<(ShippedModel, Arc<Vec<u8>>)>>,
    demo_cache: StoredValue<Vec<Arc<DemoCase>>>,
    /// The model work under way: a new job cancels the older ones.
    jobs: StoredValue<Jobs, LocalStorage>,
    seed: StoredValue<u64>,
}

impl Workbench {
    pub fn new() -> Self {
        Self {
            backend: RwSignal::new(None),
            model: RwSignal::new(ModelStatus::Waiting),
            model_in_use: RwSignal::new(None),
            demos: RwSignal::new(Ok(Vec::new())),
            demos_cached: RwSignal::new(false),
            image: RwSignal::new(None),
            message: RwSignal::new(None),
            display_window: RwSignal::new(Window {
                center: 0.5,
                width: 1.0,
            }),
            crop_center: RwSignal::new((0.0, 0.0)),
            sample_count: RwSignal::new(16),
            analysis: RwSignal::new(None),
            latent_map: RwSignal::new(None),
            scale_rows: RwSignal::new(None),
            map_dims: RwSignal::new(None),
            selection: RwSignal::new(Selection::Mean),
            overlay: RwSignal::new(Overlay {
                visible: true,
                mode: OverlayMode::Frequency,
                opacity: 0.7,
            }),
            busy: RwSignal::new(None),
            engine: StoredValue::new_local(None),
            helpers: StoredValue::new_local(None),
            encoding: StoredValue::new_local(None),
            weights: StoredValue::new(None),
            shipped: StoredValue::new(Vec::new()),
            demo_cache: StoredValue::new(Vec::new()),
            jobs: StoredValue::new_local(Jobs::new()),
            seed: StoredValue::new(1),
        }
    }

    /// Loads the weights onto the chosen backend, then the teaching cases' list, the other
    /// shipped model and the cases. In that order: the page is ready when the model is, and
    /// decoding cases meanwhile would slow its download; once the cases are in, everything is
    /// (offline too). On the CPU the two encode workers start once the page is ready, unless
    /// `workers` is false.
    pub fn start(self, report: BackendReport, workers: bool) {
        let cpu = report.active.kind == BackendKind::Cpu;
        self.backend.set(Some(report));
        spawn_local(async move {
            self.load_first_weights().await;
            if cpu && workers {
                spawn_local(self.start_helpers());
            }
            let index = demo::load_index().await;
            self.demos.set(index.clone());
            self.prefetch_models().await;
            self.prefetch_demos(index.unwrap_or_default()).await;
        });
    }

    /// Every teaching case of the list: they open at once, and the service worker keeps them
    /// for offline teaching.
    async fn prefetch_demos(self, index: Vec<DemoEntry>) {
        for entry in index {
            if let Ok(case) = demo::load_case(&entry).await {
                self.demo_cache
                    .update_value(|cache| cache.push(Arc::new(case)));
            }
        }
        self.demos_cached.set(true);
    }

    /// Decodes a dropped or picked file; a bad file leaves the current image in place.
    pub fn open_file(self, name: String, bytes: Vec<u8>) {
        match imaging::decode(&bytes, Some(&name)) {
            Ok(slice) => {
                let image = LoadedImage {
                    name,
                    slice: Arc::new(slice),
                    demo: None,
                };
                // Real images go to the model trained on real CT, unless the person's own
                // weights are in use.
                spawn_local(async move {
                    if self.model_in_use.get_untracked() == Some(ShippedModel::Synthetic) {
                        self.use_model(ShippedModel::Lidc).await;
                    }
                    self.show(image);
                });
            }
            Err(error) => {
                self.message
                    .set(Some(format!("{name} could not be opened: {error}.")));
            }
        }
    }

    /// Opens a built-in teaching case.
    pub fn open_demo(self, entry: DemoEntry) {
        spawn_local(async move {
            let cached = self
                .demo_cache
                .with_value(|cache| cache.iter().find(|c| c.name == entry.name).cloned());
            let loaded = match cached {
                Some(case) => Ok(case),
                None => demo::load_case(&entry).await.map(Arc::new),
            };
            let case = match loaded {
                Ok(case) => case,
                Err(error) => {
                    self.message.set(Some(format!(
                        "the demo case {} could not be loaded: {error}",
                        entry.name
                    )));
                    return;
                }
            };
            let model = case.source.model();
            if self
                .model_in_use
                .get_untracked()
                .is_some_and(|m| !m.same_data(model))
            {
                self.use_model(model).await;
            }
            self.show(LoadedImage {
                name: format!("teaching case: {} ({})", case.name, entry.kind_label()),
                slice: case.slice.clone(),
                demo: Some(case),
            });
        });
    }

    fn show(self, image: LoadedImage) {
        self.message.set(None);
        // The old samples and map belong to the old image.
        self.analysis.set(None);
        self.latent_map.set(None);
        self.scale_rows.set(None);
        self.encoding.set_value(None);
        let slice = &image.slice;
        self.display_window.set(slice.window);
        self.crop_center
            .set((slice.width as f32 / 2.0, slice.height as f32 / 2.0));
        self.image.set(Some(image));
        self.analyse();
    }

    /// Moves the crop the model looks at (image pixel coordinates) and re-runs the model.
    pub fn set_crop_center(self, x: f32, y: f32) {
        self.crop_center.set((x, y));
        self.analyse();
    }

    /// Draws new latents for the same crop (the U-Net is not re-run).
    pub fn resample(self) {
        self.seed.update_value(|seed| *seed += 1);
        self.sample_again();
    }

    /// Changes the number of samples, keeping the seed.
    pub fn set_sample_count(self, n: usize) {
        self.sample_count.set(n.clamp(4, 64));
        self.sample_again();
    }

    /// Shows the latent map over two other dimensions.
    pub fn set_map_dims(self, x_dim: usize, y_dim: usize) {
        self.map_dims.set(Some((x_dim, y_dim)));
        if self.encoding.with_value(Option::is_none) {
            // Mid-analysis: start it again so the map it ends with uses the new dimensions.
            self.analyse();
            return;
        }
        self.redraw_latent_map();
    }
}

impl Default for Workbench {
    fn default() -> Self {
        Self::new()
    }
}

//! Which model the page runs: the shipped ones (real CT from LIDC-IDRI, with the probabilistic
//! U-Net or the hierarchical one, and the synthetic ambiguity benchmark's), or weights the
//! person loaded or fine-tuned; downloading, switching and installing them.
//!
//! Each weights file carries its input contract, and the page prepares every crop through the
//! contract of the model in use: switching models changes how the same click is cropped and
//! normalised, never only the weights.

use std::rc::Rc;
use std::sync::Arc;

use imaging::{InputContract, Intensity};
use leptos::prelude::*;
use leptos::task::spawn_local;
use probunet::weights::ModelKind;

use super::{CROP_SIDE, ModelStatus, Workbench};
use crate::browser::{fetch_bytes, now_ms, take_prefetched};
use session::Engine;

/// The global through which `public/loader.js` hands over its early download of the first
/// model's weights (Trunk.toml's `data-weights` names [`ShippedModel::Lidc`]'s file).
const PREFETCHED_WEIGHTS: &str = "probsegWeights";

/// The models the page ships (written by `probunet export`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShippedModel {
    /// Trained on real chest CT: LIDC-IDRI nodule crops with four radiologists' outlines.
    Lidc,
    /// The hierarchical probabilistic U-Net (Kohl et al. 2019) on the same LIDC data.
    LidcHierarchical,
    /// Trained on the synthetic ambiguity benchmark, whose true distributions are known.
    Synthetic,
}

impl ShippedModel {
    pub const ALL: [ShippedModel; 3] = [
        ShippedModel::Lidc,
        ShippedModel::LidcHierarchical,
        ShippedModel::Synthetic,
    ];

    /// The weights file, relative to the page.
    pub fn path(self) -> &'static str {
        match self {
            ShippedModel::Lidc => "public/model/probunet-lidc.bpk",
            ShippedModel::LidcHierarchical => "public/model/hpunet-lidc.bpk",
            ShippedModel::Synthetic => "public/model/probunet-small.bpk",
        }
    }

    /// A stable identifier for the menu and tests.
    pub fn id(self) -> &'static str {
        match self {
            ShippedModel::Lidc => "lidc",
            ShippedModel::LidcHierarchical => "lidc-hierarchical",
            ShippedModel::Synthetic => "synthetic",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.id() == id)
    }

    /// Its name in the menu.
    pub fn label(self) -> &'static str {
        match self {
            ShippedModel::Lidc => "Lung nodules, real CT (LIDC-IDRI)",
            ShippedModel::LidcHierarchical => "Lung nodules, real CT, hierarchical model",
            ShippedModel::Synthetic => "Synthetic ambiguity benchmark",
        }
    }

    /// The shipped model of `kind` whose data a contract describes (what "reset" goes back to).
    pub fn for_contract(contract: &InputContract, kind: ModelKind) -> Self {
        match (contract.intensity, kind) {
            (Intensity::CropMinMax, ModelKind::Hierarchical) => ShippedModel::LidcHierarchical,
            (Intensity::CropMinMax, ModelKind::Probabilistic) => ShippedModel::Lidc,
            (Intensity::CtWindow { .. }, _) => ShippedModel::Synthetic,
        }
    }

    /// Whether both models were trained on the same kind of image (a teaching case of one's
    /// data needs no switch from the other).
    pub fn same_data(self, other: ShippedModel) -> bool {
        let real = |m| m != ShippedModel::Synthetic;
        real(self) == real(other)
    }

    /// Downloaded in the background after the first model, for instant switching and offline
    /// use. The hierarchical model (twice the others' size) loads when it is chosen.
    fn prefetched(self) -> bool {
        self != ShippedModel::LidcHierarchical
    }
}

impl Workbench {
    /// Weights the person kept in this browser come first; otherwise the LIDC model.
    pub(super) async fn load_first_weights(self) {
        if let Ok(Some(bytes)) = crate::storage::kept_weights().await {
            let origin = "your fine-tuned weights, kept in this browser".to_string();
            if self.install_weights(bytes, origin).is_ok() {
                return;
            }
        }
        self.use_model(ShippedModel::Lidc).await;
    }

    /// Back to the shipped model the weights in use started from.
    pub fn load_shipped(self) {
        let model = self.engine().map_or(ShippedModel::Lidc, |e| {
            ShippedModel::for_contract(&e.contract(), e.kind())
        });
        self.choose_model(model);
    }

    /// Switches to a shipped model (the menu's action).
    pub fn choose_model(self, model: ShippedModel) {
        spawn_local(async move {
            self.use_model(model).await;
            if self.image.get_untracked().is_some() {
                self.analyse();
            }
        });
    }

    /// Makes `model` the model in use, downloading it (with progress) the first time. Does not
    /// re-run the model: the caller decides what to show next.
    pub(super) async fn use_model(self, model: ShippedModel) {
        let cached = self.shipped.with_value(|all| {
            all.iter()
                .find(|(m, _)| *m == model)
                .map(|(_, b)| b.clone())
        });
        let bytes = match cached {
            Some(bytes) => Ok(bytes.to_vec()),
            // Kept once: switching back reuses these bytes instead of adding another copy.
            None => self.download(model).await.inspect(|bytes| {
                self.shipped
                    .update_value(|all| all.push((model, Arc::new(bytes.clone()))));
            }),
        };
        let installed = bytes.and_then(|bytes| {
            let origin = format!("shipped weights, {:.1} MB", bytes.len() as f64 / 1e6);
            self.install(bytes, origin, Some(model))
        });
        if let Err(error) = installed {
            self.model.set(ModelStatus::Failed(error));
        }
    }

    /// Downloads the shipped models not yet here (so switching is instant, and the service
    /// worker keeps them for offline use) without changing the model in use.
    pub(super) async fn prefetch_models(self) {
        for model in ShippedModel::ALL.into_iter().filter(|m| m.prefetched()) {
            let have = self
                .shipped
                .with_value(|all| all.iter().any(|(m, _)| *m == model));
            if !have && let Ok(bytes) = fetch_bytes(model.path(), |_, _| {}).await {
                self.shipped
                    .update_value(|all| all.push((model, Arc::new(bytes))));
            }
        }
    }

    async fn download(self, model: ShippedModel) -> Result<Vec<u8>, String> {
        self.model.set(ModelStatus::Loading {
            received: 0,
            total: None,
        });
        // The loader starts the first model's download beside the wasm's.
        if model == ShippedModel::Lidc
            && let Some(Ok(bytes)) = take_prefetched(PREFETCHED_WEIGHTS).await
        {
            return Ok(bytes);
        }
        fetch_bytes(model.path(), |received, total| {
            self.model.set(ModelStatus::Loading { received, total });
        })
        .await
    }

    /// The loaded model, if any.
    pub fn engine(self) -> Option<Rc<Engine>> {
        self.engine.get_value()
    }

    /// The weights in use, as burnpack bytes (what fine-tuning starts from and "Save" writes).
    pub fn weights(self) -> Option<Arc<Vec<u8>>> {
        self.weights.get_value()
    }

    /// Makes the person's `bytes` (fine-tuned or loaded from a file) the model in use and
    /// re-runs the model on the current crop. `origin` is shown in the status.
    pub fn install_weights(self, bytes: Vec<u8>, origin: String) -> Result<(), String> {
        self.install(bytes, origin, None)?;
        if self.image.get_untracked().is_some() {
            self.analyse();
        }
        Ok(())
    }

    fn install(
        self,
        bytes: Vec<u8>,
        origin: String,
        shipped: Option<ShippedModel>,
    ) -> Result<(), String> {
        let active = self
            .backend
            .get_untracked()
            .map(|report| report.active)
            .ok_or("the backend is not ready yet")?;
        let engine = Engine::load(&bytes, active.device).map_err(|error| error.to_string())?;
        let contract = engine.contract();
        if contract.model_side != CROP_SIDE {
            return Err(format!(
                "these weights take {0}×{0} crops; the page works on {CROP_SIDE}×{CROP_SIDE}",
                contract.model_side
            ));
        }
        let parameters = engine.num_params();
        // Other weights use their latent dimensions differently: back to their telling pair.
        self.map_dims.set(None);
        // The other model's explorer does not describe this one's samples.
        self.latent_map.set(None);
        self.scale_rows.set(None);
        self.engine.set_value(Some(Rc::new(engine)));
        self.weights.set_value(Some(Arc::new(bytes)));
        self.model_in_use.set(shipped);
        self.model.set(ModelStatus::Ready {
            parameters,
            origin,
            expects: contract.expects,
            since_start_ms: now_ms(),
        });
        self.share_model();
        Ok(())
    }
}

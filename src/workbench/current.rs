//! The model in use, as fine-tuning sees it: its weights, engine and status, and the actions
//! that replace it. A narrow handle, so the tuning panel and its controller depend on these
//! few operations rather than on every signal of the workbench.

use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;
use session::Engine;

use super::{ModelStatus, Workbench};
use crate::backend::BackendKind;

/// `Copy`: a handle, like the signals it reaches.
#[derive(Clone, Copy)]
pub struct CurrentModel {
    wb: Workbench,
}

impl CurrentModel {
    pub(super) fn new(wb: Workbench) -> Self {
        Self { wb }
    }

    /// Where the model is (loading, ready, failed).
    pub fn status(self) -> Signal<ModelStatus> {
        self.wb.model.into()
    }

    /// The loaded model, if any.
    pub fn engine(self) -> Option<Rc<Engine>> {
        self.wb.engine()
    }

    /// Its weights as burnpack bytes (what fine-tuning starts from and "Save" writes).
    pub fn weights(self) -> Option<Arc<Vec<u8>>> {
        self.wb.weights()
    }

    /// The backend the page samples with (fine-tuning trains on the same).
    pub fn backend(self) -> BackendKind {
        self.wb
            .backend
            .get_untracked()
            .map_or(BackendKind::Cpu, |report| report.active.kind)
    }

    /// Makes `bytes` the model in use and re-runs it on the current crop; `origin` is shown in
    /// the status line.
    pub fn install(self, bytes: Vec<u8>, origin: String) -> Result<(), String> {
        self.wb.install_weights(bytes, origin)
    }

    /// Back to the shipped model the weights in use started from.
    pub fn reset(self) {
        self.wb.load_shipped();
    }

    /// Tells the person about a problem, in the page's message banner.
    pub fn tell(self, problem: String) {
        self.wb.message.set(Some(problem));
    }
}

impl Workbench {
    /// The model in use, for fine-tuning.
    pub fn current_model(self) -> CurrentModel {
        CurrentModel::new(self)
    }
}

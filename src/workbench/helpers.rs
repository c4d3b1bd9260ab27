//! The workbench's side of the two encode workers: starting them once the page is ready, and
//! keeping them on the model in use.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use probunet::weights::ModelKind;

use super::Workbench;
use crate::encode_workers::EncodeWorkers;

impl Workbench {
    /// Starts the workers and gives them the model in use. If they cannot start, the page
    /// keeps computing on its own thread and says why in the console.
    pub(super) async fn start_helpers(self) {
        match EncodeWorkers::start().await {
            Ok(helpers) => {
                self.helpers.set_value(Some(Rc::new(helpers)));
                self.share_model();
            }
            Err(why) => web_sys::console::warn_1(
                &format!("{why}; the page runs the model on its own thread").into(),
            ),
        }
    }

    /// Hands the workers the model in use, or stands them down for a model they do not run
    /// (the hierarchical one). Takes effect at once: no encode starts on the old model.
    pub(super) fn share_model(self) {
        let Some(helpers) = self.helpers.get_value() else {
            return;
        };
        let probabilistic = self
            .engine
            .with_value(|e| e.as_ref().map(|e| e.kind()) == Some(ModelKind::Probabilistic));
        match self.weights.get_value() {
            Some(weights) if probabilistic => spawn_local(helpers.load(weights)),
            _ => helpers.set_idle(),
        }
    }

    /// The workers, if running.
    pub(super) fn helpers(self) -> Option<Rc<EncodeWorkers>> {
        self.helpers.get_value()
    }
}

//! The workbench's actions that run the model: each starts a job (cancelling older ones),
//! runs `session`'s steps with the page as their [`Host`], and puts each result into its
//! signal as soon as it exists (samples before the latent map), so the page fills in.

use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;

use imaging::Prepared;
use leptos::prelude::*;
use leptos::task::spawn_local;
use metrics::Mask;
use session::{Elsewhere, Encoding, Engine, Host, Job, StepError, Steps};

use super::{Busy, LoadedImage, Selection, Workbench};
use crate::browser::{now_ms, yield_now};
use crate::encode_workers::EncodeWorkers;

/// The page as the steps' host: timers let it paint between pieces of work, progress goes to
/// the status line, and the encode workers (when running) take the model's work.
struct PageHost {
    busy: RwSignal<Option<Busy>>,
    helpers: Option<Rc<EncodeWorkers>>,
}

impl Host for PageHost {
    fn pause(&self) -> impl Future<Output = ()> {
        yield_now()
    }

    fn progress(&self, what: &str, fraction: Option<f64>) {
        self.busy.set(Some(Busy {
            what: what.to_string(),
            fraction,
        }));
    }

    fn now_ms(&self) -> f64 {
        now_ms()
    }

    async fn encode_elsewhere(&self, crop: &Prepared) -> Option<Elsewhere> {
        let (width, height) = (crop.width as usize, crop.height as usize);
        self.helpers
            .as_ref()?
            .encode(&crop.data, width, height)
            .await
    }

    async fn decode_elsewhere(&self, ticket: u64, zs: &[Vec<f32>]) -> Option<Vec<Mask>> {
        self.helpers.as_ref()?.decode(ticket, zs).await
    }
}

/// What one job step hands back to [`Workbench::conclude`].
type Outcome = Result<(), StepError>;

impl Workbench {
    fn host(self) -> PageHost {
        PageHost {
            busy: self.busy,
            helpers: self.helpers(),
        }
    }

    /// Starts a job (cancelling every older one) that runs `work` on `engine`'s steps, then
    /// concludes it.
    fn spawn_job(
        self,
        engine: Rc<Engine>,
        work: impl AsyncFnOnce(&Steps<'_, PageHost>) -> Outcome + 'static,
    ) {
        let job = self.jobs.with_value(|jobs| jobs.start());
        spawn_local(async move {
            let host = self.host();
            let steps = Steps {
                engine: &engine,
                host: &host,
                job: &job,
            };
            let outcome = work(&steps).await;
            self.conclude(&job, outcome);
        });
    }

    /// Encodes the current crop, samples, and builds the explorer.
    pub(super) fn analyse(self) {
        let Some(engine) = self.engine.get_value() else {
            return;
        };
        let Some(image) = self.image.get_untracked() else {
            return;
        };
        // Until this job has encoded the new crop, nothing may sample the old encoding.
        self.encoding.set_value(None);
        self.spawn_job(engine, async move |steps| {
            self.encode_and_sample(steps, &image).await
        });
    }

    async fn encode_and_sample(self, steps: &Steps<'_, PageHost>, image: &LoadedImage) -> Outcome {
        let encoded = steps
            .encode(&image.slice, self.crop_center.get_untracked())
            .await?;
        let encoding = Rc::new(encoded.encoding);
        self.encoding.set_value(Some(encoding.clone()));
        self.sample(steps, &encoding, encoded.crop, encoded.encode_ms)
            .await?;
        self.build_explorer(steps, &encoding).await
    }

    pub(super) fn sample_again(self) {
        let Some(engine) = self.engine.get_value() else {
            return;
        };
        let Some(encoding) = self.encoding.get_value() else {
            // An encoding is on its way (or failed): run the whole analysis with the new settings.
            self.analyse();
            return;
        };
        let Some(previous) = self.analysis.get_untracked() else {
            return;
        };
        self.spawn_job(engine, async move |steps| {
            self.sample(steps, &encoding, previous.crop.clone(), 0.0)
                .await?;
            // The scale rows are drawn from the seed too (the latent map is not: it is a grid).
            if steps.engine.latent_scales() > 0 {
                self.build_scale_rows(steps, &encoding).await?;
            }
            Ok(())
        });
    }

    /// Draws the chosen number of samples with the current seed and shows them.
    async fn sample(
        self,
        steps: &Steps<'_, PageHost>,
        encoding: &Encoding,
        crop: imaging::Prepared,
        encode_ms: f64,
    ) -> Outcome {
        let n = self.sample_count.get_untracked();
        let seed = self.seed.get_value();
        let analysis = steps.sample(encoding, crop, n, seed, encode_ms).await?;
        self.analysis.set(Some(Arc::new(analysis)));
        self.selection.set(Selection::Mean);
        Ok(())
    }

    /// What the model in use offers to explore: the latent map, or the hierarchical model's
    /// scale rows.
    async fn build_explorer(self, steps: &Steps<'_, PageHost>, encoding: &Encoding) -> Outcome {
        if steps.engine.latent_scales() > 0 {
            self.build_scale_rows(steps, encoding).await
        } else {
            self.build_latent_map(steps, encoding).await
        }
    }

    async fn build_scale_rows(self, steps: &Steps<'_, PageHost>, encoding: &Encoding) -> Outcome {
        let rows = steps.scale_rows(encoding, self.seed.get_value()).await?;
        self.scale_rows.set(Some(Arc::new(rows)));
        if matches!(self.selection.get_untracked(), Selection::ScaleSample(..)) {
            self.selection.set(Selection::Mean);
        }
        Ok(())
    }

    async fn build_latent_map(self, steps: &Steps<'_, PageHost>, encoding: &Encoding) -> Outcome {
        let axes = self.map_dims.get_untracked();
        if let Some(map) = steps.latent_map(encoding, axes).await? {
            self.latent_map.set(Some(Arc::new(map)));
            if matches!(self.selection.get_untracked(), Selection::Cell(_)) {
                self.selection.set(Selection::Mean);
            }
        }
        Ok(())
    }

    /// Redraws the latent map over the dimensions the person chose, for the current encoding.
    pub(super) fn redraw_latent_map(self) {
        let (Some(engine), Some(encoding)) = (self.engine.get_value(), self.encoding.get_value())
        else {
            return;
        };
        self.spawn_job(engine, async move |steps| {
            self.build_latent_map(steps, &encoding).await
        });
    }

    /// Ends a job: clears the progress, or shows its error; a cancelled job leaves the page
    /// to the job that replaced it.
    fn conclude(self, job: &Job, outcome: Outcome) {
        if !job.is_current() {
            return;
        }
        match outcome {
            Ok(()) => self.busy.set(None),
            Err(StepError::Cancelled) => {}
            Err(error) => {
                self.message.set(Some(error.to_string()));
                self.busy.set(None);
            }
        }
    }
}

//! The model work behind the workbench's actions: encode the crop, sample in chunks, decode
//! the latent map (or the hierarchical model's rows of one-scale samples). Each step yields to the browser and checks its job number, so the page
//! stays responsive and a newer request cancels an older one.

use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use metrics::UncertaintyMap;
use probunet::SeededRng;

use super::{LoadedImage, Selection, Step, Workbench};
use crate::analysis::{Analysis, LatentMap, ScaleRows};
use crate::browser::{now_ms, yield_now};
use crate::engine::{Encoding, Engine};

/// Latents decoded per fcomb call before yielding to the browser.
pub(crate) const DECODE_CHUNK: usize = 8;

/// Cells per side of the latent map, and its half-width in σ (one cell per σ).
const MAP_CELLS: usize = 7;
const MAP_EXTENT: f32 = 3.0;

/// Masks per row of the hierarchical model's scale explorer.
const SCALE_ROW_SAMPLES: usize = 6;

impl Workbench {
    /// Encodes the current crop, samples, and builds the latent map.
    pub(super) fn analyse(self) {
        let Some(engine) = self.engine.get_value() else {
            return;
        };
        let Some(image) = self.image.get_untracked() else {
            return;
        };
        let job = self.next_job();
        // Until this job has encoded the new crop, nothing may sample the old encoding.
        self.encoding.set_value(None);
        spawn_local(async move {
            let outcome = self.encode_and_sample(job, &engine, &image).await;
            self.conclude(job, outcome);
        });
    }

    async fn encode_and_sample(self, job: u64, engine: &Engine, image: &LoadedImage) -> Step {
        self.progress("Encoding the crop…", None);
        yield_now().await;
        self.check(job)?;
        // The model's own recipe: crop, intensity normalisation, side (its input contract).
        let crop = match engine
            .contract()
            .prepare(&image.slice, self.crop_center.get_untracked())
        {
            Ok(crop) => crop,
            Err(error) => return Ok(Err(format!("the crop could not be prepared: {error}"))),
        };
        let started = now_ms();
        let encoding = match engine.encode(&crop).await {
            Ok(encoding) => Rc::new(encoding),
            Err(error) => return Ok(Err(format!("the model failed: {error}"))),
        };
        let encode_ms = now_ms() - started;
        self.check(job)?;
        self.encoding.set_value(Some(encoding.clone()));
        let result = self.sample(job, engine, &encoding, crop, encode_ms).await?;
        if result.is_ok() {
            return self.build_explorer(job).await;
        }
        Ok(result)
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
        let job = self.next_job();
        spawn_local(async move {
            let mut outcome = self
                .sample(job, &engine, &encoding, previous.crop.clone(), 0.0)
                .await;
            // The scale rows are drawn from the seed too (the latent map is not: it is a grid).
            if matches!(outcome, Ok(Ok(()))) && engine.latent_scales() > 0 {
                outcome = self.build_scale_rows(job).await;
            }
            self.conclude(job, outcome);
        });
    }

    /// Draws `sample_count` samples in chunks of [`DECODE_CHUNK`] (fixed, so a seed always gives
    /// the same samples), yielding between chunks.
    async fn sample(
        self,
        job: u64,
        engine: &Engine,
        encoding: &Encoding,
        crop: imaging::Prepared,
        encode_ms: f64,
    ) -> Step {
        let n = self.sample_count.get_untracked();
        let seed = self.seed.get_value();
        let mut rng = SeededRng::new(seed);
        let started = now_ms();
        let mut samples = Vec::with_capacity(n);
        while samples.len() < n {
            self.progress(
                &format!("Sampling: {} of {n} masks", samples.len()),
                Some(samples.len() as f64 / n as f64),
            );
            yield_now().await;
            self.check(job)?;
            let chunk = DECODE_CHUNK.min(n - samples.len());
            match engine.sample(encoding, chunk, &mut rng).await {
                Ok(drawn) => samples.extend(drawn),
                Err(error) => return Ok(Err(error)),
            }
        }
        let mean = match engine.mean(encoding).await {
            Ok(mask) => mask,
            Err(error) => return Ok(Err(error)),
        };
        let sample_ms = now_ms() - started;
        self.check(job)?;
        let masks: Vec<_> = samples.iter().map(|s| s.mask.clone()).collect();
        let uncertainty = match UncertaintyMap::from_masks(&masks) {
            Ok(map) => map,
            Err(error) => return Ok(Err(error.to_string())),
        };
        self.analysis.set(Some(Arc::new(Analysis {
            crop,
            prior: encoding.prior().cloned(),
            samples,
            mean,
            uncertainty,
            seed,
            encode_ms,
            sample_ms,
        })));
        self.selection.set(Selection::Mean);
        Ok(Ok(()))
    }

    /// What the model in use offers to explore: the latent map, or the hierarchical model's
    /// scale rows.
    async fn build_explorer(self, job: u64) -> Step {
        match self.engine.get_value() {
            Some(engine) if engine.latent_scales() > 0 => self.build_scale_rows(job).await,
            _ => self.build_latent_map(job).await,
        }
    }

    /// For each latent scale of the hierarchical model, [`SCALE_ROW_SAMPLES`] masks with only
    /// that scale drawn (seeded like the samples).
    async fn build_scale_rows(self, job: u64) -> Step {
        let (Some(engine), Some(encoding)) = (self.engine.get_value(), self.encoding.get_value())
        else {
            return Ok(Ok(()));
        };
        let started = now_ms();
        let scales = engine.latent_scales();
        let mut rows = Vec::with_capacity(scales);
        for scale in 0..scales {
            self.progress(
                &format!("Sampling one scale at a time: {} of {scales}", scale + 1),
                Some(scale as f64 / scales as f64),
            );
            yield_now().await;
            self.check(job)?;
            let mut rng = SeededRng::new(self.seed.get_value());
            match engine
                .vary_scale(&encoding, scale, SCALE_ROW_SAMPLES, &mut rng)
                .await
            {
                Ok(masks) => rows.push(masks),
                Err(error) => return Ok(Err(error)),
            }
        }
        let side = crate::workbench::CROP_SIDE as usize;
        let coarsest = side / engine.size_divisor();
        self.scale_rows.set(Some(Arc::new(ScaleRows {
            rows,
            latent_sides: (0..scales).map(|l| coarsest << l).collect(),
            decode_ms: now_ms() - started,
        })));
        if matches!(self.selection.get_untracked(), Selection::ScaleSample(..)) {
            self.selection.set(Selection::Mean);
        }
        Ok(Ok(()))
    }

    /// Decodes the latent map for the current encoding and dimensions.
    pub(super) async fn build_latent_map(self, job: u64) -> Step {
        let (Some(engine), Some(encoding)) = (self.engine.get_value(), self.encoding.get_value())
        else {
            return Ok(Ok(()));
        };
        self.progress("Decoding the latent map…", None);
        yield_now().await;
        self.check(job)?;
        let (x_dim, y_dim) = match self.map_dims.get_untracked() {
            Some(dims) => dims,
            None => match engine.telling_dims(&encoding, MAP_EXTENT).await {
                Ok(dims) => dims,
                Err(error) => return Ok(Err(error)),
            },
        };
        self.check(job)?;
        let Some(prior) = encoding.prior() else {
            return Ok(Ok(()));
        };
        let Some(grid) = prior.grid(x_dim, y_dim, MAP_EXTENT, MAP_CELLS) else {
            return Ok(Err(format!(
                "latent dimensions {x_dim} and {y_dim} cannot span a map"
            )));
        };
        let started = now_ms();
        let mut masks = Vec::with_capacity(grid.len());
        for chunk in grid.chunks(MAP_CELLS) {
            let zs: Vec<Vec<f32>> = chunk.iter().map(|cell| cell.z.clone()).collect();
            match engine.decode(&encoding, &zs).await {
                Ok(decoded) => masks.extend(decoded),
                Err(error) => return Ok(Err(error)),
            }
            yield_now().await;
            self.check(job)?;
        }
        self.latent_map.set(Some(Arc::new(LatentMap {
            x_dim,
            y_dim,
            extent: MAP_EXTENT,
            cells: MAP_CELLS,
            grid,
            masks,
            decode_ms: now_ms() - started,
        })));
        if matches!(self.selection.get_untracked(), Selection::Cell(_)) {
            self.selection.set(Selection::Mean);
        }
        Ok(Ok(()))
    }
}

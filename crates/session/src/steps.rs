//! The steps of the page's model work — encode a crop, draw samples, decode the latent map or
//! the hierarchical model's scale rows — as plain async Rust.
//!
//! Each step does its work in pieces and, between them, lets the host run
//! ([`Host::pause`]: in the page, a zero-delay timer, so it keeps painting and handling
//! clicks) and checks its [`Job`]: a newer job cancels it there. The front end only decides
//! what to show of each step's result.

use std::future::Future;

use imaging::{ImagingError, Prepared, Slice};
use metrics::{Mask, MetricsError, UncertaintyMap};
use probunet::weights::ModelKind;
use probunet::{SeededRng, most_telling_dims};
use thiserror::Error;

use crate::analysis::{Analysis, LatentMap, Sample, ScaleRows};
use crate::elsewhere::Elsewhere;
use crate::engine::{Encoding, Engine, EngineError};
use crate::jobs::{Cancelled, Job};

/// Latents decoded per fcomb call before the host runs again. Fixed, so a seed always gives
/// the same samples however many are asked for.
pub const DECODE_CHUNK: usize = 8;

/// Cells per side of the latent map, and its half-width in σ (one cell per σ).
pub const MAP_CELLS: usize = 7;
pub const MAP_EXTENT: f32 = 3.0;

/// Masks per row of the hierarchical model's scale explorer.
pub const SCALE_ROW_SAMPLES: usize = 6;

/// What the steps need from the front end that runs them.
pub trait Host {
    /// Lets the host run before the next piece of work.
    fn pause(&self) -> impl Future<Output = ()>;
    /// The work under way, in words for the person, with the share done when known.
    fn progress(&self, what: &str, fraction: Option<f64>);
    /// A clock in milliseconds, for the timings shown beside the results.
    fn now_ms(&self) -> f64;

    /// Encodes `crop` for the probabilistic U-Net somewhere other than the engine's thread,
    /// with the same weights (the page: the U-Net on one worker, the prior net on another).
    /// `None`: not here or not now (the engine encodes it; a host that fails says so itself).
    fn encode_elsewhere(&self, crop: &Prepared) -> impl Future<Output = Option<Elsewhere>> {
        let _ = crop;
        std::future::ready(None)
    }

    /// Masks for latents `zs` of the encoding held elsewhere as `ticket`, in order. `None`:
    /// it is not held there any more (the engine decodes them).
    fn decode_elsewhere(
        &self,
        ticket: u64,
        zs: &[Vec<f32>],
    ) -> impl Future<Output = Option<Vec<Mask>>> {
        let _ = (ticket, zs);
        std::future::ready(None)
    }
}

/// Why a step stopped without a result.
#[derive(Debug, Error)]
pub enum StepError {
    /// A newer job took over: not a failure, nothing to show.
    #[error("a newer request replaced this one")]
    Cancelled,
    #[error("the crop could not be prepared: {0}")]
    Crop(#[from] ImagingError),
    #[error(transparent)]
    Model(#[from] EngineError),
    #[error("the samples could not be summarised: {0}")]
    Summary(#[from] MetricsError),
    #[error("latent dimensions {x} and {y} cannot span a map")]
    MapAxes { x: usize, y: usize },
}

impl From<Cancelled> for StepError {
    fn from(_: Cancelled) -> Self {
        StepError::Cancelled
    }
}

/// One job's view of the model: every step checks `job` between its pieces.
pub struct Steps<'a, H: Host> {
    pub engine: &'a Engine,
    pub host: &'a H,
    pub job: &'a Job,
}

/// An encoded crop and how long the encoder took.
pub struct Encoded {
    pub crop: Prepared,
    pub encoding: Encoding,
    pub encode_ms: f64,
}

impl<H: Host> Steps<'_, H> {
    /// Lets the host run, then stops if a newer job has started.
    async fn pause(&self) -> Result<(), Cancelled> {
        self.host.pause().await;
        self.job.check()
    }

    /// Masks of the probabilistic U-Net for latents `zs`: where the encoding was made, if the
    /// host still holds it there, else on the engine.
    async fn decode(&self, encoding: &Encoding, zs: &[Vec<f32>]) -> Result<Vec<Mask>, StepError> {
        if let Some(ticket) = encoding.ticket()
            && let Some(masks) = self.host.decode_elsewhere(ticket, zs).await
            && masks.len() == zs.len()
        {
            return Ok(masks);
        }
        Ok(self.engine.decode(encoding, zs).await?)
    }

    /// `n` samples from the model's prior, noise drawn from `rng` as [`Engine::sample`] draws it.
    async fn draw(
        &self,
        encoding: &Encoding,
        n: usize,
        rng: &mut SeededRng,
    ) -> Result<Vec<Sample>, StepError> {
        let Some(prior) = encoding.prior() else {
            return Ok(self.engine.sample(encoding, n, rng).await?);
        };
        let zs = prior.draw(n, rng);
        let masks = self.decode(encoding, &zs).await?;
        Ok(Sample::from_latents(zs, masks))
    }

    /// Prepares the crop around `center` by the model's input contract and encodes it.
    pub async fn encode(&self, slice: &Slice, center: (f32, f32)) -> Result<Encoded, StepError> {
        self.host.progress("Encoding the crop…", None);
        self.pause().await?;
        let crop = self.engine.contract().prepare(slice, center)?;
        let started = self.host.now_ms();
        let made = match self.engine.kind() {
            ModelKind::Probabilistic => self.host.encode_elsewhere(&crop).await,
            ModelKind::Hierarchical => None,
        };
        // What comes from elsewhere is checked against the model; if it does not fit, the
        // engine encodes here: the person gets a result either way.
        let encoding = match made.map(|made| self.engine.encoding_from(made)) {
            Some(Ok(encoding)) => encoding,
            _ => self.engine.encode(&crop).await?,
        };
        let encode_ms = self.host.now_ms() - started;
        self.job.check()?;
        Ok(Encoded {
            crop,
            encoding,
            encode_ms,
        })
    }

    /// Draws `n` samples (seeded by `seed`) in chunks of [`DECODE_CHUNK`], and the mean mask.
    pub async fn sample(
        &self,
        encoding: &Encoding,
        crop: Prepared,
        n: usize,
        seed: u64,
        encode_ms: f64,
    ) -> Result<Analysis, StepError> {
        let mut rng = SeededRng::new(seed);
        let started = self.host.now_ms();
        let mut samples = Vec::with_capacity(n);
        while samples.len() < n {
            self.host.progress(
                &format!("Sampling: {} of {n} masks", samples.len()),
                Some(samples.len() as f64 / n as f64),
            );
            self.pause().await?;
            let chunk = DECODE_CHUNK.min(n - samples.len());
            samples.extend(self.draw(encoding, chunk, &mut rng).await?);
        }
        let mean = match encoding.prior() {
            Some(prior) => self
                .decode(encoding, std::slice::from_ref(&prior.mu))
                .await?
                .pop()
                .ok_or(EngineError::NothingDecoded)?,
            None => self.engine.mean(encoding).await?,
        };
        let sample_ms = self.host.now_ms() - started;
        self.job.check()?;
        let masks: Vec<_> = samples.iter().map(|s| s.mask.clone()).collect();
        Ok(Analysis {
            crop,
            prior: encoding.prior().cloned(),
            uncertainty: UncertaintyMap::from_masks(&masks)?,
            samples,
            mean,
            seed,
            encode_ms,
            encoded_elsewhere: encoding.ticket().is_some(),
            sample_ms,
        })
    }

    /// For each latent scale of the hierarchical model, [`SCALE_ROW_SAMPLES`] masks with only
    /// that scale drawn (seeded like the samples).
    pub async fn scale_rows(&self, encoding: &Encoding, seed: u64) -> Result<ScaleRows, StepError> {
        let started = self.host.now_ms();
        let scales = self.engine.latent_scales();
        let mut rows = Vec::with_capacity(scales);
        for scale in 0..scales {
            self.host.progress(
                &format!("Sampling one scale at a time: {} of {scales}", scale + 1),
                Some(scale as f64 / scales as f64),
            );
            self.pause().await?;
            let mut rng = SeededRng::new(seed);
            let masks = self
                .engine
                .vary_scale(encoding, scale, SCALE_ROW_SAMPLES, &mut rng)
                .await?;
            rows.push(masks);
        }
        let side = self.engine.contract().model_side as usize;
        let coarsest = side / self.engine.size_divisor();
        Ok(ScaleRows {
            rows,
            latent_sides: (0..scales).map(|l| coarsest << l).collect(),
            decode_ms: self.host.now_ms() - started,
        })
    }

    /// The latent map over `axes` (`None`: the crop's most telling pair), decoded a row at a
    /// time. `None` for a model without a single latent space.
    pub async fn latent_map(
        &self,
        encoding: &Encoding,
        axes: Option<(usize, usize)>,
    ) -> Result<Option<LatentMap>, StepError> {
        self.host.progress("Decoding the latent map…", None);
        self.pause().await?;
        let Some(prior) = encoding.prior() else {
            return Ok(None);
        };
        let (x_dim, y_dim) = match axes {
            Some(axes) => axes,
            None => {
                // The two dimensions along which the mask changes most within ±MAP_EXTENT σ:
                // one decode of the prior mean and both ends of every dimension.
                let mut zs = vec![prior.mu.clone()];
                zs.extend(prior.sweep(MAP_EXTENT));
                let masks = self.decode(encoding, &zs).await?;
                let (mean, swept) = masks.split_first().ok_or(EngineError::NothingDecoded)?;
                most_telling_dims(swept, mean)
            }
        };
        self.job.check()?;
        let grid = prior
            .grid(x_dim, y_dim, MAP_EXTENT, MAP_CELLS)
            .ok_or(StepError::MapAxes { x: x_dim, y: y_dim })?;
        let started = self.host.now_ms();
        let mut masks = Vec::with_capacity(grid.len());
        for row in grid.chunks(MAP_CELLS) {
            let zs: Vec<Vec<f32>> = row.iter().map(|cell| cell.z.clone()).collect();
            masks.extend(self.decode(encoding, &zs).await?);
            self.pause().await?;
        }
        Ok(Some(LatentMap {
            x_dim,
            y_dim,
            extent: MAP_EXTENT,
            cells: MAP_CELLS,
            grid,
            masks,
            decode_ms: self.host.now_ms() - started,
        }))
    }
}

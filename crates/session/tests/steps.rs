//! The page's model steps, run natively on the CPU backend with a host that records what the
//! page would see: results, progress, and cancellation by a newer job.

use std::cell::{Cell, RefCell};
use std::future::Future;

use burn::tensor::Device;
use imaging::{InputContract, Prepared, Slice};
use metrics::Mask;
use probunet::hierarchical::{HierarchicalProbUNet, HpuNetConfig};
use probunet::weights::{Precision, save_weights};
use probunet::{ProbUNet, ProbUNetConfig, complete_now};
use session::{
    DECODE_CHUNK, Elsewhere, Encoded, Engine, EngineError, Host, Job, Jobs, MAP_CELLS, Projection,
    SCALE_ROW_SAMPLES, StepError, Steps,
};

const SIDE: u32 = 16;
/// The disc's centre in the test slice.
const CENTER: (f32, f32) = (20.0, 16.0);

fn probabilistic() -> Engine {
    let mut config = ProbUNetConfig::tiny();
    config.input = Some(InputContract::lidc(SIDE, 1.0));
    let model = ProbUNet::new_seeded(&config, 3, &Device::flex());
    let bytes = save_weights(&model, Precision::Full).unwrap();
    Engine::load(&bytes, Device::flex()).unwrap()
}

fn hierarchical() -> Engine {
    let mut config = HpuNetConfig::tiny();
    config.input = Some(InputContract::lidc(SIDE, 1.0));
    let model = HierarchicalProbUNet::new_seeded(&config, 3, &Device::flex());
    let bytes = save_weights(&model, Precision::Full).unwrap();
    Engine::load(&bytes, Device::flex()).unwrap()
}

/// A 40×32 grey PNG with a bright disc, through the real decoder.
fn slice() -> Slice {
    let image = image::GrayImage::from_fn(40, 32, |x, y| {
        let (dx, dy) = (x as f32 - 20.0, y as f32 - 16.0);
        image::Luma([if dx * dx + dy * dy < 16.0 { 220 } else { 40 }])
    });
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    imaging::decode(&bytes, Some("disc.png")).unwrap()
}

/// Records progress; on its `cancel_at`-th pause starts a newer job (as a click would).
#[derive(Default)]
struct TestHost {
    jobs: Jobs,
    pauses: Cell<usize>,
    cancel_at: Option<usize>,
    progress: RefCell<Vec<String>>,
}

impl Host for TestHost {
    fn pause(&self) -> impl Future<Output = ()> {
        self.pauses.set(self.pauses.get() + 1);
        if self.cancel_at == Some(self.pauses.get()) {
            self.jobs.start();
        }
        std::future::ready(())
    }

    fn progress(&self, what: &str, _fraction: Option<f64>) {
        self.progress.borrow_mut().push(what.to_string());
    }

    fn now_ms(&self) -> f64 {
        0.0
    }
}

/// A host and the job it runs, the way the page starts one.
struct Rig {
    host: TestHost,
    job: Job,
}

impl Rig {
    /// `cancel_at`: the pause at which a newer job starts.
    fn new(cancel_at: Option<usize>) -> Self {
        let host = TestHost {
            cancel_at,
            ..TestHost::default()
        };
        let job = host.jobs.start();
        Self { host, job }
    }

    fn steps<'a>(&'a self, engine: &'a Engine) -> Steps<'a, TestHost> {
        Steps {
            engine,
            host: &self.host,
            job: &self.job,
        }
    }
}

/// The test slice's disc, encoded by `engine` in a job of its own.
fn encoded(engine: &Engine) -> Encoded {
    run(Rig::new(None).steps(engine).encode(&slice(), CENTER)).unwrap()
}

/// Every step completes on its first poll on the CPU backend with this host.
fn run<F: Future>(future: F) -> F::Output {
    complete_now(future).expect("the CPU backend and this host never wait")
}

#[test]
fn encode_sample_and_map_give_what_the_page_shows() {
    let engine = probabilistic();
    let rig = Rig::new(None);
    let steps = rig.steps(&engine);
    let encoded = run(steps.encode(&slice(), CENTER)).unwrap();
    assert_eq!((encoded.crop.width, encoded.crop.height), (SIDE, SIDE));
    let n = 2 * DECODE_CHUNK + 3;
    let analysis = run(steps.sample(&encoded.encoding, encoded.crop, n, 7, 0.0)).unwrap();
    assert_eq!(analysis.samples.len(), n);
    assert!(analysis.samples.iter().all(|s| s.z.is_some()));
    assert!(analysis.prior.is_some());
    assert_eq!(analysis.mean.shape(), (SIDE as usize, SIDE as usize));
    // One progress line per chunk, the first before any sample.
    let progress = rig.host.progress.borrow().clone();
    assert_eq!(progress[0], "Encoding the crop…");
    assert_eq!(progress[1], format!("Sampling: 0 of {n} masks"));
    assert_eq!(progress.len(), 1 + n.div_ceil(DECODE_CHUNK));

    let map = run(steps.latent_map(&encoded.encoding, Some((0, 1))))
        .unwrap()
        .expect("the probabilistic U-Net has a latent map");
    assert_eq!(map.masks.len(), MAP_CELLS * MAP_CELLS);
    assert_eq!((map.x_dim, map.y_dim), (0, 1));
}

#[test]
fn a_seed_gives_the_same_samples_however_many_are_asked_for() {
    let engine = probabilistic();
    let encoded = encoded(&engine);
    let rig = Rig::new(None);
    let sample = |n, seed| {
        run(rig
            .steps(&engine)
            .sample(&encoded.encoding, encoded.crop.clone(), n, seed, 0.0))
        .unwrap()
        .samples
    };
    let few = sample(DECODE_CHUNK + 1, 11);
    let many = sample(3 * DECODE_CHUNK, 11);
    assert_eq!(few[..], many[..few.len()]);
    assert_ne!(sample(4, 12)[0].z, few[0].z);
}

#[test]
fn a_newer_job_stops_sampling_between_chunks() {
    let engine = probabilistic();
    let encoded = encoded(&engine);
    // The second chunk's pause starts a newer job: the step ends there, without a result.
    let rig = Rig::new(Some(2));
    let n = 4 * DECODE_CHUNK;
    let outcome = run(rig
        .steps(&engine)
        .sample(&encoded.encoding, encoded.crop, n, 1, 0.0));
    assert!(matches!(outcome, Err(StepError::Cancelled)), "{outcome:?}");
    assert_eq!(
        rig.host.pauses.get(),
        2,
        "no chunk may start after the cancel"
    );
    assert!(!rig.job.is_current());
}

#[test]
fn a_newer_job_stops_encoding() {
    let engine = probabilistic();
    let rig = Rig::new(Some(1));
    let outcome = run(rig.steps(&engine).encode(&slice(), CENTER));
    assert!(matches!(outcome, Err(StepError::Cancelled)));
    assert_eq!(
        rig.host.pauses.get(),
        1,
        "encoding pauses once, before the encoder"
    );
    assert!(!rig.job.is_current());
}

#[test]
fn a_newer_job_stops_the_latent_map_between_rows() {
    let engine = probabilistic();
    let encoded = encoded(&engine);
    // Pause 1 is before the axes; 2 after the first row of cells.
    let rig = Rig::new(Some(3));
    let outcome = run(rig.steps(&engine).latent_map(&encoded.encoding, None));
    assert!(matches!(outcome, Err(StepError::Cancelled)));
    assert_eq!(rig.host.pauses.get(), 3);
}

#[test]
fn the_hierarchical_model_has_scale_rows_and_no_latent_map() {
    let engine = hierarchical();
    let rig = Rig::new(None);
    let steps = rig.steps(&engine);
    let encoded = run(steps.encode(&slice(), CENTER)).unwrap();
    let analysis = run(steps.sample(&encoded.encoding, encoded.crop, 5, 2, 0.0)).unwrap();
    assert!(analysis.prior.is_none() && analysis.samples.iter().all(|s| s.z.is_none()));
    let rows = run(steps.scale_rows(&encoded.encoding, 2)).unwrap();
    assert_eq!(rows.rows.len(), engine.latent_scales());
    assert!(rows.rows.iter().all(|row| row.len() == SCALE_ROW_SAMPLES));
    assert!(
        run(steps.latent_map(&encoded.encoding, None))
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        run(engine.decode(&encoded.encoding, &[vec![0.0; 6]])),
        Err(EngineError::NoGlobalLatent)
    ));
}

#[test]
fn an_encoding_from_another_model_is_refused_in_words() {
    let probabilistic = probabilistic();
    let encoded = encoded(&hierarchical());
    let rig = Rig::new(None);
    let outcome = run(rig
        .steps(&probabilistic)
        .sample(&encoded.encoding, encoded.crop, 4, 1, 0.0));
    let error = outcome.unwrap_err();
    assert!(matches!(error, StepError::Model(EngineError::Mismatch)));
    assert!(error.to_string().contains("model changed"), "{error}");
}

#[test]
fn weights_that_are_not_a_model_are_refused_in_words() {
    let error = Engine::load(b"not a weights file", Device::flex())
        .err()
        .expect("garbage must be refused");
    assert!(matches!(error, EngineError::Weights(_)));
    assert!(
        error
            .to_string()
            .starts_with("the model's weights could not be loaded")
    );
}

#[test]
fn map_axes_outside_the_latent_are_refused() {
    let engine = probabilistic();
    let encoded = encoded(&engine);
    let rig = Rig::new(None);
    let outcome = run(rig
        .steps(&engine)
        .latent_map(&encoded.encoding, Some((0, 5))));
    assert!(matches!(outcome, Err(StepError::MapAxes { x: 0, y: 5 })));
}

/// A host that encodes and decodes elsewhere as the page's workers do: on a second engine with
/// the same weights, keeping the projection under a ticket. Counts what it did.
struct HelperHost {
    base: TestHost,
    helper: Engine,
    held: RefCell<Option<(u64, Projection)>>,
    encodes: Cell<usize>,
    decoded: Cell<usize>,
    /// Sends a projection with one channel too many (a helper with other weights).
    misfit: bool,
}

impl HelperHost {
    fn new(helper: Engine) -> Self {
        Self {
            base: TestHost::default(),
            helper,
            held: RefCell::new(None),
            encodes: Cell::new(0),
            decoded: Cell::new(0),
            misfit: false,
        }
    }

    /// Runs `work` on `engine`'s steps with this host, in a job of its own.
    fn run<'a, T, F: Future<Output = T>>(
        &'a self,
        engine: &'a Engine,
        work: impl FnOnce(Steps<'a, HelperHost>) -> F,
    ) -> T {
        let job = Box::leak(Box::new(self.base.jobs.start()));
        run(work(Steps {
            engine,
            host: self,
            job,
        }))
    }
}

impl Host for HelperHost {
    fn pause(&self) -> impl Future<Output = ()> {
        self.base.pause()
    }

    fn progress(&self, what: &str, fraction: Option<f64>) {
        self.base.progress(what, fraction);
    }

    fn now_ms(&self) -> f64 {
        0.0
    }

    fn encode_elsewhere(&self, crop: &Prepared) -> impl Future<Output = Option<Elsewhere>> {
        let (w, h) = (crop.width as usize, crop.height as usize);
        let pixels = crop.data.clone();
        async move {
            self.encodes.set(self.encodes.get() + 1);
            let projection = self.helper.project(pixels.clone(), w, h).ok()?;
            let prior = self.helper.prior_of(pixels, w, h).await.ok()?;
            let mut map = projection.read().await.ok()?;
            if self.misfit {
                map.channels += 1;
            }
            let ticket = self.encodes.get() as u64;
            self.held.replace(Some((ticket, projection)));
            Some(Elsewhere {
                ticket,
                projection: map,
                prior,
            })
        }
    }

    fn decode_elsewhere(
        &self,
        ticket: u64,
        zs: &[Vec<f32>],
    ) -> impl Future<Output = Option<Vec<Mask>>> {
        let held = self.held.borrow().clone();
        async move {
            let (held_ticket, projection) = held?;
            if held_ticket != ticket {
                return None;
            }
            self.decoded.set(self.decoded.get() + zs.len());
            self.helper.decode_projection(&projection, zs).await.ok()
        }
    }
}

/// Samples, mean and default latent map of the test crop through `steps`.
async fn analyse<H: Host>(steps: Steps<'_, H>) -> (session::Analysis, session::LatentMap) {
    let encoded = steps.encode(&slice(), CENTER).await.unwrap();
    let map = steps.latent_map(&encoded.encoding, None).await.unwrap();
    let analysis = steps
        .sample(
            &encoded.encoding,
            encoded.crop,
            2 * DECODE_CHUNK + 1,
            5,
            0.0,
        )
        .await
        .unwrap();
    (analysis, map.unwrap())
}

#[test]
fn encoding_and_decoding_elsewhere_give_exactly_what_the_engine_gives() {
    let engine = probabilistic();
    let here = Rig::new(None);
    let (local, local_map) = run(analyse(here.steps(&engine)));

    let host = HelperHost::new(probabilistic());
    let (remote, remote_map) = host.run(&engine, analyse);
    assert_eq!(host.encodes.get(), 1);
    // Every mask came from the helper: samples, the mean, the axes' sweep and the map.
    let n = 2 * DECODE_CHUNK + 1;
    let sweep = 1 + 2 * remote.prior.as_ref().unwrap().dims();
    assert_eq!(host.decoded.get(), n + 1 + sweep + MAP_CELLS * MAP_CELLS);
    assert_eq!(remote.prior, local.prior);
    assert_eq!(remote.samples, local.samples);
    assert_eq!(remote.mean, local.mean);
    assert_eq!(
        (remote_map.x_dim, remote_map.y_dim),
        (local_map.x_dim, local_map.y_dim)
    );
    assert_eq!(remote_map.masks, local_map.masks);
}

#[test]
fn an_encoding_from_elsewhere_that_does_not_fit_is_made_here_instead() {
    let engine = probabilistic();
    let (local, _) = run(analyse(Rig::new(None).steps(&engine)));
    let mut host = HelperHost::new(probabilistic());
    host.misfit = true;
    let (remote, _) = host.run(&engine, analyse);
    assert_eq!(host.encodes.get(), 1, "it was asked");
    assert_eq!(
        host.decoded.get(),
        0,
        "nothing is decoded against a refused encoding"
    );
    assert_eq!(remote.samples, local.samples);
}

#[test]
fn samples_of_an_encoding_no_longer_held_elsewhere_are_decoded_here() {
    let engine = probabilistic();
    let host = HelperHost::new(probabilistic());
    let encoded = host.run(&engine, |steps| async move {
        steps.encode(&slice(), CENTER).await.unwrap()
    });
    assert_eq!(encoded.encoding.ticket(), Some(1));
    // The helper moved on to another crop (ticket 2).
    host.run(&engine, |steps| async move {
        steps.encode(&slice(), (8.0, 8.0)).await.unwrap()
    });
    let kept = &encoded;
    let analysis = host.run(&engine, |steps| async move {
        steps
            .sample(&kept.encoding, kept.crop.clone(), 4, 3, 0.0)
            .await
    });
    let local = run(Rig::new(None).steps(&engine).sample(
        &encoded.encoding,
        encoded.crop.clone(),
        4,
        3,
        0.0,
    ));
    assert_eq!(host.decoded.get(), 0);
    assert_eq!(analysis.unwrap().samples, local.unwrap().samples);
}

#[test]
fn the_hierarchical_model_is_encoded_here() {
    let engine = hierarchical();
    let host = HelperHost::new(probabilistic());
    let encoded = host.run(&engine, |steps| async move {
        steps.encode(&slice(), CENTER).await.unwrap()
    });
    assert_eq!(host.encodes.get(), 0);
    assert_eq!(encoded.encoding.ticket(), None);
}

#[test]
fn pixels_and_projections_that_do_not_fit_are_refused_in_words() {
    let engine = probabilistic();
    let side = SIDE as usize;
    let error = engine.project(vec![0.5; 10], side, side).unwrap_err();
    assert!(
        matches!(error, EngineError::Pixels { got: 10, .. }),
        "{error}"
    );
    assert_eq!(error.to_string(), "10 intensities for a 16×16 crop");
    let map = run(engine
        .project(vec![0.5; side * side], side, side)
        .unwrap()
        .read())
    .unwrap();
    let empty = session::HostMap {
        width: 0,
        data: Vec::new(),
        ..map.clone()
    };
    assert!(matches!(
        engine.projection_from(empty),
        Err(EngineError::Projection { .. })
    ));
    assert!(engine.projection_from(map).is_ok());
}

//! The page's model steps, run natively on the CPU backend with a host that records what the
//! page would see: results, progress, and cancellation by a newer job.

use std::cell::{Cell, RefCell};
use std::future::Future;

use burn::tensor::Device;
use imaging::{InputContract, Slice};
use probunet::hierarchical::{HierarchicalProbUNet, HpuNetConfig};
use probunet::weights::{Precision, save_weights};
use probunet::{ProbUNet, ProbUNetConfig, complete_now};
use session::{
    DECODE_CHUNK, Encoded, Engine, EngineError, Host, Job, Jobs, MAP_CELLS, SCALE_ROW_SAMPLES,
    StepError, Steps,
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
        run(engine.telling_dims(&encoded.encoding, 3.0)),
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

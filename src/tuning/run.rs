//! The fine-tuning loop itself, wherever it runs: in the fine-tuning worker (`worker.rs`), or
//! on the page's thread where a browser gives workers no WebGPU. It reports through a
//! [`RunObserver`], so both places share it.

use burn::tensor::Device;
use probunet::{FineTuneConfig, FineTuner, LossValues, Pair, Precision, held_out_ged};

use crate::browser::{now_ms, sleep_ms, yield_now};

/// Samples drawn for the held-out GED.
const GED_SAMPLES: usize = 16;

/// Steps between checkpoints (the weights handed to [`RunObserver::checkpoint`]; a pause
/// makes one too). Saving costs about what a step does; a closed tab loses at most these.
pub const CHECKPOINT_EVERY: usize = 5;

/// "1 step", "6 steps".
pub fn steps_text(n: usize) -> String {
    if n == 1 {
        "1 step".into()
    } else {
        format!("{n} steps")
    }
}

/// What the person asked the running loop to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Control {
    Run,
    Pause,
    Cancel,
}

/// What a training loop hands back: the tuned weights (f16 burnpack, the shipped format), the
/// steps taken, and why it stopped early (cancelled, diverged), if it did.
pub struct FinishedRun {
    pub weights: Vec<u8>,
    pub steps: usize,
    pub stopped: Option<String>,
}

/// One run's inputs.
pub struct RunRequest<'a> {
    pub weights: &'a [u8],
    pub training: Vec<Pair>,
    pub held_out: Option<Pair>,
    pub config: FineTuneConfig,
    pub steps: usize,
}

/// Where the loop reports, and where it reads the person's pause and cancel.
pub trait RunObserver {
    fn ged_before(&self, ged: Option<f64>);
    /// After each step: its loss, steps done and the pace (paused time left out).
    fn step(&self, values: LossValues, steps_done: usize, steps_per_s: f64);
    /// Steps done; the held-out GED and the save follow (pause and cancel no longer apply).
    /// The weights (f16 burnpack) after `steps_done` steps, to keep until the run ends.
    fn checkpoint(&self, weights: Vec<u8>, steps_done: usize);
    fn finishing(&self);
    fn ged_after(&self, ged: Option<f64>);
    fn control(&self) -> Control;
}

/// Trains from `request.weights` on `device`, yielding between steps so that pause and cancel
/// are heard (and the page, when it runs there, can paint).
pub async fn train(
    request: RunRequest<'_>,
    device: &Device,
    observer: &impl RunObserver,
) -> Result<FinishedRun, String> {
    let model = probunet::load_weights(request.weights, device).map_err(|e| e.to_string())?;
    if let Some(pair) = &request.held_out {
        observer.ged_before(held_out_ged(&model, pair, GED_SAMPLES, 0).await.ok());
    }
    let mut tuner =
        FineTuner::new(model, request.training, request.config).map_err(|e| e.to_string())?;
    let started = now_ms();
    let mut paused_ms = 0.0;
    let mut stopped = None;
    let mut kept = 0;
    while tuner.steps_done() < request.steps {
        yield_now().await;
        let done = tuner.steps_done();
        let pausing = observer.control() == Control::Pause;
        if done > kept && (pausing || done % CHECKPOINT_EVERY == 0) {
            let weights = probunet::save_weights_async(&tuner.model(), Precision::Half)
                .await
                .map_err(|e| e.to_string())?;
            observer.checkpoint(weights, done);
            kept = done;
        }
        while observer.control() == Control::Pause {
            let pause_start = now_ms();
            sleep_ms(100).await;
            paused_ms += now_ms() - pause_start;
        }
        if observer.control() == Control::Cancel {
            stopped = Some(format!(
                "cancelled after {}; the model keeps them",
                steps_text(tuner.steps_done())
            ));
            break;
        }
        match tuner.step().await {
            Ok(values) => {
                let seconds = (now_ms() - started - paused_ms) / 1000.0;
                let done = tuner.steps_done();
                observer.step(values, done, done as f64 / seconds.max(1e-3));
            }
            Err(error) => {
                stopped = Some(error.to_string());
                break;
            }
        }
    }
    observer.finishing();
    yield_now().await; // let the panel say so before the blocking work
    let model = tuner.model();
    if let Some(pair) = &request.held_out {
        observer.ged_after(held_out_ged(&model, pair, GED_SAMPLES, 0).await.ok());
    }
    let weights = probunet::save_weights_async(&model, Precision::Half)
        .await
        .map_err(|e| e.to_string())?;
    Ok(FinishedRun {
        weights,
        steps: tuner.steps_done(),
        stopped,
    })
}

//! The in-page benchmark behind `make bench-web`: times the app's own model path ([`Engine`]
//! encode and decode, [`FineTuner::step`]) on this browser, so the numbers are the page's, not a
//! harness's. Exposed to the page as `probsegBench(options)` (see `public/loader.js`); the
//! Playwright driver `tests/e2e/bench-web.mjs` calls it and computes the medians.
//!
//! Weights: the shipped `small` preset uses the shipped file, `hierarchical` the shipped
//! hierarchical model's; the `paper` preset has no shipped weights, so a seeded He-normal model
//! is built here (timings do not depend on the values).
//! Input: a synthetic lung-CT case of the asked side, the same generator the model trained on.

use burn::tensor::Device;
use probunet::{FineTuneConfig, FineTuner, Pair, Precision, ProbUNet, ProbUNetConfig, SeededRng};
use serde::{Deserialize, Serialize};
use synth::Case;
use wasm_bindgen::prelude::*;

use std::rc::Rc;
use std::sync::Arc;

use crate::backend::{self, ActiveBackend, BackendKind, Preference};
use crate::browser::{fetch_bytes, now_ms};
use crate::encode_workers::EncodeWorkers;
use crate::workbench::ShippedModel;
use session::{DECODE_CHUNK, Engine};

/// What to measure (JSON from the driver).
#[derive(Debug, Deserialize)]
struct Options {
    /// `small` (the shipped weights), `hierarchical` (the shipped hierarchical model) or `paper`.
    preset: String,
    /// `cpu` or `webgpu`.
    backend: String,
    /// Side of the square input, a multiple of the model's size divisor.
    side: usize,
    /// Timed runs per measurement after `warmup` untimed ones.
    runs: usize,
    warmup: usize,
    /// Fine-tuning steps to time (0: none) and their batch size.
    train_runs: usize,
    train_batch: usize,
}

/// Every timed run, in milliseconds, per measurement.
#[derive(Debug, Default, Serialize)]
struct Timings {
    backend: String,
    parameters: usize,
    /// Building the model from weight bytes (once).
    load_ms: f64,
    /// U-Net + prior, the prior read back to the host.
    encode: Vec<f64>,
    /// One latent through fcomb, the mask read back.
    sample1: Vec<f64>,
    /// 16 latents through fcomb in one batch, the masks read back.
    sample16: Vec<f64>,
    /// 16 latents as the page draws them: in chunks of `DECODE_CHUNK`.
    sample16_page: Vec<f64>,
    /// `sample16` with fcomb through burn's layers instead of the fused head (measured right
    /// after the rows above: an A/B on one machine state; CPU backend only).
    sample16_layers: Vec<f64>,
    /// Encode then 16 samples in one batch, end to end.
    encode_plus16: Vec<f64>,
    /// Encode, and encode + 16, with every convolution through burn-flex instead of our 3×3
    /// kernel (measured in the same runs, right after the rows above: an A/B on one machine
    /// state; CPU backend only).
    encode_burn_conv: Vec<f64>,
    encode_plus16_burn_conv: Vec<f64>,
    /// The same with our direct kernel on every layer (Winograd off), right after them.
    encode_direct_conv: Vec<f64>,
    encode_plus16_direct_conv: Vec<f64>,
    /// The same with F(2×2, 3×3) where F(4×4, 3×3) would run, right after them.
    encode_f2_conv: Vec<f64>,
    encode_plus16_f2_conv: Vec<f64>,
    /// Encode on the page's two encode workers (U-Net and projection on one, the prior net on
    /// the other, the projection back to the page and on to the second worker), as the page
    /// runs it; then encode + 16 samples with the 16 latents decoded 8 on each worker. CPU
    /// backend only, measured in the same runs right after the rows above.
    encode_workers: Vec<f64>,
    encode_plus16_workers: Vec<f64>,
    /// One fine-tuning step (posterior path, loss, backward, Adam; loss read back).
    train_step: Vec<f64>,
}

/// Runs the benchmark described by `options` (JSON) and returns the timings (JSON).
#[wasm_bindgen(js_name = probsegBench)]
pub async fn probseg_bench(options: String) -> Result<String, JsError> {
    let options: Options = serde_json::from_str(&options)?;
    let timings = run(&options)
        .await
        .map_err(|e| JsError::new(&e.to_string()))?;
    Ok(serde_json::to_string(&timings)?)
}

/// Whatever stopped a benchmark run (the engine's typed errors, or a sentence), for JS.
type BenchError = Box<dyn std::error::Error>;

async fn run(options: &Options) -> Result<Timings, BenchError> {
    let active = backend::select(Preference::from_query(Some(&options.backend))).await;
    let mut timings = Timings {
        backend: active.kind.id().into(),
        ..Timings::default()
    };
    let bytes = weights(&options.preset).await?;
    let started = now_ms();
    let engine = Engine::load(&bytes, active.device.clone())?;
    timings.load_ms = now_ms() - started;
    timings.parameters = engine.num_params();

    if engine.latent_scales() > 0 {
        time_hierarchical(&engine, options, &mut timings).await?;
        return Ok(timings);
    }
    let side = options.side;
    let case = Case::generate(7, side, side);
    let workers = match active.kind {
        BackendKind::Cpu => Some(start_workers(&bytes).await?),
        BackendKind::WebGpu => None,
    };
    for run in 0..options.warmup + options.runs {
        let timed = run >= options.warmup;
        let t0 = now_ms();
        let encoding = engine.encode_pixels(case.image.clone(), side, side).await?;
        let t1 = now_ms();
        let prior = encoding
            .prior()
            .ok_or("the page benchmark times the probabilistic U-Net")?;
        let zs = |n: usize| prior.draw(n, &mut SeededRng::new(run as u64));
        engine.decode(&encoding, &zs(1)).await?;
        let t2 = now_ms();
        engine.decode(&encoding, &zs(16)).await?;
        let t3 = now_ms();
        for chunk in zs(16).chunks(DECODE_CHUNK) {
            engine.decode(&encoding, chunk).await?;
        }
        let t4 = now_ms();
        let again = engine.encode_pixels(case.image.clone(), side, side).await?;
        engine.decode(&again, &zs(16)).await?;
        let t5 = now_ms();
        // The kernel A/B: each variant right after the shipped kernels, same machine state.
        cpu_kernels::set_fused_fcomb(false);
        engine.decode(&encoding, &zs(16)).await?;
        cpu_kernels::set_fused_fcomb(true);
        let t6 = now_ms();
        cpu_kernels::set_direct_conv(false);
        let burn_conv = encode_and_16(&engine, &case.image, side, &zs(16)).await?;
        cpu_kernels::set_direct_conv(true);
        cpu_kernels::set_winograd(false);
        let direct_conv = encode_and_16(&engine, &case.image, side, &zs(16)).await?;
        cpu_kernels::set_winograd(true);
        cpu_kernels::set_winograd4(false);
        let f2_conv = encode_and_16(&engine, &case.image, side, &zs(16)).await?;
        cpu_kernels::set_winograd4(true);
        let on_workers = match &workers {
            Some(workers) => Some(on_workers(workers, &engine, &case.image, side, &zs(16)).await?),
            None => None,
        };
        if timed {
            if let Some((e, e16)) = on_workers {
                timings.encode_workers.push(e);
                timings.encode_plus16_workers.push(e16);
            }
            for (encode, plus16, (e, e16)) in [
                (
                    &mut timings.encode_burn_conv,
                    &mut timings.encode_plus16_burn_conv,
                    burn_conv,
                ),
                (
                    &mut timings.encode_direct_conv,
                    &mut timings.encode_plus16_direct_conv,
                    direct_conv,
                ),
                (
                    &mut timings.encode_f2_conv,
                    &mut timings.encode_plus16_f2_conv,
                    f2_conv,
                ),
            ] {
                encode.push(e);
                plus16.push(e16);
            }
            timings.encode.push(t1 - t0);
            timings.sample1.push(t2 - t1);
            timings.sample16.push(t3 - t2);
            timings.sample16_page.push(t4 - t3);
            timings.encode_plus16.push(t5 - t4);
            timings.sample16_layers.push(t6 - t5);
        }
    }
    if options.train_runs > 0 {
        timings.train_step = train_steps(&bytes, &active, options).await?;
    }
    Ok(timings)
}

/// Encode, and encode + 16 samples (one batch), in milliseconds.
async fn encode_and_16(
    engine: &Engine,
    image: &[f32],
    side: usize,
    zs: &[Vec<f32>],
) -> Result<(f64, f64), BenchError> {
    let t0 = now_ms();
    let encoding = engine.encode_pixels(image.to_vec(), side, side).await?;
    let t1 = now_ms();
    engine.decode(&encoding, zs).await?;
    Ok((t1 - t0, now_ms() - t0))
}

/// The page's two encode workers, holding the model of `bytes`.
async fn start_workers(bytes: &[u8]) -> Result<Rc<EncodeWorkers>, BenchError> {
    let workers = Rc::new(EncodeWorkers::start().await?);
    workers.load(Arc::new(bytes.to_vec())).await;
    if !workers.is_ready() {
        return Err("the encode workers could not load the model".into());
    }
    Ok(workers)
}

/// Encode, and encode + 16 samples, on the two encode workers, in milliseconds. The masks are
/// checked against the page thread's own for the same latents: a benchmark of a wrong answer
/// would be worthless.
async fn on_workers(
    workers: &EncodeWorkers,
    engine: &Engine,
    image: &[f32],
    side: usize,
    zs: &[Vec<f32>],
) -> Result<(f64, f64), BenchError> {
    let unanswered = "the encode workers did not answer";
    let t0 = now_ms();
    let made = workers.encode(image, side, side).await.ok_or(unanswered)?;
    let ticket = made.ticket;
    let encoding = engine.encoding_from(made)?;
    let t1 = now_ms();
    let masks = workers.decode(ticket, zs).await.ok_or(unanswered)?;
    let t2 = now_ms();
    let here = engine.encode_pixels(image.to_vec(), side, side).await?;
    if masks != engine.decode(&here, zs).await? || engine.decode(&encoding, zs).await? != masks {
        return Err("the encode workers' masks differ from the page's".into());
    }
    Ok((t1 - t0, t2 - t0))
}

/// The hierarchical model's rows: encode, 1 and 16 samples (every scale drawn, the decoder below
/// the first latent rerun per sample), 16 in the page's chunks, encode + 16.
async fn time_hierarchical(
    engine: &Engine,
    options: &Options,
    timings: &mut Timings,
) -> Result<(), BenchError> {
    let side = options.side;
    let case = Case::generate(7, side, side);
    for run in 0..options.warmup + options.runs {
        let rng = || SeededRng::new(run as u64);
        let t0 = now_ms();
        let encoding = engine.encode_pixels(case.image.clone(), side, side).await?;
        let t1 = now_ms();
        engine.sample(&encoding, 1, &mut rng()).await?;
        let t2 = now_ms();
        engine.sample(&encoding, 16, &mut rng()).await?;
        let t3 = now_ms();
        let mut page_rng = rng();
        for _ in 0..16 / DECODE_CHUNK {
            engine
                .sample(&encoding, DECODE_CHUNK, &mut page_rng)
                .await?;
        }
        let t4 = now_ms();
        let again = engine.encode_pixels(case.image.clone(), side, side).await?;
        engine.sample(&again, 16, &mut rng()).await?;
        let t5 = now_ms();
        if run >= options.warmup {
            timings.encode.push(t1 - t0);
            timings.sample1.push(t2 - t1);
            timings.sample16.push(t3 - t2);
            timings.sample16_page.push(t4 - t3);
            timings.encode_plus16.push(t5 - t4);
        }
    }
    Ok(())
}

/// The weights of `preset`: a shipped file, or a seeded paper-preset model.
async fn weights(preset: &str) -> Result<Vec<u8>, String> {
    match preset {
        "small" => fetch_bytes(ShippedModel::Synthetic.path(), |_, _| {}).await,
        "hierarchical" => fetch_bytes(ShippedModel::LidcHierarchical.path(), |_, _| {}).await,
        "paper" => {
            let model = ProbUNet::new_seeded(&ProbUNetConfig::paper(), 0, &Device::flex());
            probunet::save_weights(&model, Precision::Full).map_err(|e| e.to_string())
        }
        other => Err(format!(
            "unknown preset {other:?} (small, hierarchical or paper)"
        )),
    }
}

/// Times fine-tuning steps as the page runs them (the read-back included), on four synthetic
/// cases.
async fn train_steps(
    bytes: &[u8],
    active: &ActiveBackend,
    options: &Options,
) -> Result<Vec<f64>, String> {
    let model = probunet::load_weights(bytes, &active.device).map_err(|e| e.to_string())?;
    let side = options.side;
    let pairs = (0..4)
        .map(|seed| {
            let case = Case::generate(seed, side, side);
            Pair {
                name: format!("case {seed}"),
                masks: case.masks(),
                image: case.image,
                side,
            }
        })
        .collect();
    let config = FineTuneConfig {
        batch_size: options.train_batch,
        ..FineTuneConfig::default()
    };
    let mut tuner = FineTuner::new(model, pairs, config).map_err(|e| e.to_string())?;
    let mut times = Vec::with_capacity(options.train_runs);
    for run in 0..options.warmup.min(1) + options.train_runs {
        let t0 = now_ms();
        tuner.step().await.map_err(|e| e.to_string())?;
        if run >= options.warmup.min(1) {
            times.push(now_ms() - t0);
        }
    }
    Ok(times)
}

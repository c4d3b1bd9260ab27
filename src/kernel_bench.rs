//! The per-layer half of the page's benchmark: each 3×3 layer shape of the models through our
//! kernels (direct, Winograd F(2×2) and F(4×4)) and burn-flex's `conv2d` + ReLU, in this browser's wasm, so
//! the kernel choice in wasm rests on measurements made where it runs. Exposed to the page as
//! `probsegKernelBench(runs)`; `bench/web.mjs` calls it and `bench/report.mjs` tabulates it.

use burn::tensor::activation::relu;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use cpu_kernels::conv3x3::conv3x3;
use cpu_kernels::layers::MODEL_LAYERS;
use cpu_kernels::{Conv3x3Shape, conv3x3_winograd, conv3x3_winograd4};
use probunet::SeededRng;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::browser::now_ms;

/// One layer's medians, in milliseconds, and the kernel the page uses for it.
#[derive(Debug, Serialize)]
struct LayerTimes {
    c_in: usize,
    c_out: usize,
    side: usize,
    burn_ms: f64,
    direct_ms: f64,
    winograd_ms: f64,
    winograd4_ms: f64,
    chosen: String,
}

/// Times every model layer `runs` times per kernel (interleaved, after one untimed run) and
/// returns the medians as JSON. Runs on the calling thread: for the benchmark build only.
#[wasm_bindgen(js_name = probsegKernelBench)]
pub fn probseg_kernel_bench(runs: usize) -> Result<String, JsError> {
    let rows: Vec<LayerTimes> = MODEL_LAYERS
        .iter()
        .map(|&(c_in, c_out, side)| time_layer(c_in, c_out, side, runs.max(1)))
        .collect();
    Ok(serde_json::to_string(&rows)?)
}

fn time_layer(c_in: usize, c_out: usize, side: usize, runs: usize) -> LayerTimes {
    let shape = Conv3x3Shape {
        batch: 1,
        c_in,
        c_out,
        height: side,
        width: side,
    };
    let mut rng = SeededRng::new((c_in * 1000 + c_out) as u64);
    let mut values = |n: usize| rng.normals(n, 1.0);
    let (x, w, b) = (
        values(shape.input_len()),
        values(shape.weight_len()),
        values(c_out),
    );
    let d = Device::flex();
    let xt = Tensor::<4>::from_data(TensorData::new(x.clone(), [1, c_in, side, side]), &d);
    let wt = Tensor::<4>::from_data(TensorData::new(w.clone(), [c_out, c_in, 3, 3]), &d);
    let bt = Tensor::<1>::from_data(TensorData::new(b.clone(), [c_out]), &d);
    let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    let mut out = vec![0.0; shape.output_len()];
    // The page's clock ticks in 0.1 ms (no cross-origin isolation), and the small layers take
    // less: each timing is the mean of enough back-to-back calls to make ≥ 50 M multiply-adds.
    let macs = (c_in * c_out * 9 * side * side) as f64;
    let reps = (50e6 / macs).ceil().max(1.0) as usize;
    let timed = |kernel: &mut dyn FnMut()| {
        let t0 = now_ms();
        for _ in 0..reps {
            kernel();
        }
        (now_ms() - t0) / reps as f64
    };
    let mut times = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for run in 0..=runs {
        let burn = timed(&mut || {
            let _ = relu(conv2d(
                xt.clone(),
                wt.clone(),
                Some(bt.clone()),
                options.clone(),
            ))
            .into_data();
        });
        let direct = timed(&mut || conv3x3(&x, &w, &b, shape, true, &mut out));
        let winograd = timed(&mut || conv3x3_winograd(&x, &w, &b, shape, true, &mut out));
        let winograd4 = timed(&mut || conv3x3_winograd4(&x, &w, &b, shape, true, &mut out));
        if run > 0 {
            for (list, time) in times.iter_mut().zip([burn, direct, winograd, winograd4]) {
                list.push(time);
            }
        }
    }
    let [burn_ms, direct_ms, winograd_ms, winograd4_ms] = times.map(|mut t| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    });
    LayerTimes {
        c_in,
        c_out,
        side,
        burn_ms,
        direct_ms,
        winograd_ms,
        winograd4_ms,
        chosen: format!("{:?}", cpu_kernels::kernel_for(c_in, c_out, side, side)),
    }
}

//! Our 3×3 convolutions (direct, and Winograd F(2×2, 3×3) and F(4×4, 3×3)) against burn-flex's (conv2d +
//! ReLU) on the models' layer shapes, one image: medians of `BENCH_RUNS` (default 30) runs
//! each, interleaved, and the GFLOP/s of each (counted as the direct convolution's
//! multiply-adds, so the columns compare). Then the weights' gradient (training's backward
//! pass) by burn-flex and by `cpu_kernels::weight_grad` on the same layers, at `BENCH_BATCH`
//! images (default 8, the CLI's training batch). `cargo bench -p cpu-kernels`.

use std::time::Instant;

use burn::tensor::activation::relu;
use burn::tensor::module::{conv2d, conv2d_weight_backward};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Distribution, Tensor};
use cpu_kernels::conv3x3::conv3x3;
use cpu_kernels::layers::MODEL_LAYERS;
use cpu_kernels::weight_grad::conv3x3_weight_grad;
use cpu_kernels::{Conv3x3Shape, conv3x3_winograd, conv3x3_winograd4};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let d = Device::flex();
    let normal = Distribution::Normal(0.0, 1.0);
    println!(
        "| layer (c_in→c_out, side) | burn-flex conv2d + relu | direct | F(2×2) | F(4×4) | best vs burn | direct GFLOP/s | F(2×2) GFLOP/s | F(4×4) GFLOP/s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (c_in, c_out, side) in MODEL_LAYERS {
        let x = Tensor::<4>::random([1, c_in, side, side], normal, &d);
        let w = Tensor::<4>::random([c_out, c_in, 3, 3], normal, &d);
        let b = Tensor::<1>::random([c_out], normal, &d);
        let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        let burn_op = || {
            relu(conv2d(
                x.clone(),
                w.clone(),
                Some(b.clone()),
                options.clone(),
            ))
        };
        let values = |t: &Tensor<4>| t.clone().into_data().try_into_vec::<f32>().unwrap();
        let (xv, wv) = (values(&x), values(&w));
        let bv = b.clone().into_data().try_into_vec::<f32>().unwrap();
        let shape = Conv3x3Shape {
            batch: 1,
            c_in,
            c_out,
            height: side,
            width: side,
        };
        let mut out = vec![0.0; shape.output_len()];
        let mut times = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
        for run in 0..runs + 3 {
            let t = Instant::now();
            let _ = burn_op().into_data();
            let t_burn = t.elapsed().as_secs_f64();
            let t = Instant::now();
            conv3x3(&xv, &wv, &bv, shape, true, &mut out);
            let t_direct = t.elapsed().as_secs_f64();
            let t = Instant::now();
            conv3x3_winograd(&xv, &wv, &bv, shape, true, &mut out);
            let t_winograd = t.elapsed().as_secs_f64();
            let t = Instant::now();
            conv3x3_winograd4(&xv, &wv, &bv, shape, true, &mut out);
            let t_winograd4 = t.elapsed().as_secs_f64();
            if run >= 3 {
                let all = [t_burn, t_direct, t_winograd, t_winograd4];
                for (list, time) in times.iter_mut().zip(all) {
                    list.push(time);
                }
            }
        }
        let [burn, direct, winograd, winograd4] = times.map(median);
        let flops = 2.0 * (c_in * c_out * 9 * side * side) as f64;
        println!(
            "| {c_in}→{c_out}, {side}² | {:.3} ms | {:.3} ms | {:.3} ms | {:.3} ms | {:.2}× | {:.1} | {:.1} | {:.1} |",
            burn * 1e3,
            direct * 1e3,
            winograd * 1e3,
            winograd4 * 1e3,
            burn / direct.min(winograd).min(winograd4),
            flops / direct / 1e9,
            flops / winograd / 1e9,
            flops / winograd4 / 1e9
        );
    }
    weight_gradients(runs, &d);
}

/// The weights' gradient per layer: burn-flex's `conv2d_weight_backward` against ours, both
/// from the same input and output gradient, interleaved run by run.
fn weight_gradients(runs: usize, d: &Device) {
    let batch: usize = std::env::var("BENCH_BATCH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let normal = Distribution::Normal(0.0, 1.0);
    println!("\nWeights' gradient, batch {batch}:\n");
    println!(
        "| layer (c_in→c_out, side) | burn-flex | ours | ours vs burn | burn GFLOP/s | ours GFLOP/s |"
    );
    println!("|---|---|---|---|---|---|");
    for (c_in, c_out, side) in MODEL_LAYERS {
        let x = Tensor::<4>::random([batch, c_in, side, side], normal, d);
        let w = Tensor::<4>::random([c_out, c_in, 3, 3], normal, d);
        let g = Tensor::<4>::random([batch, c_out, side, side], normal, d);
        let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        let values = |t: &Tensor<4>| t.clone().into_data().try_into_vec::<f32>().unwrap();
        let (xv, gv) = (values(&x), values(&g));
        let shape = Conv3x3Shape {
            batch,
            c_in,
            c_out,
            height: side,
            width: side,
        };
        let mut out = vec![0.0; c_out * c_in * 9];
        let mut times = [Vec::new(), Vec::new()];
        for run in 0..runs + 3 {
            let t = Instant::now();
            let burns = conv2d_weight_backward(x.clone(), w.clone(), g.clone(), options.clone());
            let _ = burns.into_data();
            let t_burn = t.elapsed().as_secs_f64();
            let t = Instant::now();
            conv3x3_weight_grad(&xv, &gv, shape, &mut out);
            let t_ours = t.elapsed().as_secs_f64();
            if run >= 3 {
                times[0].push(t_burn);
                times[1].push(t_ours);
            }
        }
        let [burn, ours] = times.map(median);
        let flops = 2.0 * (batch * c_in * c_out * 9 * side * side) as f64;
        println!(
            "| {c_in}→{c_out}, {side}² | {:.3} ms | {:.3} ms | {:.2}× | {:.1} | {:.1} |",
            burn * 1e3,
            ours * 1e3,
            burn / ours,
            flops / burn / 1e9,
            flops / ours / 1e9
        );
    }
}

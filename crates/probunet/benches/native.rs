//! Native CPU benchmark of the paper model (128², batch 1) on burn's flex backend.
//!
//! `cargo bench -p probunet --bench native` — prints a Markdown table of medians (and minima).
//! `BENCH_RUNS=n` sets the timed runs per row (default 15); `BENCH_PRESET=small|tiny` another model;
//! `BENCH_SKIP_SLOW=1` leaves out the naive and training rows (a quick look at sampling);
//! `BENCH_ENCODE_LOOP=n` only runs encode n times, `BENCH_TRAIN_LOOP=n` only n training steps at
//! batch 8, and prints nothing (for `perf record`).
//! Rows follow `shared/peers/NOTES.md` so they compare one to one with the PyTorch figures;
//! `BENCH_JSON=path` also writes them as JSON (with the peers' key of each row) for
//! `bench/report.mjs`, which puts them beside the peers' figures of the same run.

use std::time::{Duration, Instant};

use burn::tensor::{Device, Int, Tensor, TensorData};
use probunet::{Batch, ProbUNet, ProbUNetConfig, SeededRng, Trainer, TrainerConfig};

/// One measured row: label, the matching key in the peers' results (if any), median, minimum.
struct Row {
    label: String,
    peer: Option<&'static str>,
    median: Duration,
    min: Duration,
}

fn time(
    (label, peer): (&str, Option<&'static str>),
    runs: usize,
    mut f: impl FnMut(),
    device: &Device,
) -> Row {
    f(); // warm-up (allocations, kernel choice)
    device.sync().unwrap();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            device.sync().unwrap();
            t.elapsed()
        })
        .collect();
    times.sort();
    let row = Row {
        label: label.to_string(),
        peer,
        median: times[times.len() / 2],
        min: times[0],
    };
    eprintln!(
        "{:<44} median {:>9.1?}  min {:>9.1?}",
        row.label, row.median, row.min
    );
    row
}

/// One configuration of our kernels in the A/B rows.
#[derive(Clone, Copy)]
struct Variant {
    label: &'static str,
    conv: bool,
    winograd: bool,
    winograd4: bool,
    avx512: bool,
    resample: bool,
}

impl Variant {
    const SHIPPED: Variant = Variant {
        label: "our 3×3 kernels",
        conv: true,
        winograd: true,
        winograd4: true,
        avx512: true,
        resample: true,
    };

    fn apply(self) {
        cpu_kernels::set_direct_conv(self.conv);
        cpu_kernels::set_winograd(self.winograd);
        cpu_kernels::set_winograd4(self.winograd4);
        cpu_kernels::set_resample_kernels(self.resample);
        #[cfg(target_arch = "x86_64")]
        cpu_kernels::set_avx512(self.avx512);
    }
}

/// The kernel variants of the inference A/B rows: ProbSeg's kernels as shipped (Winograd for
/// the wide layers, direct for the rest, our pooling and upsampling), F(2×2) only, the direct
/// kernel alone, burn-flex's convolution for every layer, (on a CPU with AVX-512) our kernels
/// in their AVX2 form, and burn-flex's pooling and interpolation.
fn inference_variants() -> [Variant; 6] {
    let shipped = Variant::SHIPPED;
    [
        shipped,
        Variant {
            label: "F(2×2) where F(4×4) runs",
            winograd4: false,
            ..shipped
        },
        Variant {
            label: "our direct 3×3 kernel only",
            winograd: false,
            winograd4: false,
            ..shipped
        },
        BURN_CONVOLUTIONS,
        Variant {
            label: "our kernels' AVX2 form",
            avx512: false,
            ..shipped
        },
        Variant {
            label: "burn-flex pooling and upsampling",
            resample: false,
            ..shipped
        },
    ]
}

/// Every 3×3 convolution through burn-flex (training too: forward and backward).
const BURN_CONVOLUTIONS: Variant = Variant {
    label: "burn-flex convolutions only",
    conv: false,
    winograd: false,
    winograd4: false,
    ..Variant::SHIPPED
};

/// Rows measured in alternation (each variant once per run), so all see the same machine load.
fn time_variants(
    label: &str,
    variants: &[Variant],
    runs: usize,
    mut f: impl FnMut(),
    device: &Device,
) -> Vec<Row> {
    let mut times = vec![Vec::new(); variants.len()];
    for run in 0..=runs {
        for (variant, times) in variants.iter().zip(times.iter_mut()) {
            variant.apply();
            let t = Instant::now();
            f();
            device.sync().unwrap();
            if run > 0 {
                times.push(t.elapsed());
            }
        }
    }
    Variant::SHIPPED.apply();
    let rows: Vec<Row> = variants
        .iter()
        .zip(times)
        .map(|(variant, mut times)| {
            times.sort();
            Row {
                label: format!("{label}, {}", variant.label),
                peer: None,
                median: times[times.len() / 2],
                min: times[0],
            }
        })
        .collect();
    for row in &rows {
        eprintln!(
            "{:<44} median {:>9.1?}  min {:>9.1?}",
            row.label, row.median, row.min
        );
    }
    rows
}

fn image(b: usize, s: usize, seed: u64, device: &Device) -> Tensor<4> {
    let mut rng = SeededRng::new(seed);
    let v: Vec<f32> = (0..b * s * s).map(|_| rng.uniform() as f32).collect();
    Tensor::from_data(TensorData::new(v, [b, 1, s, s]), device)
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let preset = std::env::var("BENCH_PRESET").unwrap_or_else(|_| "paper".into());
    let config = match preset.as_str() {
        "small" => ProbUNetConfig::small(),
        "tiny" => ProbUNetConfig::tiny(),
        _ => ProbUNetConfig::paper(),
    };
    let s = 128;
    let device = Device::flex();
    let model = ProbUNet::new_seeded(&config, 0, &device);
    let x = image(1, s, 1, &device);
    let m = config.latent_dim;
    let z = |n: usize| {
        Tensor::<2>::from_data(
            TensorData::new(SeededRng::new(n as u64).normals(n * m, 1.0), [n, m]),
            &device,
        )
    };
    let (z1, z16) = (z(1), z(16));
    let enc = model.encode(x.clone());
    let read = |t: Tensor<4>| {
        let _ = t.sum().into_scalar::<f32>();
    };

    let training_batch = |b: usize| Batch {
        images: image(b, s, 2, &device),
        masks: Tensor::<3, Int>::zeros([b, s, s], &device),
    };
    let loops = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
    };
    if let Some(n) = loops("BENCH_ENCODE_LOOP") {
        for _ in 0..n {
            read(model.encode(x.clone()).projection);
        }
        return;
    }
    if let Some(n) = loops("BENCH_TRAIN_LOOP") {
        let (batch, mut trainer) = (training_batch(8), Trainer::new(model, TrainerConfig::new()));
        for _ in 0..n {
            let _ = trainer.step(&batch).values();
        }
        return;
    }

    let mut rows = Vec::new();
    rows.push(time(
        (
            "(a) encode (U-Net + prior + fcomb projection)",
            Some("a_encode"),
        ),
        runs,
        || {
            let e = model.encode(x.clone());
            read(e.projection);
        },
        &device,
    ));
    rows.push(time(
        ("(b) 1 sample given (a), fast path", Some("b_sample1")),
        runs,
        || read(model.sample(&enc, z1.clone())),
        &device,
    ));
    rows.push(time(
        (
            "(c) 16 samples given (a), fast path, batched",
            Some("c_sample16_batched"),
        ),
        runs,
        || read(model.sample(&enc, z16.clone())),
        &device,
    ));
    rows.push(time(
        (
            "(c) 16 samples given (a), sample_n (fast path, one per call)",
            Some("c_alt_sample16_loop"),
        ),
        runs,
        || read(model.sample_n(&enc, 16, &mut SeededRng::new(3)).logits),
        &device,
    ));
    rows.push(time(
        (
            "(c) 16 samples given (a), fused head (margins, as the page decodes)",
            Some("c_sample16_batched"),
        ),
        runs,
        || {
            let margins = model.fcomb.margins(enc.projection.clone(), z16.clone());
            let _ = margins.sum().into_scalar::<f32>();
        },
        &device,
    ));
    rows.push(time(
        ("(c) 16 samples given (a), plain concat path", None),
        runs,
        || read(model.sample_plain(&enc, z16.clone())),
        &device,
    ));
    rows.push(time(
        ("(a)+(b) encode + 1 sample", None),
        runs,
        || {
            let e = model.encode(x.clone());
            read(model.sample(&e, z1.clone()));
        },
        &device,
    ));
    rows.push(time(
        (
            "(a)+(c) encode + 16 samples (sample_n)",
            Some("c_total_encode_plus16"),
        ),
        runs,
        || {
            let e = model.encode(x.clone());
            read(model.sample_n(&e, 16, &mut SeededRng::new(3)).logits);
        },
        &device,
    ));
    rows.push(time(
        (
            "(a)+(c) encode + 16 samples, fused head",
            Some("c_total_encode_plus16"),
        ),
        runs,
        || {
            let e = model.encode(x.clone());
            let z = model.draw_prior(&e, 16, &mut SeededRng::new(3));
            let _ = model
                .fcomb
                .margins(e.projection, z)
                .sum()
                .into_scalar::<f32>();
        },
        &device,
    ));
    rows.extend(time_variants(
        "A/B (a) encode",
        &inference_variants(),
        runs,
        || read(model.encode(x.clone()).projection),
        &device,
    ));
    rows.extend(time_variants(
        "A/B (a)+(c) encode + 16 samples",
        &inference_variants(),
        runs,
        || {
            let e = model.encode(x.clone());
            read(model.sample_n(&e, 16, &mut SeededRng::new(3)).logits);
        },
        &device,
    ));
    if std::env::var("BENCH_SKIP_SLOW").is_ok() {
        return finish(&preset, s, runs, &rows);
    }
    rows.push(time(
        ("(d) naive: 16 full forwards at batch 1", Some("d_naive16")),
        runs.div_ceil(4).max(3),
        || {
            for i in 0..16 {
                let features = model.unet.forward(x.clone());
                let prior = model.prior.forward(x.clone());
                let zi = prior.mu.clone() + prior.sigma() * z16.clone().narrow(0, i, 1);
                read(model.fcomb.forward_concat(features, zi));
            }
        },
        &device,
    ));
    for b in [1usize, 8] {
        let batch = training_batch(b);
        let mut trainer = Trainer::new(model.clone(), TrainerConfig::new());
        let label = format!("(e) training step, batch {b}");
        let peer = if b == 1 { "e_train_b1" } else { "e_train_b8" };
        rows.push(time(
            (&label, Some(peer)),
            if b == 1 {
                runs
            } else {
                runs.div_ceil(3).max(3)
            },
            || {
                let _ = trainer.step(&batch).values();
            },
            &device,
        ));
        if b == 1 {
            rows.extend(time_variants(
                "A/B (e) training step, batch 1",
                &[Variant::SHIPPED, BURN_CONVOLUTIONS],
                runs.div_ceil(2).max(3),
                || {
                    let _ = trainer.step(&batch).values();
                },
                &device,
            ));
        }
    }

    finish(&preset, s, runs, &rows);
}

/// Prints the table (and writes the JSON when `BENCH_JSON` is set).
fn finish(preset: &str, s: usize, runs: usize, rows: &[Row]) {
    println!(
        "\nprobunet native benchmark: preset {preset}, {s}×{s}, burn flex (CPU), {runs} runs/row\n"
    );
    println!("| measurement | median | min |");
    println!("|---|---|---|");
    for row in rows {
        println!(
            "| {} | {:.1} ms | {:.1} ms |",
            row.label,
            ms(row.median),
            ms(row.min)
        );
    }
    let get = |i: usize| ms(rows[i].median);
    println!(
        "\n16 vs 1 sample given encode: {:.2}× batched, {:.2}× sample_n; encode+16 vs encode+1: {:.2}×",
        get(2) / get(1),
        get(3) / get(1),
        get(6) / get(5)
    );
    if let Ok(path) = std::env::var("BENCH_JSON") {
        write_json(&path, preset, s, runs, rows);
    }
}

/// The rows as JSON for `bench/report.mjs`.
fn write_json(path: &str, preset: &str, side: usize, runs: usize, rows: &[Row]) {
    let json = serde_json::json!({
        "unix_s": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        "preset": preset,
        "side": side,
        "runs": runs,
        "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "rows": rows.iter().map(|r| serde_json::json!({
            "label": r.label,
            "peer": r.peer,
            "median_ms": ms(r.median),
            "min_ms": ms(r.min),
        })).collect::<Vec<_>>(),
    });
    let path = std::path::Path::new(path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create the JSON's folder");
    }
    std::fs::write(path, serde_json::to_string_pretty(&json).unwrap()).expect("write BENCH_JSON");
    eprintln!("wrote {}", path.display());
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

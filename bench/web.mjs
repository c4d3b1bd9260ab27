// `make bench-web`: the page's own benchmark in headless Chromium, on the release build in dist/.
//
// Two things are timed:
// - page ready: navigation start → the shipped model usable (`#model-status[data-ready-ms]`),
//   a fresh browser context (no HTTP cache, no service worker) per run, on loopback;
// - the page's thread while fine-tuning runs in its worker (CPU backend): the longest gap
//   between 50 ms timer ticks over a 6-step run, BENCH_BLOCK_RUNS (default 3) runs, against
//   BLOCK_LIMIT_MS (a functional test would flake on a busy machine; here it is measured);
// - the model path the page runs (src/bench.rs, called as `probsegBench`): encode, 1 sample,
//   16 samples, encode + 16, one fine-tuning step; for the shipped `small` preset, the shipped
//   hierarchical model (no fine-tuning in the page) and the paper preset, on the CPU backend (and WebGPU when BENCH_WEBGPU=1: only meaningful with a
//   hardware adapter, which this machine lacks).
// Medians over BENCH_RUNS (default 10) timed runs after BENCH_WARMUP (default 3) untimed ones.
// Writes target/bench/web.json; bench/report.mjs turns it into BENCHMARKS.md's table.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  addLidcPairs,
  launchBrowser,
  longestBlockMs,
  repoRoot,
  startStaticServer,
  waitForModel,
  watchMainThread,
} from "../tests/e2e/harness.mjs";

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const READY_RUNS = Number(process.env.BENCH_READY_RUNS ?? RUNS);
const BLOCK_RUNS = Number(process.env.BENCH_BLOCK_RUNS ?? 3);
/** Runs per kernel and layer of the per-layer kernel benchmark (0: skip it). */
const KERNEL_RUNS = Number(process.env.BENCH_KERNEL_RUNS ?? 9);
/** The longest the page's thread may be blocked while the worker trains on the CPU. */
const BLOCK_LIMIT_MS = 300;
const backends = process.env.BENCH_WEBGPU === "1" ? ["cpu", "webgpu"] : ["cpu"];

// The model cases: the shipped preset at the page's crop and at the peers' 128², the paper
// preset at 128² (ONNX Runtime Web's configuration). Training: the page's batch of 4 for the
// shipped preset; batch 1 for the paper preset (as PyTorch's batch-1 step in the peers).
// BENCH_ONLY=paper (or small, hierarchical) keeps one preset's cases.
const cases = [
  { preset: "small", side: 64, train_runs: RUNS, train_batch: 4 },
  { preset: "small", side: 128, train_runs: 0, train_batch: 4 },
  { preset: "hierarchical", side: 64, train_runs: 0, train_batch: 1 },
  { preset: "paper", side: 128, train_runs: Number(process.env.BENCH_PAPER_TRAIN_RUNS ?? RUNS), train_batch: 1 },
].filter((c) => !process.env.BENCH_ONLY || c.preset === process.env.BENCH_ONLY);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = (xs) => ({ median_ms: median(xs), min_ms: xs.length ? Math.min(...xs) : null, runs: xs.length, times_ms: xs });

async function pageReady(server, backend) {
  const browser = await launchBrowser({ webgpu: backend === "webgpu" });
  const times = [];
  try {
    for (let run = 0; run < WARMUP + READY_RUNS; run++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${server.url}/?backend=${backend}`);
      await waitForModel(page);
      // The page stamps the moment the model became usable (ms since navigation start).
      const ms = Number(await page.getAttribute("#model-status", "data-ready-ms"));
      if (run >= WARMUP) times.push(ms);
      await context.close();
    }
  } finally {
    await browser.close();
  }
  return summary(times);
}

/** The longest main-thread block of each 6-step fine-tuning run in the worker (CPU backend). */
async function tuningBlock(server) {
  const browser = await launchBrowser({ webgpu: false });
  const times = [];
  try {
    for (let run = 0; run < BLOCK_RUNS; run++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${server.url}/?backend=cpu`);
      await waitForModel(page);
      await addLidcPairs(page, 6);
      await watchMainThread(page);
      await page.click("#tuning-start");
      await page.waitForSelector('#tuning-status[data-state="finished"]', { timeout: 540_000 });
      times.push(await longestBlockMs(page));
      await context.close();
    }
  } finally {
    await browser.close();
  }
  return { ...summary(times), limit_ms: BLOCK_LIMIT_MS, max_ms: Math.max(...times) };
}

async function modelPath(server, backend, options) {
  const browser = await launchBrowser({ webgpu: backend === "webgpu" });
  try {
    const page = await browser.newPage();
    page.on("pageerror", (error) => console.error(`page error: ${error}`));
    await page.goto(`${server.url}/?backend=${backend}`);
    await waitForModel(page);
    // The page fetches and decodes its teaching cases after the model: let that finish first.
    await page.waitForSelector('#demo-picker[data-all-cached="true"]', { timeout: 120_000 });
    await page.waitForFunction(() => typeof window.probsegBench === "function");
    const json = await page.evaluate(
      (o) => window.probsegBench(JSON.stringify(o)),
      { ...options, backend, runs: RUNS, warmup: WARMUP },
    );
    const raw = JSON.parse(json);
    const rows = {};
    for (const key of ["encode", "sample1", "sample16", "sample16_page", "sample16_layers", "encode_plus16", "train_step",
                       "encode_burn_conv", "encode_plus16_burn_conv", "encode_direct_conv", "encode_plus16_direct_conv",
                       "encode_f2_conv", "encode_plus16_f2_conv", "encode_workers", "encode_plus16_workers"]) {
      rows[key] = summary(raw[key]);
    }
    return { ...options, backend: raw.backend, parameters: raw.parameters, load_ms: raw.load_ms, timings: rows };
  } finally {
    await browser.close();
  }
}

/** Every model layer through our two 3×3 kernels and burn-flex's, in the page's wasm. */
async function kernelLayers(server) {
  const browser = await launchBrowser({ webgpu: false });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/?backend=cpu`);
    await waitForModel(page);
    await page.waitForFunction(() => typeof window.probsegKernelBench === "function");
    return JSON.parse(await page.evaluate((runs) => window.probsegKernelBench(runs), KERNEL_RUNS));
  } finally {
    await browser.close();
  }
}

const server = await startStaticServer();
const browser = await launchBrowser({ webgpu: false });
const result = {
  date: new Date().toISOString(),
  chromium: browser.version(),
  runs: RUNS,
  warmup: WARMUP,
  ready: {},
  cases: [],
};
await browser.close();
try {
  if (BLOCK_RUNS > 0) {
    result.tuning_block = await tuningBlock(server);
    const b = result.tuning_block;
    console.log(`longest main-thread block while fine-tuning (cpu, worker): median ${b.median_ms.toFixed(0)} ms, ` +
      `max ${b.max_ms.toFixed(0)} ms of ${b.runs} runs; limit ${b.limit_ms} ms: ${b.max_ms < b.limit_ms ? "within" : "OVER"}`);
  }
  if (KERNEL_RUNS > 0) {
    result.kernels = await kernelLayers(server);
    result.kernel_runs = KERNEL_RUNS;
    for (const l of result.kernels) {
      console.log(`${l.c_in}→${l.c_out}, ${l.side}²: burn ${l.burn_ms.toFixed(3)} ms, direct ${l.direct_ms.toFixed(3)} ms, ` +
        `Winograd F(2×2) ${l.winograd_ms.toFixed(3)} ms, F(4×4) ${l.winograd4_ms.toFixed(3)} ms (page uses ${l.chosen})`);
    }
  }
  for (const backend of backends) {
    result.ready[backend] = await pageReady(server, backend);
    console.log(`page ready (${backend}): median ${result.ready[backend].median_ms.toFixed(0)} ms`);
    for (const options of cases) {
      const row = await modelPath(server, backend, options);
      result.cases.push(row);
      const t = row.timings;
      const fmt = (s) => (s.median_ms == null ? "–" : `${s.median_ms.toFixed(1)} ms`);
      console.log(
        `${row.preset} ${row.side}² ${row.backend}: encode ${fmt(t.encode)}, 1 sample ${fmt(t.sample1)}, ` +
          `16 samples ${fmt(t.sample16)} (page chunks ${fmt(t.sample16_page)}, fcomb's layers ${fmt(t.sample16_layers)}), ` +
          `encode+16 ${fmt(t.encode_plus16)}, ` +
          `train step b${row.train_batch} ${fmt(t.train_step)}; burn-flex convolutions only: ` +
          `encode ${fmt(t.encode_burn_conv)}, encode+16 ${fmt(t.encode_plus16_burn_conv)}; direct kernel only: ` +
          `encode ${fmt(t.encode_direct_conv)}, encode+16 ${fmt(t.encode_plus16_direct_conv)}; F(2×2) for F(4×4): ` +
          `encode ${fmt(t.encode_f2_conv)}, encode+16 ${fmt(t.encode_plus16_f2_conv)}; two encode workers: ` +
          `encode ${fmt(t.encode_workers)}, encode+16 ${fmt(t.encode_plus16_workers)}`,
      );
    }
  }
} finally {
  await server.close();
}
const out = join(repoRoot, "target", "bench");
await mkdir(out, { recursive: true });
await writeFile(join(out, "web.json"), JSON.stringify(result, null, 2));
console.log(`wrote ${join(out, "web.json")}`);

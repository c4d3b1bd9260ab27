// Writes the benchmark tables into BENCHMARKS.md (between `<!-- bench:NAME -->` and
// `<!-- /bench:NAME -->` markers) from this run's JSON: target/bench/web.json (bench/web.mjs),
// target/bench/native.json (`make bench-native`) and the peers' results/*.json
// (../shared/peers run beside them in the same command; PEERS_DIR says where).
import { existsSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../tests/e2e/harness.mjs";

const peersDir = process.env.PEERS_DIR;
// How the peers' folder is named in BENCHMARKS.md (the home folder differs between machines).
const peersShown = peersDir ? peersDir.replace(process.env.HOME ?? "\0", "~") : "(peers not run)";
const read = (path) => (path && existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : null);
const web = read(join(repoRoot, "target", "bench", "web.json"));
const native = read(join(repoRoot, "target", "bench", "native.json"));
const peerBrowser = read(peersDir && join(peersDir, "results", "browser.json"));
const peerTorch = read(peersDir && join(peersDir, "results", "torch.json"));
const peerOrt = read(peersDir && join(peersDir, "results", "ort.json"));
const peerDate = (name) => {
  const path = peersDir && join(peersDir, "results", name);
  return path && existsSync(path) ? statSync(path).mtime.toISOString().slice(0, 16).replace("T", " ") : "–";
};

const ms = (v) => (v == null ? "–" : v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`);
const ratio = (a, b) => (a == null || b == null ? "–" : `${(a / b).toFixed(2)}×`);

function webTable() {
  if (!web) return null;
  const ort = peerBrowser?.configs?.find((c) => c.name === "wasm 1 thread (no COOP/COEP)")?.timings;
  const ort2 = peerBrowser?.configs?.find((c) => c.name === "wasm 2 threads (COOP/COEP)")?.timings;
  const lines = [
    `Run ${web.date.slice(0, 16).replace("T", " ")} UTC, ${web.chromium} headless, medians of ${web.runs} timed runs after ` +
      `${web.warmup} warm-up runs (min in brackets); ONNX Runtime Web from \`${peersShown}\` ` +
      `(results ${peerDate("browser.json")} UTC), same machine, same Chromium.`,
    "",
  ];
  for (const [backend, ready] of Object.entries(web.ready)) {
    lines.push(`Page ready (${backend}, navigation start → shipped model loaded, fresh context, loopback): ` +
      `**${ms(ready.median_ms)}** (min ${ms(ready.min_ms)}).`);
  }
  const block = web.tuning_block;
  if (block) {
    lines.push("", `Longest main-thread block while fine-tuning runs in its worker (CPU backend, 6 steps, ` +
      `${block.runs} runs): median **${ms(block.median_ms)}**, worst ${ms(block.max_ms)}; ` +
      `limit ${ms(block.limit_ms)}: ${block.max_ms < block.limit_ms ? "within" : "**over**"}.`);
  }
  lines.push("", "| model path (page code, `src/bench.rs`) | encode | 1 sample | 16 samples (one batch) | 16 samples (page: 2×8) | encode + 16 | 16 vs 1 sample | fine-tuning step |");
  lines.push("|---|---|---|---|---|---|---|---|");
  const cell = (s) => (s.median_ms == null ? "–" : `${ms(s.median_ms)} (${ms(s.min_ms)})`);
  for (const c of web.cases) {
    const t = c.timings;
    const train = c.train_runs ? `${cell(t.train_step)}, batch ${c.train_batch}` : "–";
    lines.push(`| ${c.preset} (${(c.parameters / 1e6).toFixed(2)} M), ${c.side}², ${c.backend} | ${cell(t.encode)} | ${cell(t.sample1)} | ` +
      `${cell(t.sample16)} | ${cell(t.sample16_page)} | ${cell(t.encode_plus16)} | ${ratio(t.sample16.median_ms, t.sample1.median_ms)} | ${train} |`);
  }
  const row = (name, t) => t && lines.push(`| ONNX Runtime Web ${name}, paper, 128² | ${cell(t.a_encode)} | ${cell(t.b_sample1)} | ` +
    `${cell(t.c_sample16_batched)} | – | ${cell(t.c_total_encode_plus16)} | ${ratio(t.c_sample16_batched.median_ms, t.b_sample1.median_ms)} | – |`);
  row("wasm, 1 thread", ort);
  row("wasm, 2 threads (COOP/COEP)", ort2);
  // Runs from before the encode workers existed have no worker rows.
  for (const c of web.cases.filter((c) => c.timings.encode_workers?.median_ms != null)) {
    const t = c.timings;
    lines.push(`| ${c.preset}, ${c.side}², ${c.backend}, **two encode workers** (16 latents 8 + 8) | ${cell(t.encode_workers)} | – | – | – | ` +
      `${cell(t.encode_plus16_workers)} | – | – |`);
  }
  const ab = web.cases.filter((c) => c.backend === "cpu" && c.timings.encode_direct_conv?.median_ms != null);
  if (ab.length) {
    lines.push("", "Kernel A/B in the same runs (CPU backend; each variant right after the shipped one):", "",
      "| model path | encode: shipped kernels | F(2×2) for F(4×4) | direct 3×3 only | burn-flex only | encode + 16: shipped | F(2×2) for F(4×4) | direct only | burn-flex only |",
      "|---|---|---|---|---|---|---|---|---|");
    for (const c of ab) {
      const t = c.timings;
      // Runs from before F(4×4) existed have no F(2×2)-only rows.
      const f2 = (s) => (s?.median_ms == null ? "–" : cell(s));
      lines.push(`| ${c.preset}, ${c.side}² | ${cell(t.encode)} | ${f2(t.encode_f2_conv)} | ${cell(t.encode_direct_conv)} | ` +
        `${cell(t.encode_burn_conv)} | ${cell(t.encode_plus16)} | ${f2(t.encode_plus16_f2_conv)} | ` +
        `${cell(t.encode_plus16_direct_conv)} | ${cell(t.encode_plus16_burn_conv)} |`);
    }
  }
  // Runs from before the fused fcomb head have no layer-path row.
  const fcomb = web.cases.filter((c) => c.backend === "cpu" && c.timings.sample16_layers?.median_ms != null);
  if (fcomb.length) {
    lines.push("", "Sampling A/B in the same runs (CPU backend, 16 latents in one batch, masks read back):", "",
      "| model path | fused fcomb head (shipped) | fcomb's layers through burn | layers / fused |", "|---|---|---|---|");
    for (const c of fcomb) {
      const t = c.timings;
      lines.push(`| ${c.preset}, ${c.side}² | ${cell(t.sample16)} | ${cell(t.sample16_layers)} | ` +
        `${ratio(t.sample16_layers.median_ms, t.sample16.median_ms)} |`);
    }
  }
  if (web.kernels?.length) {
    lines.push("", `Per layer in the page's wasm (\`probsegKernelBench\`, src/kernel_bench.rs; one image, medians of ${web.kernel_runs ?? "?"} runs ` +
      "per kernel, interleaved; GFLOP/s counted as the direct convolution's multiply-adds so the columns compare):", "",
      "| layer (c_in→c_out, side) | burn-flex conv2d + relu | direct | Winograd F(2×2) | F(4×4) | direct GFLOP/s | F(2×2) GFLOP/s | F(4×4) GFLOP/s | the page uses |",
      "|---|---|---|---|---|---|---|---|---|");
    for (const l of web.kernels) {
      const gflops = (t) => (2 * l.c_in * l.c_out * 9 * l.side * l.side / (t * 1e6)).toFixed(1);
      const fine = (v) => `${v.toFixed(v < 1 ? 3 : 2)} ms`;
      // Runs from before F(4×4) existed have no `winograd4_ms`.
      const f4 = (f) => (l.winograd4_ms == null ? "–" : f(l.winograd4_ms));
      lines.push(`| ${l.c_in}→${l.c_out}, ${l.side}² | ${fine(l.burn_ms)} | ${fine(l.direct_ms)} | ${fine(l.winograd_ms)} | ` +
        `${f4(fine)} | ${gflops(l.direct_ms)} | ${gflops(l.winograd_ms)} | ${f4(gflops)} | ${l.chosen} |`);
    }
  }
  const paper = web.cases.find((c) => c.preset === "paper" && c.backend === "cpu");
  if (paper && ort) {
    const ours = paper.timings.encode_plus16.median_ms;
    lines.push("", `Paper preset, CPU, encode + 16 samples: ours ${ms(ours)} vs ONNX Runtime Web 1 thread ` +
      `${ms(ort.c_total_encode_plus16.median_ms)} = **${ratio(ours, ort.c_total_encode_plus16.median_ms)}** (goal ≤ 0.8×); ` +
      `encode alone ${ratio(paper.timings.encode.median_ms, ort.a_encode.median_ms)} (goal ≤ 1.0×); encode + 16 against ` +
      `its two threads ${ort2 ? ratio(ours, ort2.c_total_encode_plus16.median_ms) : "–"}.`);
    const two = paper.timings.encode_plus16_workers?.median_ms;
    if (two != null && ort2) {
      lines.push("", `Paper preset, CPU, two encode workers: encode + 16 samples ${ms(two)} vs ONNX Runtime Web 2 threads ` +
        `${ms(ort2.c_total_encode_plus16.median_ms)} = **${ratio(two, ort2.c_total_encode_plus16.median_ms)}** (goal ≤ 1.0×); ` +
        `encode alone ${ms(paper.timings.encode_workers.median_ms)} vs ${ms(ort2.a_encode.median_ms)} = ` +
        `${ratio(paper.timings.encode_workers.median_ms, ort2.a_encode.median_ms)}.`);
    }
  }
  return lines.join("\n");
}

function nativeTable() {
  if (!native) return null;
  const torch = peerTorch?.timings;
  const ort = peerOrt?.timings;
  const lines = [
    `Run ${new Date(native.unix_s * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC, preset ${native.preset}, ${native.side}², batch 1, burn flex (CPU, ${native.threads} threads), ` +
      `medians of ${native.runs} runs (min in brackets). PyTorch and onnxruntime from \`${peersShown}\` ` +
      `(results ${peerDate("torch.json")} UTC), same machine.`,
    "",
    "| measurement | ours (burn flex) | PyTorch eager, 2 threads | ours / PyTorch | onnxruntime CPU, 2 threads |",
    "|---|---|---|---|---|",
  ];
  for (const r of native.rows) {
    const t = r.peer && torch?.[r.peer];
    const o = r.peer && ort?.[r.peer];
    lines.push(`| ${r.label} | ${ms(r.median_ms)} (${ms(r.min_ms)}) | ${t ? `${ms(t.median_ms)} (${ms(t.min_ms)})` : "–"} | ` +
      `${t ? ratio(r.median_ms, t.median_ms) : "–"} | ${o ? ms(o.median_ms) : "–"} |`);
  }
  return lines.join("\n");
}

// `node bench/report.mjs [web] [native]`: the tables this command measured (default: both).
// The others keep what their own run wrote: every command reruns the peers, and rewriting a
// table now would pair today's peer figures with an older run's own.
const asked = process.argv.slice(2);
const measured = (name) => asked.length === 0 || asked.includes(name);
let doc = readFileSync(join(repoRoot, "BENCHMARKS.md"), "utf8");
for (const [name, table] of [["web", webTable()], ["native", nativeTable()]]) {
  if (!table || !measured(name)) continue;
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const re = new RegExp(`${start}[\\s\\S]*?${end}`);
  if (!re.test(doc)) throw new Error(`BENCHMARKS.md lacks the ${start} … ${end} markers`);
  doc = doc.replace(re, `${start}\n${table}\n${end}`);
  console.log(table + "\n");
}
writeFileSync(join(repoRoot, "BENCHMARKS.md"), doc);

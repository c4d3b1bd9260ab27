// The page's benchmark entry point (`probsegBench`, src/bench.rs) that `make bench-web` times:
// one quick run of each measurement on the CPU backend, so the benchmark cannot rot unseen. It
// is in the benchmark build only (`--features bench`, target/bench-dist); the shipped page,
// whose wasm budget is checked here too, leaves it out.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { startStaticServer, launchBrowser, openApp, waitForModel, distDir, repoRoot } from "./harness.mjs";

const benchDistDir = process.env.PROBSEG_BENCH_DIST ?? join(repoRoot, "target", "bench-dist");
let server;
before(async () => {
  server = await startStaticServer(benchDistDir);
});
after(async () => {
  await server?.close();
});

test("probsegBench times the page's model path and reports page ready", async () => {
  const browser = await launchBrowser({ webgpu: false });
  try {
    const { page, consoleErrors } = await openApp(browser, `${server.url}/?backend=cpu`);
    await waitForModel(page);
    const readyMs = Number(await page.getAttribute("#model-status", "data-ready-ms"));
    assert.ok(readyMs > 0 && readyMs < 120_000, `page ready stamp: ${readyMs}`);
    const options = { preset: "small", backend: "cpu", side: 64, runs: 2, warmup: 1, train_runs: 1, train_batch: 2 };
    const result = JSON.parse(await page.evaluate((o) => window.probsegBench(JSON.stringify(o)), options));
    assert.equal(result.backend, "cpu");
    assert.ok(result.parameters > 1e6 && result.parameters < 2e6, `the shipped small preset: ${result.parameters}`);
    for (const key of ["encode", "sample1", "sample16", "sample16_page", "encode_plus16"]) {
      assert.equal(result[key].length, 2, key);
      assert.ok(result[key].every((ms) => ms > 0), `${key}: ${result[key]}`);
    }
    assert.equal(result.train_step.length, 1);
    assert.ok(result.train_step[0] > 0);
    // The per-layer kernel benchmark: every layer timed through all four kernels, and the
    // page's wasm choosing each of its own three somewhere (F(4×4) on the large layers).
    const layers = JSON.parse(await page.evaluate(() => window.probsegKernelBench(1)));
    assert.ok(layers.length > 10, `${layers.length} layers`);
    for (const l of layers) {
      assert.ok(l.burn_ms > 0 && l.direct_ms > 0 && l.winograd_ms > 0 && l.winograd4_ms > 0, JSON.stringify(l));
      assert.ok(["Direct", "Winograd", "Winograd4"].includes(l.chosen), JSON.stringify(l));
    }
    const chosen = (side) => layers.find((l) => l.side === side).chosen;
    assert.deepEqual([chosen(128), chosen(16), chosen(8), chosen(4)], ["Winograd4", "Winograd", "Winograd", "Direct"]);
    // A bad request is refused with a message, not a hang.
    await assert.rejects(
      page.evaluate((o) => window.probsegBench(JSON.stringify(o)), { ...options, preset: "huge" }),
      /unknown preset/,
    );
    assert.deepEqual(consoleErrors, []);
  } finally {
    await browser.close();
  }
});

test("the page's wasm stays within its budget: 4 MB gzipped (issue 8)", async () => {
  const wasm = (await readdir(distDir)).filter((f) => f.endsWith(".wasm"));
  assert.equal(wasm.length, 1, `one wasm in dist/: ${wasm}`);
  const bytes = await readFile(join(distDir, wasm[0]));
  const gzipped = gzipSync(bytes, { level: 9 }).length;
  console.log(`wasm: ${bytes.length} bytes, ${gzipped} gzipped (-9)`);
  assert.ok(gzipped <= 4_000_000, `${gzipped} bytes gzipped`);
});

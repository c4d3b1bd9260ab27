// The page picks the right backend with and without a WebGPU adapter, and both compute the
// same smoke-test result.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStaticServer, launchBrowser, openApp, waitForBackend, screenshot } from "./harness.mjs";

let server;
const results = {};

before(async () => {
  server = await startStaticServer();
});
after(async () => {
  await server?.close();
});

async function run(name, { webgpu, query }) {
  const browser = await launchBrowser({ webgpu });
  try {
    const { page, consoleErrors } = await openApp(browser, `${server.url}/${query}`);
    const report = await waitForBackend(page);
    await screenshot(page, name);
    assert.equal(report.error, null, `smoke test failed: ${report.error}`);
    assert.deepEqual(consoleErrors, []);
    assert.match(await page.locator("h1").textContent(), /ProbSeg/);
    results[name] = report;
    return report;
  } finally {
    await browser.close();
  }
}

test("without a WebGPU adapter the page falls back to the CPU and says why", async () => {
  const report = await run("cpu-no-adapter", { webgpu: false, query: "" });
  assert.equal(report.backend, "cpu");
  assert.match(report.reason, /no adapter|does not offer WebGPU/);
  assert.ok(report.meanForeground > 0 && report.meanForeground < 1, JSON.stringify(report));
});

test("a software adapter counts as no GPU unless forced", async () => {
  const report = await run("cpu-software-adapter", { webgpu: true, query: "" });
  assert.equal(report.backend, "cpu");
  assert.match(report.reason, /software WebGPU adapter/);
});

test("forcing WebGPU runs on the SwiftShader adapter", async () => {
  const report = await run("webgpu-forced", { webgpu: true, query: "?backend=webgpu" });
  assert.equal(report.backend, "webgpu");
  assert.match(report.reason, /WebGPU forced on a software adapter/);
});

test("WebGPU and the CPU compute the same result", () => {
  const cpu = results["cpu-no-adapter"];
  const gpu = results["webgpu-forced"];
  assert.ok(cpu && gpu, "both runs must have completed");
  assert.ok(Math.abs(cpu.meanForeground - gpu.meanForeground) < 1e-4, `${cpu.meanForeground} vs ${gpu.meanForeground}`);
  const relative = Math.abs(cpu.absLogitSum - gpu.absLogitSum) / cpu.absLogitSum;
  assert.ok(relative < 1e-4, `Σ|logit| ${cpu.absLogitSum} vs ${gpu.absLogitSum}`);
});

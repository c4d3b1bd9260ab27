// The two encode workers (src/encode_workers/): on the CPU backend the page hands the model's
// encode (U-Net on one worker, prior net on the other) and its samples to them, and shows
// exactly what its own thread would have shown. A dead worker costs nothing but speed; WebGPU
// starts none.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStaticServer, launchBrowser, openApp, waitForBackend, waitForModel, waitForAnalysis, openDemo } from "./harness.mjs";

let server;
before(async () => {
  server = await startStaticServer();
});
after(async () => {
  await server?.close();
});

const encodeWorkers = (page) => page.workers().filter((w) => w.url().includes("encode-worker.js"));
const elsewhere = (page) => page.getAttribute("#timings", "data-elsewhere");

/** Opens a teaching case and waits for its own analysis (each one draws a new gallery); what
 *  the page shows, with every sample's and latent-map cell's pixels, so two runs compare mask
 *  by mask, not only by their counts. */
async function openAndAnalyse(page, name) {
  const old = await page.$("#gallery");
  await openDemo(page, name);
  if (old) await page.waitForFunction((gallery) => !gallery.isConnected, old, { timeout: 60_000 });
  const shown = await waitForAnalysis(page);
  const masks = await page.evaluate(() =>
    [...document.querySelectorAll("#gallery canvas, #latent-map canvas")].map((canvas) => canvas.toDataURL()),
  );
  return { ...shown, masks };
}

/** Opens LIDC teaching cases, alternating between two, until the workers encoded one (they
 *  start and load the model after the page is ready); returns the last case's name. */
async function untilOnWorkers(page) {
  // A cold machine compiles the workers' wasm for several seconds: allow about a minute.
  for (let i = 0; i < 60; i++) {
    const name = i % 2 === 0 ? "lidc-0794" : "lidc-0450";
    await openAndAnalyse(page, name);
    if ((await elsewhere(page)) === "true") return name;
    await page.waitForTimeout(500);
  }
  assert.fail("the encode workers never took the work");
}

test("the encode workers give exactly what the page's own thread gives (cpu)", async () => {
  const browser = await launchBrowser({ webgpu: false });
  try {
    // The page's own thread, workers off.
    const here = await openApp(browser, `${server.url}/?workers=off`);
    assert.equal((await waitForBackend(here.page)).backend, "cpu");
    await waitForModel(here.page);
    const local = await openAndAnalyse(here.page, "lidc-0450");
    assert.equal(await elsewhere(here.page), "false");
    assert.equal(encodeWorkers(here.page).length, 0, "?workers=off starts none");
    assert.deepEqual(here.consoleErrors, []);
    await here.context.close();

    const { page, consoleErrors } = await openApp(browser, `${server.url}/`);
    await waitForModel(page);
    const last = await untilOnWorkers(page);
    assert.equal(encodeWorkers(page).length, 2);
    // Open the case anew (the picker ignores choosing the case already shown).
    if (last === "lidc-0450") await openAndAnalyse(page, "lidc-0794");
    const remote = await openAndAnalyse(page, "lidc-0450");
    assert.equal(await elsewhere(page), "true");
    assert.match(await page.textContent("#timings"), /encode \d+ ms on two workers/);
    assert.ok(local.masks.length >= 16 + 49, `${local.masks.length} mask canvases`);
    assert.deepEqual(remote, local, "the same samples, uncertainty and latent map, pixel for pixel");

    // A worker that dies: the page says so in the console (a warning) and computes itself.
    await encodeWorkers(page)[1].evaluate(() => setTimeout(() => { throw new Error("simulated worker crash"); }));
    await page.waitForTimeout(500);
    await openAndAnalyse(page, "lidc-0794");
    const after = await openAndAnalyse(page, "lidc-0450");
    assert.equal(await elsewhere(page), "false", "the page's own thread took over");
    assert.deepEqual(after, local);
    // The crash we caused may be logged from the worker; nothing else may be.
    assert.deepEqual(consoleErrors.filter((e) => !e.includes("simulated worker crash")), []);
  } finally {
    await browser.close();
  }
});

test("an encode worker that stops answering costs a wait, not the result (cpu)", async () => {
  const browser = await launchBrowser({ webgpu: false });
  try {
    // Workers that start and take the model, then never answer: the page must give up on them
    // (after its 15 s limit) and compute itself. No service worker: it would fetch past the route.
    const context = await browser.newContext({ serviceWorkers: "block" });
    const page = await context.newPage();
    const consoleErrors = [];
    const warnings = [];
    page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
    page.on("console", (m) => m.type() === "warning" && warnings.push(m.text()));
    const silent = `self.onmessage = () => {
      self.postMessage({ report: JSON.stringify({ kind: "ready" }) });
      self.onmessage = (event) => {
        if (JSON.parse(event.data.request).kind !== "load") return;
        self.loaded = true;
        self.postMessage({ report: JSON.stringify({ kind: "loaded" }) });
      };
    };`;
    await page.route("**/encode-worker.js", (route) => route.fulfill({ contentType: "text/javascript", body: silent }));
    await page.goto(`${server.url}/`);
    await waitForModel(page);
    for (let i = 0; i < 100 && encodeWorkers(page).length < 2; i++) await page.waitForTimeout(100);
    for (const worker of encodeWorkers(page)) {
      for (let i = 0; i < 100 && !(await worker.evaluate(() => self.loaded === true)); i++) await page.waitForTimeout(100);
    }
    const started = Date.now();
    const shown = await openAndAnalyse(page, "lidc-0450");
    assert.ok(Date.now() - started >= 14_000, "the page waited for the workers first");
    assert.equal(await elsewhere(page), "false");
    assert.ok(shown.samples === 16 && shown.latentCells === 49, JSON.stringify(shown));
    assert.ok(warnings.some((w) => /did not answer within 15 s/.test(w)), warnings.join("\n"));
    assert.deepEqual(consoleErrors, []);
  } finally {
    await browser.close();
  }
});

test("WebGPU starts no encode workers", async () => {
  const browser = await launchBrowser({ webgpu: true });
  try {
    const { page, consoleErrors } = await openApp(browser, `${server.url}/?backend=webgpu`);
    assert.equal((await waitForBackend(page)).backend, "webgpu");
    await waitForModel(page);
    await openAndAnalyse(page, "lidc-0450");
    await page.waitForTimeout(1000);
    assert.equal(encodeWorkers(page).length, 0);
    assert.equal(await elsewhere(page), "false");
    assert.deepEqual(consoleErrors, []);
  } finally {
    await browser.close();
  }
});

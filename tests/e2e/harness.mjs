// Shared pieces of the end-to-end tests: a static server for the release build, Debian's
// Chromium through playwright-core, and a page opener that records every request.
import { createServer } from "node:http";
import { readFile, readdir, stat, mkdir } from "node:fs/promises";
import { extname, join, normalize, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, "..", "..");
export const distDir = process.env.PROBSEG_DIST ?? join(repoRoot, "dist");
export const screenshotDir = join(repoRoot, "target", "e2e-screenshots");

const mimeTypes = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".wasm": "application/wasm",
  ".css": "text/css",
  ".json": "application/json",
  ".png": "image/png",
  ".bin": "application/octet-stream",
  ".mpk": "application/octet-stream",
  ".bpk": "application/octet-stream",
  ".dcm": "application/dicom",
  ".svg": "image/svg+xml",
};

/**
 * Serves `root` on 127.0.0.1 (a free port); counts every request it receives. `root` may be a
 * function, asked at each request: a test can deploy another build at the same origin.
 * `prefix` (e.g. "/probseg") serves it under that path only, as a GitHub Pages project is.
 */
export async function startStaticServer(root = distDir, { prefix = "" } = {}) {
  const hits = [];
  const rootNow = typeof root === "function" ? root : () => root;
  const server = createServer(async (request, response) => {
    hits.push(request.url);
    const root = rootNow();
    const full = decodeURIComponent(new URL(request.url, "http://x").pathname);
    if (!full.startsWith(`${prefix}/`)) {
      response.writeHead(404).end("not found");
      return;
    }
    const path = full.slice(prefix.length);
    let file = normalize(join(root, path));
    if (!file.startsWith(root)) {
      response.writeHead(403).end();
      return;
    }
    try {
      if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      const body = await readFile(file);
      response.writeHead(200, {
        "Content-Type": mimeTypes[extname(file)] ?? "application/octet-stream",
        "Cache-Control": "no-store",
      });
      response.end(body);
    } catch {
      response.writeHead(404).end("not found");
    }
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise((done) => server.close(done)),
  };
}

/** Debian's Chromium, headless, fresh profile; `webgpu` adds the flag that exposes SwiftShader. */
export async function launchBrowser({ webgpu }) {
  const args = [
    "--no-sandbox",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ];
  if (webgpu) args.push("--enable-unsafe-webgpu");
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args,
  });
}

/**
 * Opens the app at `url` and records every request the page makes (including those the CSP
 * blocks, which Chromium reports as failed requests), plus console errors and CSP violations.
 */
export async function openApp(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const requests = [];
  const consoleErrors = [];
  page.on("request", (request) => requests.push(request.url()));
  page.on("console", (message) => {
    // The location names the resource when the error is a failed load.
    if (message.type() === "error") consoleErrors.push(`${message.text()} (${message.location().url})`);
  });
  page.on("pageerror", (error) => consoleErrors.push(String(error)));
  await page.goto(url);
  return { page, context, requests, consoleErrors };
}

/** Waits until the backend panel shows a result (the smoke test ran or failed). */
export async function waitForBackend(page, timeout = 120_000) {
  await page.waitForSelector("#backend-status[data-backend]", { timeout });
  await page.waitForSelector("#probe-result, #probe-error", { timeout });
  return page.evaluate(() => {
    const status = document.querySelector("#backend-status");
    const result = document.querySelector("#probe-result");
    const error = document.querySelector("#probe-error");
    return {
      backend: status.dataset.backend,
      reason: document.querySelector("#backend-reason")?.textContent ?? "",
      meanForeground: result ? Number(result.dataset.meanForeground) : NaN,
      absLogitSum: result ? Number(result.dataset.absLogitSum) : NaN,
      error: error?.textContent ?? null,
    };
  });
}

/** The shared fixtures (real DICOM/PNG files), beside the repository. */
export const fixturesDir = process.env.PROBSEG_FIXTURES ?? resolve(repoRoot, "..", "shared", "fixtures");

/** Drops the fixture `relativePath` onto the page, as a person dragging the file would. */
export async function dropFixture(page, relativePath) {
  const bytes = await readFile(join(fixturesDir, relativePath));
  const name = relativePath.split("/").pop();
  const dataTransfer = await page.evaluateHandle(
    ({ base64, name }) => {
      const binary = atob(base64);
      const data = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) data[i] = binary.charCodeAt(i);
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], name));
      return transfer;
    },
    { base64: bytes.toString("base64"), name },
  );
  await page.dispatchEvent(".drop-target", "drop", { dataTransfer });
}

/** Adds lidc0221's five slices (four raters each) as fine-tuning pairs; sets the run's steps
 *  and learning rate. */
export async function addLidcPairs(page, steps) {
  const dir = join(fixturesDir, "multirater", "lidc0221");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".png")).map((f) => join(dir, f));
  await page.setInputFiles("#tuning-files", files);
  await page.waitForFunction(() => document.querySelectorAll(".tuning-pair").length === 5);
  await page.fill("#tuning-steps", String(steps));
  await page.dispatchEvent("#tuning-steps", "change");
  await page.selectOption("#tuning-lr", "0.0003");
}

/** Starts timing the page's main thread: the longest gap between 50 ms timer ticks, counted
 *  once the fine-tuning run has done its first step (which also warms up allocations). Read it
 *  with `longestBlockMs`. */
export async function watchMainThread(page) {
  await page.evaluate(() => {
    window.tickGaps = { last: performance.now(), max: 0 };
    setInterval(() => {
      const now = performance.now();
      const step = Number(document.querySelector("#tuning-progress")?.dataset.step ?? 0);
      if (step >= 1) window.tickGaps.max = Math.max(window.tickGaps.max, now - window.tickGaps.last);
      window.tickGaps.last = now;
    }, 50);
  });
}

export const longestBlockMs = (page) => page.evaluate(() => window.tickGaps.max);

/** Switches to a shipped model (`lidc`, `synthetic`) with the page's menu and waits for it. */
export async function useModel(page, id) {
  await page.selectOption("#model-choice", id);
  await page.waitForSelector(`#model-choice[data-model="${id}"]`, { timeout: 60_000 });
  await waitForModel(page);
}

/** Waits until the shipped model has loaded. */
export async function waitForModel(page, timeout = 180_000) {
  await page.waitForSelector('#model-status[data-state="ready"]', { timeout });
}

/** Opens the first built-in teaching case whose menu entry names `kind`. */
export async function openDemo(page, kind) {
  const findOption = (kind) =>
    [...document.querySelectorAll("#demo-picker option")].find((o) => o.textContent.includes(kind))?.value ?? null;
  await page.waitForFunction(findOption, kind, { timeout: 60_000 }).catch(() => {});
  const value = await page.evaluate(findOption, kind);
  assert.ok(value, `a teaching case of kind ${kind}`);
  await page.selectOption("#demo-picker", value);
}

/**
 * Waits until the model has sampled the image on screen and drawn its explorer (the latent
 * map, or the hierarchical model's scale rows), then reads what the page shows.
 */
export async function waitForAnalysis(page, timeout = 180_000) {
  await page.waitForSelector("#gallery[data-count]", { timeout });
  await page.waitForSelector("#latent-map[data-cells], #scale-rows[data-rows]", { timeout });
  await page.waitForSelector('#work-status[data-state="idle"]', { timeout });
  return page.evaluate(() => {
    const gallery = document.querySelector("#gallery");
    const viewer = document.querySelector("#viewer");
    const stats = document.querySelector("#uncertainty-stats");
    return {
      imageWidth: Number(viewer.dataset.imageWidth),
      imageHeight: Number(viewer.dataset.imageHeight),
      samples: Number(gallery.dataset.count),
      tiles: document.querySelectorAll("#gallery .sample-tile canvas").length,
      distinct: Number(gallery.dataset.distinct),
      empty: Number(gallery.dataset.empty),
      emptyNote: document.querySelector("#empty-note")?.textContent ?? null,
      uncertainPixels: Number(stats.dataset.uncertainPixels),
      latentCells: document.querySelectorAll("#latent-map .latent-cell canvas").length,
      scaleRows: [...document.querySelectorAll("#scale-rows .scale-row")].map((row) => ({
        masks: row.querySelectorAll("canvas").length,
        distinct: Number(row.dataset.distinct),
      })),
      message: document.querySelector("#message")?.textContent ?? null,
    };
  });
}

export async function screenshot(page, name) {
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

/** Requests whose origin differs from `origin` (data: and blob: URLs stay in the page). */
export function foreignRequests(requests, origin) {
  return requests.filter((url) => {
    if (url.startsWith("data:") || url.startsWith("blob:")) return false;
    return new URL(url).origin !== origin;
  });
}

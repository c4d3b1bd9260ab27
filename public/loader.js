// Starts the wasm app. Trunk writes the hashed file names into this script tag's data
// attributes (Trunk.toml `pattern_script`); keeping the loader external lets the page's
// Content-Security-Policy forbid inline scripts.

// Offline use once loaded: a service worker (sw.js) keeps this origin's files. It is installed
// before the app starts so the wasm and the weights are fetched through it, and it is handed
// the few files the page fetched before it existed. Never blocks the app for long.
async function enableOffline(appFiles) {
  if (!("serviceWorker" in navigator)) return;
  const worker = navigator.serviceWorker;
  const controlled = worker.controller
    ? Promise.resolve()
    : new Promise((done) => worker.addEventListener("controllerchange", done, { once: true }));
  await worker.register("sw.js");
  await Promise.race([controlled, new Promise((done) => setTimeout(done, 3000))]);
  // The wasm may still be arriving through a preload the worker cannot see: name it explicitly.
  const loaded = performance.getEntriesByType("resource").map((entry) => entry.name);
  const files = [location.href, ...appFiles, ...loaded].map((file) => new URL(file, location.href).href);
  worker.controller?.postMessage({ cache: [...new Set(files)] });
}

const tag = document.querySelector("script[data-wasm-js]");
// Trunk writes the build's file names relative to the page (Trunk.toml `public_url = "./"`), so
// the site works under any path (a GitHub Pages project, a sub-folder). Made absolute here,
// once, for every reader: `import()` below resolves against this script, not the page, and the
// fine-tuning worker reads the same attributes from its own folder.
for (const key of ["wasmJs", "wasm", "weights"]) {
  tag.dataset[key] = new URL(tag.dataset[key], document.baseURI).href;
}
// The shipped weights download beside the wasm instead of after it (the app takes this promise,
// src/workbench/mod.rs): page ready is wasm compile + model load, not their sum with a fetch.
window.probsegWeights = fetch(tag.dataset.weights).then((response) =>
  response.ok ? response.arrayBuffer() : Promise.reject(new Error(`HTTP ${response.status}`)),
);
window.probsegWeights.catch(() => {}); // the app reports a failure when it fetches again
try {
  // The workers' scripts are fetched only when a worker starts: keep them for offline use too.
  const workers = ["wasm-worker.js", "tuning-worker.js", "encode-worker.js"].map((file) => new URL(file, import.meta.url).href);
  await enableOffline([tag.dataset.wasmJs, tag.dataset.wasm, tag.dataset.weights, ...workers]);
} catch (error) {
  console.warn("offline use unavailable:", error);
}

const app = await import(tag.dataset.wasmJs);
const wasm = await app.default({ module_or_path: tag.dataset.wasm });
// The page's own benchmark (src/bench.rs): only the benchmark build has it (`make bench-web`,
// built with `--features bench` into target/bench-dist); in the shipped page this is undefined.
window.probsegBench = app.probsegBench;
window.probsegKernelBench = app.probsegKernelBench;
dispatchEvent(new CustomEvent("TrunkApplicationStarted", { detail: { wasm } }));

// The fine-tuning worker: runs the training loop off the page's thread, in a second
// instance of the app's own wasm, started without its UI (src/tuning/worker/inside.rs). The page's
// first message names the wasm's files and carries the run; control messages (pause, cancel)
// follow once the worker has said it started.
self.onmessage = async (event) => {
  self.onmessage = null;
  const fail = (error) => self.postMessage({ report: JSON.stringify({ kind: "failed", message: String(error?.message ?? error) }) });
  // A panic in the wasm surfaces as an uncaught error: the page must hear it, not wait forever.
  self.addEventListener("error", (e) => fail(e.message ?? e));
  self.addEventListener("unhandledrejection", (e) => fail(e.reason));
  try {
    const { wasmJs, wasm } = event.data;
    const app = await import(new URL(wasmJs, self.location.href).href);
    await app.default({ module_or_path: new URL(wasm, self.location.href).href });
    app.probsegTuningWorker(event.data);
  } catch (error) {
    fail(error);
  }
};

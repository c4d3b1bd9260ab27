// Boots a worker that runs a second instance of the app's own wasm without its UI
// (src/wasm_worker.rs). The page's first message names the wasm's files and `entry`, the export
// that takes over with that message. Failures are posted as a `failed` report, so the page hears
// them instead of waiting forever.
export function boot() {
  self.onmessage = async (event) => {
    self.onmessage = null;
    const fail = (error) => self.postMessage({ report: JSON.stringify({ kind: "failed", message: String(error?.message ?? error) }) });
    // A panic in the wasm surfaces as an uncaught error.
    self.addEventListener("error", (e) => fail(e.message ?? e));
    self.addEventListener("unhandledrejection", (e) => fail(e.reason));
    try {
      const { wasmJs, wasm, entry } = event.data;
      const app = await import(new URL(wasmJs, self.location.href).href);
      await app.default({ module_or_path: new URL(wasm, self.location.href).href });
      app[entry](event.data);
    } catch (error) {
      fail(error);
    }
  };
}

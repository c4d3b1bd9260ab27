// Starts the wasm app. Trunk writes the hashed file names into this script tag's data
// attributes (Trunk.toml `pattern_script`); keeping the loader external lets the page's
// Content-Security-Policy forbid inline scripts.
const tag = document.querySelector("script[data-wasm-js]");
const { default: init } = await import(tag.dataset.wasmJs);
const wasm = await init({ module_or_path: tag.dataset.wasm });
dispatchEvent(new CustomEvent("TrunkApplicationStarted", { detail: { wasm } }));

//! Entry point of the web app: Trunk builds this binary for wasm32 and `public/loader.js` starts it.

unsafe extern "C" {
    /// The module's static constructors, which wasm-ld synthesises (cubecl's IR library
    /// registers its operations through `inventory`, which runs as constructors). A binary
    /// that never names this function is linked as a *command*: wasm-ld then wraps every
    /// export so that it runs all constructors again before each call from JavaScript, which
    /// cost about a millisecond per call (every message, every kernel call the page makes).
    /// Naming it here makes the module run them once, from `main`, and leaves exports bare.
    fn __wasm_call_ctors();
}

fn main() {
    // SAFETY: called once, first, before anything reads what the constructors register; no
    // export wrapper calls it again (see above).
    unsafe { __wasm_call_ctors() };
    // A bug's panic shows a banner (src/broken.rs), not a page that stops answering.
    probseg_web::broken::install();
    // The workers start this same wasm (src/wasm_worker.rs): no page, no UI.
    if web_sys::window().is_some() {
        leptos::mount::mount_to_body(probseg_web::App);
    }
}

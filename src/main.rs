//! Entry point of the web app: Trunk builds this binary for wasm32 and `public/loader.js` starts it.

fn main() {
    // A bug's panic shows a banner (src/broken.rs), not a page that stops answering.
    probseg_web::broken::install();
    // The fine-tuning worker starts this same wasm (src/tuning/worker/inside.rs): no page, no UI.
    if web_sys::window().is_some() {
        leptos::mount::mount_to_body(probseg_web::App);
    }
}

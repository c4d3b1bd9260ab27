//! Entry point of the web app: Trunk builds this binary for wasm32 and `public/loader.js` starts it.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(probseg_web::App);
}

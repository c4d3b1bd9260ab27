//! What the page shows when a bug panics: a banner that says so and offers a reload, instead of
//! a page that silently stops answering.
//!
//! Why a banner and not recovery: the wasm build aborts on panic, so once the hook returns no
//! code of this instance runs again (not even a click handler; the reload is a plain link).
//! Weights the person kept in the origin's storage survive the reload; what was only in memory
//! does not, and the banner says so. Errors that come from input (a file, a weights file, a worker
//! message, the GPU) never get here: they travel as errors and are shown where they happen.

use wasm_bindgen::JsCast;

/// Id of the banner element (the browser tests look for it).
pub const BANNER_ID: &str = "panic-banner";

/// Installs the panic hook: the panic goes to the console (with its location, for a bug
/// report) and the banner is shown. In the fine-tuning worker there is no document: the page
/// learns of the worker's death through the worker's `error` event instead.
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show_banner(&info.to_string());
    }));
}

/// Shows the banner with `detail` (the panic message) folded away; a second call keeps the
/// first banner.
pub fn show_banner(detail: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if document.get_element_by_id(BANNER_ID).is_some() {
        return;
    }
    let Some(body) = document.body() else {
        return;
    };
    let Ok(banner) = document.create_element("div") else {
        return;
    };
    banner.set_id(BANNER_ID);
    let _ = banner.set_attribute("role", "alert");
    let text = document.create_element("p");
    let reload = document.create_element("a");
    let details = document.create_element("details");
    let summary = document.create_element("summary");
    let message = document.create_element("pre");
    let (Ok(text), Ok(reload), Ok(details), Ok(summary), Ok(message)) =
        (text, reload, details, summary, message)
    else {
        return;
    };
    text.set_text_content(Some(
        "Something broke inside ProbSeg: this is a bug in the page, not a problem with your \
         file. The page has stopped; reload it to go on. Fine-tuned weights you kept in this \
         browser stay; anything else since the page opened is lost.",
    ));
    let href = web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default();
    let _ = reload.set_attribute("href", &href);
    reload.set_text_content(Some("Reload the page"));
    summary.set_text_content(Some("Details for a bug report"));
    message.set_text_content(Some(detail));
    let _ = details.append_child(&summary);
    let _ = details.append_child(&message);
    let _ = banner.append_child(&text);
    let _ = banner.append_child(&reload);
    let _ = banner.append_child(&details);
    if let Some(first) = body.first_child() {
        let _ = body.insert_before(&banner, Some(&first));
    } else {
        let _ = body.append_child(&banner);
    }
    if let Ok(element) = banner.dyn_into::<web_sys::HtmlElement>() {
        let _ = element.focus();
    }
}

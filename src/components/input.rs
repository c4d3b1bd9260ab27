//! Ways in: drop a file anywhere, pick one, open a teaching case or the example CT slice.

use leptos::ev::{DragEvent, Event};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::browser::{fetch_bytes, read_file};
use crate::demo::DemoEntry;
use crate::workbench::LoadedImage;

/// The real chest CT slice shipped as an example (pydicom's CT_small.dcm, MIT).
const EXAMPLE_CT: &str = "public/examples/CT_small.dcm";

/// Reads the first of `files` and hands it to `open` (name, bytes); a read error goes to
/// `message`.
fn open_first(
    open: Callback<(String, Vec<u8>)>,
    message: RwSignal<Option<String>>,
    files: Option<web_sys::FileList>,
) {
    let Some(file) = files.and_then(|files| files.get(0)) else {
        return;
    };
    spawn_local(async move {
        match read_file(&file).await {
            Ok(bytes) => open.run((file.name(), bytes)),
            Err(error) => message.set(Some(error)),
        }
    });
}

/// Wraps the page so a file dropped anywhere opens; shows a hint while dragging.
#[component]
pub fn DropTarget(
    children: Children,
    /// Opens a file's bytes under its name.
    #[prop(into)]
    open: Callback<(String, Vec<u8>)>,
    message: RwSignal<Option<String>>,
) -> impl IntoView {
    let dragging = RwSignal::new(false);
    let on_over = move |event: DragEvent| {
        event.prevent_default();
        dragging.set(true);
    };
    let on_leave = move |_: DragEvent| dragging.set(false);
    let on_drop = move |event: DragEvent| {
        event.prevent_default();
        dragging.set(false);
        open_first(
            open,
            message,
            event.data_transfer().and_then(|data| data.files()),
        );
    };
    view! {
        <div
            class="drop-target"
            class:dragging=move || dragging.get()
            on:dragover=on_over
            on:dragleave=on_leave
            on:drop=on_drop
        >
            {children()}
            <div class="drop-hint" aria-hidden="true">"Drop a PNG, JPEG or DICOM slice"</div>
        </div>
    }
}

/// File picker, teaching cases and the example slice.
#[component]
pub fn InputBar(
    #[prop(into)] open: Callback<(String, Vec<u8>)>,
    message: RwSignal<Option<String>>,
    /// The teaching cases' list (or why there is none), and whether all are fetched.
    #[prop(into)]
    demos: Signal<Result<Vec<DemoEntry>, String>>,
    #[prop(into)] demos_cached: Signal<bool>,
    #[prop(into)] open_demo: Callback<DemoEntry>,
    #[prop(into)] image: Signal<Option<LoadedImage>>,
) -> impl IntoView {
    let on_pick = move |event: Event| {
        let input = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok());
        if let Some(input) = input {
            open_first(open, message, input.files());
            input.set_value("");
        }
    };
    let open_example = move |_| {
        spawn_local(async move {
            match fetch_bytes(EXAMPLE_CT, |_, _| {}).await {
                Ok(bytes) => open.run(("CT_small.dcm (example)".into(), bytes)),
                Err(error) => message.set(Some(error)),
            }
        });
    };
    view! {
        <section class="panel input-bar">
            <label class="button primary">
                "Open a slice…"
                <input
                    id="file-input"
                    type="file"
                    accept=".png,.jpg,.jpeg,.dcm,application/dicom,image/png,image/jpeg"
                    on:change=on_pick
                />
            </label>
            <span class="muted">" or drop a PNG / JPEG / DICOM file anywhere. "</span>
            <button id="open-example" on:click=open_example>"Example chest CT"</button>
            <DemoPicker demos demos_cached open_demo image />
        </section>
    }
}

/// The teaching cases from the synthetic ambiguity benchmark.
#[component]
fn DemoPicker(
    demos: Signal<Result<Vec<DemoEntry>, String>>,
    demos_cached: Signal<bool>,
    open_demo: Callback<DemoEntry>,
    image: Signal<Option<LoadedImage>>,
) -> impl IntoView {
    let on_change = move |event: Event| {
        let name = event_target_value(&event);
        let entry = demos
            .get_untracked()
            .ok()
            .and_then(|demos| demos.into_iter().find(|entry| entry.name == name));
        if let Some(entry) = entry {
            open_demo.run(entry);
        }
    };
    // The picker shows the open case, or "choose…" once something else is opened.
    let current = move || {
        image
            .get()
            .and_then(|image| image.demo.map(|case| case.name.clone()))
            .unwrap_or_default()
    };
    move || match demos.get() {
        Ok(demos) => view! {
            <label>
                " Teaching case: "
                <select
                    id="demo-picker"
                    on:change=on_change
                    prop:value=current
                    data-all-cached=move || demos_cached.get().to_string()
                >
                    <option value="" selected>"choose…"</option>
                    {demos
                        .into_iter()
                        .map(|entry| {
                            let label = format!(
                                "{} — {} ({} outlines)",
                                entry.name,
                                entry.kind_label(),
                                entry.hypotheses
                            );
                            view! { <option value=entry.name>{label}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
        }
        .into_any(),
        Err(error) => {
            view! { <span class="error">{format!("No teaching cases: {error}")}</span> }.into_any()
        }
    }
}

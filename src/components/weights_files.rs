//! Keeping or undoing fine-tuning: reset to the shipped model, save the weights in use to a
//! file, or load weights from a file — all local.

use base64::Engine as _;
use leptos::ev::Event;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::browser::{read_file, save_url};
use crate::workbench::CurrentModel;

/// The weights in use as a `data:` URL (burnpack bytes, made in the page).
fn weights_url(bytes: &[u8]) -> String {
    format!(
        "data:application/octet-stream;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[component]
pub fn WeightsFiles(model: CurrentModel) -> impl IntoView {
    let save = move |_| {
        let Some(bytes) = model.weights() else { return };
        if let Err(error) = save_url(&weights_url(&bytes), "probseg-weights.bpk") {
            model.tell(error);
        }
    };
    let load = move |event: Event| {
        let Some(input) = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        input.set_value("");
        spawn_local(async move {
            let name = file.name();
            let loaded = read_file(&file)
                .await
                .and_then(|bytes| model.install(bytes, format!("loaded from {name}")));
            if let Err(error) = loaded {
                model.tell(format!("{name}: {error}"));
            }
        });
    };
    let note = RwSignal::new(None::<String>);
    let keep = move |_| {
        let Some(bytes) = model.weights() else { return };
        spawn_local(async move {
            let outcome = crate::storage::keep_weights(&bytes).await;
            note.set(Some(match outcome {
                Ok(()) => "Kept in this browser: the page will start from these weights.".into(),
                Err(error) => format!("Could not keep the weights: {error}"),
            }));
        });
    };
    let forget = move |_| {
        spawn_local(async move {
            let outcome = crate::storage::forget_weights().await;
            note.set(Some(match outcome {
                Ok(()) => "Forgotten: the page will start from the shipped model.".into(),
                Err(error) => format!("Could not forget the weights: {error}"),
            }));
        });
    };
    view! {
        <div class="controls weights-files">
            <button id="keep-weights" on:click=keep>"Keep in this browser"</button>
            <button id="forget-weights" on:click=forget>"Forget kept weights"</button>
            <button id="reset-model" on:click=move |_| model.reset()>"Reset to the shipped model"</button>
            <button id="save-weights" on:click=save>"Save weights…"</button>
            <label class="button">
                "Load weights…"
                <input id="load-weights" type="file" accept=".bpk" on:change=load />
            </label>
            <span id="weights-note" class="muted">{move || note.get()}</span>
        </div>
    }
}

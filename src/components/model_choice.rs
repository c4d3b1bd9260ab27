//! Which model runs, what it expects, and a menu to switch.

use leptos::prelude::*;

use crate::workbench::ShippedModel;

/// The model menu: the two shipped models, or "your weights" when the person's are in use.
#[component]
pub fn ModelChoice(
    model_in_use: RwSignal<Option<ShippedModel>>,
    #[prop(into)] on_choose: Callback<ShippedModel>,
) -> impl IntoView {
    let current = move || model_in_use.get().map_or("own", ShippedModel::id);
    let on_change = move |event: leptos::ev::Event| {
        if let Some(model) = ShippedModel::from_id(&event_target_value(&event)) {
            on_choose.run(model);
        }
    };
    view! {
        <label class="model-choice">
            "Model: "
            <select id="model-choice" on:change=on_change prop:value=current data-model=current>
                {ShippedModel::ALL
                    .into_iter()
                    .map(|m| view! { <option value=m.id()>{m.label()}</option> })
                    .collect_view()}
                <option value="own" disabled=true>"your weights (loaded or fine-tuned)"</option>
            </select>
        </label>
    }
}

//! The page header: the app's name and what it does, in one line.

use leptos::prelude::*;

#[component]
pub fn Header() -> impl IntoView {
    view! {
        <header class="app-header">
            <h1>"ProbSeg"</h1>
            <p class="tagline">
                "Probabilistic segmentation in your browser — many plausible masks, not one guess."
            </p>
        </header>
    }
}

//! The page: header, backend status with its smoke test, About.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::about::About;
use super::backend_panel::BackendPanel;
use super::header::Header;
use crate::backend::Preference;
use crate::smoke_test::{BackendReport, start};

/// Reads `?backend=` from the page's address.
fn preference_from_url() -> Preference {
    let search = web_sys::window()
        .and_then(|window| window.location().search().ok())
        .unwrap_or_default();
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok();
    Preference::from_query(params.and_then(|params| params.get("backend")).as_deref())
}

#[component]
pub fn App() -> impl IntoView {
    let preference = preference_from_url();
    let report = RwSignal::new(None::<BackendReport>);
    spawn_local(async move { report.set(Some(start(preference).await)) });
    view! {
        <Header />
        <main>
            <BackendPanel preference report />
            <About />
        </main>
    }
}

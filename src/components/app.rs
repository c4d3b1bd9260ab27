//! The page: input, the slice with its overlays, samples, uncertainty, the latent map,
//! teaching, downloads; backend and About below.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::about::About;
use super::backend_panel::BackendPanel;
use super::downloads::Downloads;
use super::gallery::Gallery;
use super::header::Header;
use super::image_info::{ImageInfo, WindowControls};
use super::input::{DropTarget, InputBar};
use super::latent_map::Explorer;
use super::model_choice::ModelMenu;
use super::status::{BusyLine, MessageBanner, ModelStatusLine, Timings};
use super::teaching::Teaching;
use super::tuning_panel::TuningPanel;
use super::uncertainty::UncertaintyPanel;
use super::viewer::Viewer;
use crate::backend::Preference;
use crate::smoke_test::start;
use crate::workbench::Workbench;

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
    let wb = Workbench::new();
    provide_context(wb);
    spawn_local(async move { wb.start(start(preference).await) });
    let has_image = move || wb.image.get().is_some();
    view! {
        <DropTarget>
            <Header />
            <main>
                <InputBar />
                <div class="status-bar panel">
                    <ModelMenu />
                    <ModelStatusLine />
                    <BusyLine />
                    <Timings />
                </div>
                <MessageBanner />
                <Show when=has_image fallback=Welcome>
                    <div class="workspace">
                        <section class="panel viewer-panel">
                            <Viewer />
                            <WindowControls />
                            <p class="muted hint">
                                "Click: choose the region · drag: pan · wheel: zoom · right-drag: \
                                 window/level · double-click: fit"
                            </p>
                        </section>
                        <aside class="side">
                            <section class="panel"><h2>"Image"</h2><ImageInfo /></section>
                            <UncertaintyPanel />
                            <Downloads />
                        </aside>
                    </div>
                    <Teaching />
                    <Gallery />
                    <Explorer />
                </Show>
                <TuningPanel />
                <BackendPanel preference report=wb.backend />
                <About />
            </main>
        </DropTarget>
    }
}

/// What a first-time visitor sees before opening anything.
#[component]
fn Welcome() -> impl IntoView {
    view! {
        <section class="panel welcome" id="welcome">
            <h2>"See how ambiguous a segmentation is"</h2>
            <p>
                "Drop a CT slice (DICOM or PNG) to get a gallery of plausible lesion outlines, a \
                 map of where they disagree and the model's latent space — or open a teaching case \
                 whose expert disagreement is known exactly."
            </p>
        </section>
    }
}

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
use super::model_choice::ModelChoice;
use super::overlay::Layers;
use super::status::{BusyLine, MessageBanner, ModelStatusLine, Timings};
use super::teaching::Teaching;
use super::tuning_panel::TuningPanel;
use super::uncertainty::UncertaintyPanel;
use super::viewer::Viewer;
use crate::backend::Preference;
use crate::browser::query_param;
use crate::smoke_test::start;
use crate::workbench::Workbench;

#[component]
pub fn App() -> impl IntoView {
    let preference = Preference::from_query(query_param("backend").as_deref());
    // `?workers=off` keeps all model work on the page's thread (to compare, or to debug).
    let workers = query_param("workers").as_deref() != Some("off");
    let wb = Workbench::new();
    provide_context(wb);
    spawn_local(async move { wb.start(start(preference).await, workers) });
    let has_image = move || wb.image.get().is_some();
    let open = move |(name, bytes)| wb.open_file(name, bytes);
    let layers = Layers {
        analysis: wb.analysis.into(),
        latent_map: wb.latent_map.into(),
        scale_rows: wb.scale_rows.into(),
        selection: wb.selection.into(),
        overlay: wb.overlay.into(),
        crop_center: wb.crop_center.into(),
    };
    view! {
        <DropTarget open message=wb.message>
            <Header />
            <main>
                <InputBar
                    open
                    message=wb.message
                    demos=wb.demos
                    demos_cached=wb.demos_cached
                    open_demo=move |entry| wb.open_demo(entry)
                    image=wb.image
                />
                <div class="status-bar panel">
                    <ModelChoice
                        model_in_use=wb.model_in_use
                        on_choose=move |model| wb.choose_model(model)
                    />
                    <ModelStatusLine model=wb.model />
                    <BusyLine busy=wb.busy />
                    <Timings
                        backend=wb.backend
                        analysis=wb.analysis
                        latent_map=wb.latent_map
                        scale_rows=wb.scale_rows
                    />
                </div>
                <MessageBanner message=wb.message />
                <Show when=has_image fallback=Welcome>
                    <div class="workspace">
                        <section class="panel viewer-panel">
                            <Viewer
                                image=wb.image
                                display_window=wb.display_window
                                layers
                                set_crop_center=move |(x, y)| wb.set_crop_center(x, y)
                            />
                            <WindowControls image=wb.image display_window=wb.display_window />
                            <p class="muted hint">
                                "Click: choose the region · drag: pan · wheel: zoom · right-drag: \
                                 window/level · double-click: fit"
                            </p>
                        </section>
                        <aside class="side">
                            <section class="panel">
                                <h2>"Image"</h2>
                                <ImageInfo image=wb.image />
                            </section>
                            <UncertaintyPanel analysis=wb.analysis overlay=wb.overlay />
                            <Downloads analysis=wb.analysis message=wb.message />
                        </aside>
                    </div>
                    <Teaching image=wb.image analysis=wb.analysis />
                    <Gallery
                        analysis=wb.analysis
                        selection=wb.selection
                        sample_count=wb.sample_count
                        set_sample_count=move |n| wb.set_sample_count(n)
                        resample=move |()| wb.resample()
                    />
                    <Explorer
                        analysis=wb.analysis
                        latent_map=wb.latent_map
                        scale_rows=wb.scale_rows
                        map_dims=wb.map_dims
                        set_map_dims=move |(x, y)| wb.set_map_dims(x, y)
                        selection=wb.selection
                    />
                </Show>
                <TuningPanel
                    model=wb.current_model()
                    analysis=wb.analysis
                    image=wb.image
                    crop_center=wb.crop_center
                />
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

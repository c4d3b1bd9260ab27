//! What matters about the slice (no patient identifiers: the decoder never reads them) and
//! the display window.

use imaging::{Preset, Source, Units, Window};
use leptos::prelude::*;

use crate::workbench::LoadedImage;

fn describe_source(source: &Source) -> String {
    match source {
        Source::Png { bit_depth, color } => format!("PNG, {bit_depth}-bit {color}"),
        Source::Jpeg => "JPEG".into(),
        Source::Dicom {
            transfer_syntax,
            bits_stored,
            signed,
            ..
        } => format!(
            "DICOM, {transfer_syntax}, {bits_stored}-bit {}",
            if *signed { "signed" } else { "unsigned" }
        ),
    }
}

fn describe_units(units: Units) -> &'static str {
    match units {
        Units::Hounsfield => "Hounsfield units",
        Units::Modality => "modality values",
        Units::Raw => "grey levels",
    }
}

/// Modality, size, pixel spacing, format and value units of the slice on screen.
#[component]
pub fn ImageInfo(#[prop(into)] image: Signal<Option<LoadedImage>>) -> impl IntoView {
    move || {
        image.get().map(|image| {
            let slice = &image.slice;
            let spacing = slice.spacing.map_or("unknown".to_string(), |s| {
                format!("{:.3} × {:.3} mm", s.x_mm, s.y_mm)
            });
            let frames = (slice.frame_count > 1)
                .then(|| format!(" (frame {} of {})", slice.frame + 1, slice.frame_count));
            view! {
                <dl id="image-info" class="facts">
                    <dt>"File"</dt><dd>{image.name.clone()}</dd>
                    <dt>"Modality"</dt><dd>{slice.modality.clone().unwrap_or_else(|| "–".into())}</dd>
                    <dt>"Size"</dt><dd>{format!("{} × {} px", slice.width, slice.height)}{frames}</dd>
                    <dt>"Pixel spacing"</dt><dd>{spacing}</dd>
                    <dt>"Format"</dt><dd>{describe_source(&slice.source)}</dd>
                    <dt>"Values"</dt><dd>{describe_units(slice.units)}</dd>
                </dl>
            }
        })
    }
}

/// Window presets (CT) and the current window; right-drag on the image adjusts it.
#[component]
pub fn WindowControls(
    #[prop(into)] image: Signal<Option<LoadedImage>>,
    display_window: RwSignal<Window>,
) -> impl IntoView {
    let is_ct = move || {
        image
            .get()
            .is_some_and(|image| image.slice.units == Units::Hounsfield)
    };
    let reset = move |_| {
        if let Some(image) = image.get_untracked() {
            display_window.set(image.slice.window);
        }
    };
    view! {
        <div class="window-controls">
            <span id="window-value" class="muted">
                {move || {
                    let window = display_window.get();
                    format!("Level {:.0} · Width {:.0}", window.center, window.width)
                }}
            </span>
            <button on:click=reset>"File window"</button>
            <Show when=is_ct>
                {Preset::ALL
                    .into_iter()
                    .map(|preset| {
                        view! {
                            <button
                                class="preset"
                                on:click=move |_| display_window.set(preset.window())
                            >
                                {preset.name()}
                            </button>
                        }
                    })
                    .collect_view()}
            </Show>
        </div>
    }
}

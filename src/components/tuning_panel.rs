//! The fine-tuning panel: add annotated slices, keep one out, run a few hundred steps on this
//! machine with a live loss chart, then keep, save or undo the result.

use leptos::ev::Event;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use super::canvas::RgbaCanvas;
use super::loss_chart::LossChart;
use super::mask_editor::MaskEditor;
use super::weights_files::WeightsFiles;
use crate::browser::read_file;
use crate::render::{MASK_COLOUR, tile_rgba};
use std::sync::Arc;

use session::Analysis;

use crate::tuning::{RunState, Thread, Tuning};
use crate::workbench::{CurrentModel, LoadedImage};

/// Reads every file chosen in an `<input type=file multiple>`.
fn read_all(event: &Event, then: impl FnOnce(Vec<(String, Vec<u8>)>) + 'static) {
    let Some(input) = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return;
    };
    let files: Vec<web_sys::File> = input
        .files()
        .map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect())
        .unwrap_or_default();
    input.set_value("");
    spawn_local(async move {
        let mut read = Vec::with_capacity(files.len());
        for file in files {
            if let Ok(bytes) = read_file(&file).await {
                read.push((file.name(), bytes));
            }
        }
        then(read);
    });
}

#[component]
pub fn TuningPanel(
    /// The model a run starts from and replaces.
    model: CurrentModel,
    /// What the mask editor draws over: the current crop and the image it came from.
    #[prop(into)]
    analysis: Signal<Option<Arc<Analysis>>>,
    #[prop(into)] image: Signal<Option<LoadedImage>>,
    #[prop(into)] crop_center: Signal<(f32, f32)>,
) -> impl IntoView {
    let tuning = Tuning::new(model);
    provide_context(tuning);
    tuning.look_for_interrupted();
    let on_files = move |event: Event| {
        read_all(&event, move |files| match tuning.contract() {
            Some(contract) => tuning.add_files(files, &contract),
            None => tuning.problems.set(vec![
                "the model has not loaded yet: add the files again in a moment".into(),
            ]),
        })
    };
    let on_steps = move |event: Event| {
        if let Ok(steps) = event_target_value(&event).parse::<usize>() {
            tuning.steps.set(steps.clamp(1, 5000));
        }
    };
    let on_lr = move |event: Event| {
        if let Ok(lr) = event_target_value(&event).parse::<f64>() {
            tuning.learning_rate.set(lr);
        }
    };
    let busy = move || tuning.state.get().is_busy();
    let controllable = move || tuning.state.get().is_controllable();
    view! {
        <section class="panel" id="tuning">
            <h2>"Fine-tune on your slices"</h2>
            <p class="muted">
                "Add images with one mask per rater, named like "
                <code>"case_image.png"</code> ", " <code>"case_rater0.png"</code> ", "
                <code>"case_rater1.png"</code>
                " (the LIDC layout; DICOM images work too), or a DICOM image with the DICOM SEG \
                 files drawn on it (each segment is one reader's mask, matched by the image's UID). \
                 Images are centre-cropped to the model's 64 × 64 input. Training runs in this page, in a background worker, on the backend \
                 that samples (WebGPU or the CPU); nothing is uploaded."
            </p>
            <label class="button">
                "Add images and masks…"
                <input id="tuning-files" type="file" multiple accept=".png,.dcm,.jpg,.jpeg" on:change=on_files />
            </label>
            <MaskEditor analysis image crop_center />
            <ul class="problems">
                {move || tuning.problems.get().into_iter().map(|p| view! { <li class="error">{p}</li> }).collect_view()}
            </ul>
            <PairList />
            <div class="controls">
                <label>"Steps " <input id="tuning-steps" type="number" min="1" max="5000"
                    prop:value=move || tuning.steps.get().to_string() on:change=on_steps /></label>
                <label>"Learning rate "
                    <select id="tuning-lr" on:change=on_lr>
                        {[1e-5, 3e-5, 1e-4, 3e-4, 1e-3].into_iter().map(|lr| view! {
                            <option value=lr.to_string() selected=move || tuning.learning_rate.get() == lr>
                                {format!("{lr:e}")}
                            </option>
                        }).collect_view()}
                    </select>
                </label>
                <button id="tuning-start" disabled=busy on:click=move |_| tuning.start()>"Start"</button>
                <button id="tuning-pause" disabled=move || !controllable()
                    on:click=move |_| tuning.pause(tuning.state.get_untracked() == RunState::Running)>
                    {move || if tuning.state.get() == RunState::Paused { "Resume" } else { "Pause" }}
                </button>
                <button id="tuning-cancel" disabled=move || !controllable() on:click=move |_| tuning.cancel()>"Cancel"</button>
            </div>
            <InterruptedRun />
            <RunStatus />
            <LossChart />
            <WeightsFiles model />
        </section>
    }
}

/// The pairs, with a thumbnail each, the held-out choice and a remove button.
#[component]
fn PairList() -> impl IntoView {
    let tuning = expect_context::<Tuning>();
    move || {
        let pairs = tuning.pairs.get();
        let held_out = tuning.held_out.get();
        pairs
            .iter()
            .enumerate()
            .map(|(i, pair)| {
                let side = pair.side;
                let rgba = tile_rgba(&pair.image, &pair.masks[0], MASK_COLOUR);
                view! {
                    <div class="tuning-pair" class:held-out=held_out == Some(i)>
                        <RgbaCanvas width=side height=side rgba class="pair-thumb" label=pair.name.clone() />
                        <span>{format!("{} · {} mask(s)", pair.name, pair.masks.len())}</span>
                        <label>
                            <input type="radio" name="held-out" class="held-out-choice"
                                prop:checked=held_out == Some(i)
                                on:change=move |_| tuning.held_out.set(Some(i)) />
                            " held out"
                        </label>
                        <button on:click=move |_| tuning.remove(i) aria-label="Remove">"×"</button>
                    </div>
                }
            })
            .collect_view()
    }
}

/// A run that a closed tab or a dead worker interrupted: resume it from its checkpoint, or
/// discard it. Resuming waits for the first model, which would otherwise replace the
/// checkpoint's weights when it arrives.
#[component]
fn InterruptedRun() -> impl IntoView {
    let tuning = expect_context::<Tuning>();
    let model_ready = move || tuning.model_ready();
    move || {
        tuning.interrupted_summary().map(|summary| {
            view! {
                <div id="interrupted-run" class="notice">
                    <p>
                        {format!(
                            "A fine-tuning run stopped after {summary} (the tab was closed or its \
                             worker stopped). Its weights, pairs and settings are kept in this browser."
                        )}
                    </p>
                    <button id="resume-run" disabled=move || !model_ready() || tuning.state.get().is_busy()
                        on:click=move |_| tuning.resume()>"Resume"</button>
                    <button id="discard-run" on:click=move |_| tuning.discard_interrupted()>"Discard"</button>
                </div>
            }
        })
    }
}

/// State, progress with steps/s and ETA, and GED on the held-out pair.
#[component]
fn RunStatus() -> impl IntoView {
    let tuning = expect_context::<Tuning>();
    let ged = |value: Option<f64>| value.map_or("–".to_string(), |g| format!("{g:.3}"));
    view! {
        <div id="tuning-status" data-state=move || tuning.state.get().id()>
            {move || tuning.progress.get().map(|p| {
                let eta = (p.total - p.step) as f64 / p.steps_per_s.max(1e-6);
                let (thread_id, thread) = match &p.thread {
                    Thread::Worker => ("worker", "in a background worker".to_string()),
                    Thread::Page(why) => (
                        "page",
                        format!("on the page's thread: this browser gives workers no WebGPU ({why})"),
                    ),
                };
                view! {
                    <p id="tuning-progress" data-step=p.step.to_string()
                        data-steps-per-s=format!("{:.3}", p.steps_per_s) data-backend=p.backend.id()
                        data-thread=thread_id>
                        <progress max=p.total.to_string() value=p.step.to_string()></progress>
                        {format!(
                            " step {} of {} on {}, {thread} · {:.2} steps/s · ETA {:.0} s",
                            p.step, p.total, p.backend.label(), p.steps_per_s, eta,
                        )}
                    </p>
                }
            })}
            {move || match tuning.state.get() {
                RunState::Stopped(reason) => Some(view! { <p class="error" id="tuning-stopped">{reason}</p> }.into_any()),
                RunState::Running | RunState::Paused => tuning.kept_step.get().map(|step| view! {
                    <p id="tuning-kept" class="muted" data-step=step.to_string()>
                        {format!("Checkpoint after step {step} kept in this browser.")}
                    </p>
                }.into_any()),
                RunState::Finishing => Some(view! {
                    <p id="tuning-finishing">"Measuring GED on the held-out slice and saving the weights…"</p>
                }.into_any()),
                _ => None,
            }}
            <p>
                "GED on the held-out slice (16 samples): before "
                <span id="ged-before" data-value=move || tuning.ged_before.get().map(|g| g.to_string())>
                    {move || ged(tuning.ged_before.get())}
                </span>
                " · after "
                <span id="ged-after" data-value=move || tuning.ged_after.get().map(|g| g.to_string())>
                    {move || ged(tuning.ged_after.get())}
                </span>
            </p>
        </div>
    }
}

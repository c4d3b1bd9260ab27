//! Teaching mode, for the built-in cases: the true plausible outlines with their
//! probabilities beside what the model drew, and predicted versus true frequencies.

use std::sync::Arc;

use leptos::prelude::*;
use session::Analysis;

use super::canvas::RgbaCanvas;
use crate::render::{SELECTED_COLOUR, tile_rgba};
use crate::workbench::LoadedImage;

#[component]
pub fn Teaching(
    #[prop(into)] image: Signal<Option<LoadedImage>>,
    #[prop(into)] analysis: Signal<Option<Arc<Analysis>>>,
) -> impl IntoView {
    move || {
        let demo = image.get()?.demo?;
        let analysis = analysis.get();
        let frequencies = analysis.as_ref().and_then(|a| demo.frequencies(a));
        // The outlines inside the model's crop, over the crop as the model sees it; before the
        // first analysis, the whole image.
        let in_crop = analysis
            .as_ref()
            .and_then(|a| Some((demo.hypotheses_in(&a.crop.map)?, a.crop.data.clone())));
        let crop_matches = in_crop.is_some();
        let (masks, grey) = in_crop.unwrap_or_else(|| {
            let whole = demo.hypotheses.iter().map(|h| h.mask.clone()).collect();
            (whole, demo.slice.windowed(demo.slice.window))
        });
        let (w, h) = masks.first().map(|m| m.shape())?;
        let rows = demo
            .hypotheses
            .iter()
            .zip(masks)
            .enumerate()
            .map(|(k, (hypothesis, mask))| {
                let predicted = frequencies.as_ref().map(|f| f.shares[k]);
                let true_width = format!("width: {:.1}%", hypothesis.probability * 100.0);
                let predicted_width =
                    format!("width: {:.1}%", predicted.unwrap_or(0.0) * 100.0);
                view! {
                    <tr class="hypothesis-row" data-true=hypothesis.probability.to_string()
                        data-predicted=predicted.map(|p| p.to_string())>
                        <td>
                            <RgbaCanvas width=w height=h rgba=tile_rgba(&grey, &mask, SELECTED_COLOUR)
                                class="hypothesis-tile" label=hypothesis.label.clone() />
                        </td>
                        <td>
                            {hypothesis.label.clone()}
                            {hypothesis.rare.then_some(view! { <span class="badge">"rare"</span> })}
                        </td>
                        <td class="bars">
                            <div class="bar true-bar" style=true_width></div>
                            <div class="bar predicted-bar" style=predicted_width></div>
                        </td>
                        <td class="numbers">
                            {format!("{:.0}%", hypothesis.probability * 100.0)}
                            " / "
                            {predicted.map_or("–".into(), |p| format!("{:.0}%", p * 100.0))}
                        </td>
                    </tr>
                }
            })
            .collect_view();
        Some(view! {
            <section class="panel" id="teaching">
                <h2>"Teaching: what experts would draw"</h2>
                <p>{demo.description.clone()}</p>
                <Show when=move || !crop_matches>
                    <p class="muted">"Move the crop inside the image to compare the outlines."</p>
                </Show>
                <table class="hypotheses">
                    <thead>
                        <tr><th>"Outline"</th><th>"Hypothesis"</th><th>"True vs model"</th><th>"%"</th></tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
                <p class="muted">
                    "Grey bar: the true probability. Orange bar: the share of the model's samples \
                     closest (by IoU) to that outline."
                    {frequencies.map(|f| format!(" Mean frequency error: {:.3}.", f.mean_abs_error))}
                </p>
            </section>
        })
    }
}

//! Teaching mode, for the built-in cases: the true plausible outlines with their
//! probabilities beside what the model drew, and predicted versus true frequencies.

use leptos::prelude::*;

use super::canvas::RgbaCanvas;
use crate::render::{SELECTED_COLOUR, tile_rgba};
use crate::workbench::Workbench;

#[component]
pub fn Teaching() -> impl IntoView {
    let wb = expect_context::<Workbench>();
    move || {
        let demo = wb.image.get()?.demo?;
        let analysis = wb.analysis.get();
        let frequencies = analysis.as_ref().and_then(|a| a.frequencies(&demo));
        let crop_matches = analysis.as_ref().is_some_and(|a| {
            a.crop.width as usize == demo.hypotheses[0].mask.width()
                && a.crop.map.origin == (0.0, 0.0)
        });
        let (w, h) = demo.hypotheses.first().map(|h| h.mask.shape())?;
        let grey = demo.slice.windowed(demo.slice.window);
        let rows = demo
            .hypotheses
            .iter()
            .enumerate()
            .map(|(k, hypothesis)| {
                let predicted = frequencies.as_ref().map(|f| f.shares[k]);
                let true_width = format!("width: {:.1}%", hypothesis.probability * 100.0);
                let predicted_width =
                    format!("width: {:.1}%", predicted.unwrap_or(0.0) * 100.0);
                view! {
                    <tr class="hypothesis-row" data-true=hypothesis.probability.to_string()
                        data-predicted=predicted.map(|p| p.to_string())>
                        <td>
                            <RgbaCanvas width=w height=h rgba=tile_rgba(&grey, &hypothesis.mask, SELECTED_COLOUR)
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
                <p>{demo.kind.description()}</p>
                <Show when=move || !crop_matches>
                    <p class="muted">"Click the image centre to compare on the case's own crop."</p>
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

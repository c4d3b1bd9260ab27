//! What the app is, the privacy promise, and the licences of everything it ships.

use leptos::prelude::*;

#[component]
pub fn About() -> impl IntoView {
    view! {
        <details class="about" id="about">
            <summary>"About ProbSeg"</summary>
            <p>
                "ProbSeg runs the Probabilistic U-Net (Kohl et al., NeurIPS 2018): a U-Net plus a \
                 conditional variational autoencoder whose latent space captures how experts \
                 disagree. Instead of one mask it draws many plausible ones, so you can see where \
                 a segmentation is ambiguous."
            </p>
            <p class="privacy">
                <strong>"Your images never leave this machine. "</strong>
                "Decoding, the model and fine-tuning all run inside this page; its \
                 Content-Security-Policy forbids connections to any other site, and nothing is \
                 uploaded."
            </p>
            <p class="not-medical">
                "A research and teaching tool, not a medical device: do not use it for diagnosis."
            </p>
            <h3>"Licences and attributions"</h3>
            <ul>
                <li>"ProbSeg: MIT OR Apache-2.0. Built with burn, Leptos and dicom-rs."</li>
                <li>
                    "The real-CT model was trained on, and the real teaching cases are, LIDC-IDRI \
                     images and annotations (CC BY 3.0; crops in the layout of the Kaggle \
                     \"LIDC-IDRI slices\" set): Armato SG III et al., Data From LIDC-IDRI, The Cancer Imaging Archive (2015), \
                     doi:10.7937/K9/TCIA.2015.LO9QL9SX; Armato et al., Med Phys 38:915–931 (2011); \
                     Clark K et al., J Digit Imaging 26:1045–1057 (2013)."
                </li>
                <li>
                    "Example CT slices from the NEMA WG04 compression sample set, as \
                     redistributed by pydicom (MIT)."
                </li>
            </ul>
        </details>
    }
}

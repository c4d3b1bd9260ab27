//! Equivalence with the PyTorch reference (`shared/peers/probunet.py`, `make_reference.py`):
//! its weights loaded through burn-store's SafeTensors importer must reproduce every output it
//! recorded to ≤ 1e-4.

use std::path::PathBuf;

use burn::store::SafetensorsStore;
use burn::tensor::{Int, Tensor};
use probunet::loss::ce_mean_over_pixels;
use probunet::weights::load_pytorch_safetensors_file;
use probunet::{ProbUNet, ProbUNetConfig};

use crate::common::*;

fn reference_dir() -> PathBuf {
    manifest_dir().join("../../../shared/peers/reference")
}

#[test]
fn paper_model_reproduces_the_pytorch_reference() {
    let d = device();
    let dir = reference_dir();
    let model: ProbUNet = load_pytorch_safetensors_file(
        dir.join("weights.safetensors"),
        &ProbUNetConfig::paper(),
        &d,
    )
    .expect("reference weights load");
    let mut io = SafetensorsStore::from_file(dir.join("io.safetensors"));
    let x: Tensor<4> = read(&mut io, "x", &d);
    let y: Tensor<3, Int> = read::<3>(&mut io, "y", &d).int();

    let enc = model.encode(x.clone());
    assert_close(
        "features",
        enc.features.clone(),
        read(&mut io, "features", &d),
    );
    assert_close(
        "prior_mu",
        enc.prior.mu.clone(),
        read(&mut io, "prior_mu", &d),
    );
    // Unclamped head output, as the reference reports it (and within the clamp anyway).
    let (_, raw_ls) = model.prior.forward_raw(x.clone());
    assert_close(
        "prior_log_sigma",
        raw_ls,
        read(&mut io, "prior_log_sigma", &d),
    );
    assert_close(
        "prior_log_sigma (clamped)",
        enc.prior.log_sigma.clone(),
        read(&mut io, "prior_log_sigma", &d),
    );

    let post = model.posterior(x.clone(), y.clone());
    assert_close("post_mu", post.mu.clone(), read(&mut io, "post_mu", &d));
    assert_close(
        "post_log_sigma",
        post.log_sigma.clone(),
        read(&mut io, "post_log_sigma", &d),
    );

    let z: Tensor<2> = read(&mut io, "z", &d);
    let logits: Tensor<4> = read(&mut io, "logits", &d);
    assert_close(
        "logits (fast path)",
        model.sample(&enc, z.clone()),
        logits.clone(),
    );
    assert_close("logits (concat path)", model.sample_plain(&enc, z), logits);

    assert_close("kl", post.kl_to(&enc.prior), read(&mut io, "kl", &d));
    // The reference's CE is PyTorch's default mean over pixels (our training loss sums them).
    let ce = ce_mean_over_pixels(model.sample(&enc, post.mu), y);
    assert_close("ce_at_post_mu", ce, read(&mut io, "ce_at_post_mu", &d));
}

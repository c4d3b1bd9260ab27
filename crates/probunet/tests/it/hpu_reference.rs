//! Equivalence with an independent PyTorch implementation of the hierarchical model
//! (`scripts/hpunet_reference.py`, its outputs in `tests/data/hpunet-reference`): its weights,
//! loaded through burn-store's SafeTensors importer, must reproduce every recorded output to
//! ≤ 1e-4 — the prior's sampling paths, the posterior, teacher-forced training logits, each
//! scale's KL, GECO's terms and λ update for the same kept pixels, and the gradients of the
//! GECO objective.

use burn::module::Module;
use burn::store::SafetensorsStore;
use burn::tensor::{Int, Tensor};
use probunet::hierarchical::{GecoConfig, GecoState, HierarchicalProbUNet, HpuNetConfig, Latent};
use probunet::weights::load_hpunet_safetensors;

use crate::common::*;

struct Reference {
    model: HierarchicalProbUNet,
    io: SafetensorsStore,
    geco: GecoConfig,
    state: GecoState,
}

fn reference() -> Reference {
    let dir = manifest_dir().join("tests/data/hpunet-reference");
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("reference.json")).unwrap()).unwrap();
    let config: HpuNetConfig = serde_json::from_value(meta["config"].clone()).unwrap();
    let bytes = std::fs::read(dir.join("weights.safetensors")).unwrap();
    let model = load_hpunet_safetensors(bytes, &config, &device()).expect("reference weights load");
    let f = |v: &serde_json::Value| v.as_f64().unwrap() as f32;
    let g = &meta["geco"];
    let geco = GecoConfig::new()
        .with_kappa(f(&g["kappa"]))
        .with_top_k(f(&g["top_k"]))
        .with_decay(f(&g["decay"]))
        .with_rate(f(&g["rate"]));
    let s = &meta["geco_state"];
    let state = GecoState {
        average: Some(f(&s["average"])),
        lambda: f(&s["lambda"]),
    };
    Reference {
        model,
        io: SafetensorsStore::from_file(dir.join("io.safetensors")),
        geco,
        state,
    }
}

fn noise(io: &mut SafetensorsStore, prefix: &str, scales: usize) -> Vec<Tensor<4>> {
    (0..scales)
        .map(|l| read(io, &format!("{prefix}.{l}"), &device()))
        .collect()
}

/// Gradients are sums over every pixel of the batch (hundreds here): compared relative to the
/// reference tensor's largest value, max |ours − theirs| ≤ 1e-4 · max(1, max |theirs|).
fn assert_grad_close<const D: usize>(name: &str, ours: Tensor<D>, theirs: Tensor<D>) {
    let scale = theirs.clone().abs().max().into_scalar::<f32>().max(1.0);
    let diff = max_abs_diff(ours, theirs);
    assert!(
        diff <= 1e-4 * scale,
        "grad {name}: max |ours − reference| = {diff} (largest reference value {scale})"
    );
    eprintln!("grad {name}: max |diff| = {diff:.2e} of {scale:.1}");
}

/// |a − b| ≤ 1e-4 · max(1, |b|): sums over many pixels are compared relatively.
fn assert_scalar(name: &str, ours: f32, theirs: f32) {
    let diff = (ours - theirs).abs();
    assert!(
        diff <= 1e-4 * theirs.abs().max(1.0),
        "{name}: ours {ours}, reference {theirs}"
    );
}

#[test]
fn sampling_paths_reproduce_the_pytorch_reference() {
    let Reference { model, mut io, .. } = reference();
    let d = device();
    let scales = model.config().latent_levels();
    let x: Tensor<4> = read(&mut io, "x", &d);
    let y: Tensor<3, Int> = read::<3>(&mut io, "y", &d).int();

    let encoded = model.encode(x.clone());
    let top = encoded.features.last().unwrap().clone();
    assert_close("features.top", top, read(&mut io, "features.top", &d));
    assert_close(
        "mean_logits",
        model.mean(&encoded),
        read(&mut io, "mean_logits", &d),
    );
    let mut eps = noise(&mut io, "sample_eps", scales).into_iter();
    let (sample, _) = model.decode(&encoded, |_, _| Latent::Noise(eps.next().unwrap()));
    assert_close("sample_logits", sample, read(&mut io, "sample_logits", &d));
    assert_close(
        "reconstruction_logits",
        model.reconstruct(x, y),
        read(&mut io, "reconstruction_logits", &d),
    );
}

#[test]
fn training_pass_kl_geco_and_gradients_reproduce_the_pytorch_reference() {
    let Reference {
        model,
        mut io,
        geco,
        mut state,
    } = reference();
    let d = device();
    let scales = model.config().latent_levels();
    let model = model.train();
    let x: Tensor<4> = read(&mut io, "x", &d);
    let y: Tensor<3, Int> = read::<3>(&mut io, "y", &d).int();
    let eps = noise(&mut io, "eps", scales);

    // Both distributions of every scale along the teacher-forced pass.
    let mut given = eps.clone().into_iter();
    let q = model.posterior(x.clone(), y.clone(), |_, _| {
        Latent::Noise(given.next().unwrap())
    });
    let (_, p) = model.decode(&model.encode(x.clone()), |l, _| {
        Latent::Given(q.latents[l].clone())
    });
    for l in 0..scales {
        for (side, pass) in [("posterior", &q), ("prior", &p)] {
            let dist = &pass.distributions[l];
            let name = format!("{side}.{l}.mu");
            assert_close(&name, dist.mu.clone(), read(&mut io, &name, &d));
            let name = format!("{side}.{l}.log_sigma");
            assert_close(&name, dist.log_sigma.clone(), read(&mut io, &name, &d));
        }
    }

    let out = model.forward_train(x, y.clone(), eps);
    assert_close(
        "train_logits",
        out.logits.clone(),
        read(&mut io, "train_logits", &d),
    );
    for (l, kl) in out.kl.iter().enumerate() {
        let name = format!("kl.{l}");
        let theirs: Tensor<1> = read(&mut io, &name, &d);
        assert_scalar(
            &name,
            kl.clone().into_scalar::<f32>(),
            theirs.into_scalar::<f32>(),
        );
    }

    let kept: Tensor<2> = read(&mut io, "geco.kept", &d);
    let kept = to_vec(kept);
    let lambda = state.lambda;
    let parts = geco.loss_with_kept(&out, y, kept, &mut state);
    let values: Tensor<1> = read(&mut io, "geco.values", &d);
    let [rec, constraint, loss, new_lambda, average] = to_vec(values).try_into().unwrap();
    let v = &parts.values;
    assert_eq!(v.lambda, lambda, "the step uses λ as it was");
    assert_scalar("reconstruction", v.reconstruction, rec);
    assert_scalar("constraint", v.constraint, constraint);
    assert_scalar("loss", v.loss, loss);
    assert_scalar("λ after the step", state.lambda, new_lambda);
    assert_scalar("moving average", state.average.unwrap(), average);

    let grads = parts.total.backward();
    let grad = |name: &str, ours: Option<Tensor<4>>, io: &mut SafetensorsStore| {
        let ours = ours.unwrap_or_else(|| panic!("no gradient for {name}"));
        assert_grad_close(name, ours, read(io, &format!("grad.{name}"), &d));
    };
    let block = |e: &probunet::hierarchical::encoder::ResEncoder| {
        e.levels[0].blocks[0].convs[0].weight.val().grad(&grads)
    };
    grad(
        "prior_encoder.levels.0.blocks.0.convs.0.weight",
        block(&model.prior_encoder),
        &mut io,
    );
    grad(
        "posterior_encoder.levels.0.blocks.0.convs.0.weight",
        block(&model.posterior_encoder),
        &mut io,
    );
    grad(
        "prior_decoder.scales.0.head.weight",
        model.prior_decoder.scales[0].head.weight.val().grad(&grads),
        &mut io,
    );
    grad(
        "stitching.logits.weight",
        model.stitching.logits.weight.val().grad(&grads),
        &mut io,
    );
    let bias = model.posterior_decoder.scales[2]
        .head
        .bias
        .as_ref()
        .unwrap();
    let ours: Tensor<1> = bias
        .val()
        .grad(&grads)
        .expect("posterior head bias gradient");
    assert_grad_close(
        "posterior_decoder.scales.2.head.bias",
        ours,
        read(&mut io, "grad.posterior_decoder.scales.2.head.bias", &d),
    );
}

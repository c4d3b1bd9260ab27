//! Browser tests of the app's glue (wasm-bindgen-test in headless Chromium).
//!
//! `webdriver.json` starts Chromium with `--enable-unsafe-webgpu`, so a (software) WebGPU adapter
//! exists and both backends can be exercised and compared on GPU-less machines.
#![cfg(target_arch = "wasm32")]

use probseg_web::backend::{self, BackendKind, Preference};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn cpu_preference_never_asks_for_webgpu() {
    let active = backend::select(Preference::Cpu).await;
    assert_eq!(active.kind, BackendKind::Cpu);
    assert!(active.adapter.is_none());
}

#[wasm_bindgen_test]
async fn auto_treats_a_software_adapter_as_no_gpu() {
    let active = backend::select(Preference::Auto).await;
    match &active.adapter {
        Some(adapter) if adapter.is_fallback => {
            assert_eq!(active.kind, BackendKind::Cpu, "{}", active.reason);
            assert!(active.reason.contains("software"), "{}", active.reason);
        }
        Some(_) => assert_eq!(active.kind, BackendKind::WebGpu, "{}", active.reason),
        None => assert_eq!(active.kind, BackendKind::Cpu, "{}", active.reason),
    }
}

#[wasm_bindgen_test]
async fn webgpu_and_cpu_agree_on_the_smoke_test() {
    let gpu = backend::select(Preference::WebGpu).await;
    assert_eq!(
        gpu.kind,
        BackendKind::WebGpu,
        "WebGPU must initialise: {}",
        gpu.reason
    );
    let cpu = backend::select(Preference::Cpu).await;
    let on_gpu = probseg_web::probe::run_probe(&gpu.device, 32)
        .await
        .expect("WebGPU probe");
    let on_cpu = probseg_web::probe::run_probe(&cpu.device, 32)
        .await
        .expect("CPU probe");
    assert!(
        (on_gpu.mean_foreground - on_cpu.mean_foreground).abs() < 1e-4,
        "{on_gpu:?} vs {on_cpu:?}"
    );
    let relative = (on_gpu.abs_logit_sum - on_cpu.abs_logit_sum).abs() / on_cpu.abs_logit_sum;
    assert!(relative < 1e-4, "{on_gpu:?} vs {on_cpu:?}");
}

/// The simd128 forms of our 3×3 convolution (direct and both Winograd tilings: the page's CPU path) against
/// burn-flex's conv2d and the kernel's portable form, on shapes with ragged widths and channel
/// counts.
#[wasm_bindgen_test]
fn the_conv_kernel_matches_burns_convolution_in_wasm() {
    use burn::tensor::module::conv2d;
    use burn::tensor::ops::ConvOptions;
    use burn::tensor::{Device, Distribution, Tensor};
    use cpu_kernels::Conv3x3Shape;

    let d = Device::flex();
    let values = |t: &Tensor<4>| t.clone().into_data().try_into_vec::<f32>().unwrap();
    for (c_in, c_out, h, w) in [
        (1, 8, 9, 13),
        (5, 7, 16, 16),
        (12, 6, 33, 31),
        (20, 17, 18, 22),
        (32, 32, 64, 64),
    ] {
        let shape = Conv3x3Shape {
            batch: 1,
            c_in,
            c_out,
            height: h,
            width: w,
        };
        let normal = Distribution::Normal(0.0, 1.0);
        let x = Tensor::<4>::random([1, c_in, h, w], normal, &d);
        let k = Tensor::<4>::random([c_out, c_in, 3, 3], normal, &d);
        let b = Tensor::<1>::random([c_out], normal, &d);
        let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        let expected = values(&conv2d(x.clone(), k.clone(), Some(b.clone()), options));
        let (xv, kv) = (values(&x), values(&k));
        let bv = b.into_data().try_into_vec::<f32>().unwrap();
        let mut simd = vec![0.0; shape.output_len()];
        cpu_kernels::conv3x3::conv3x3(&xv, &kv, &bv, shape, false, &mut simd);
        let mut scalar = vec![0.0; shape.output_len()];
        cpu_kernels::conv3x3_scalar(&xv, &kv, &bv, shape, false, &mut scalar);
        let mut winograd = vec![0.0; shape.output_len()];
        cpu_kernels::conv3x3_winograd(&xv, &kv, &bv, shape, false, &mut winograd);
        let mut winograd4 = vec![0.0; shape.output_len()];
        cpu_kernels::conv3x3_winograd4(&xv, &kv, &bv, shape, false, &mut winograd4);
        let scale = expected.iter().fold(1f32, |m, v| m.max(v.abs()));
        for (name, ours) in [
            ("simd128", &simd),
            ("portable", &scalar),
            ("winograd simd128", &winograd),
            ("winograd F(4×4) simd128", &winograd4),
        ] {
            let err = ours
                .iter()
                .zip(&expected)
                .fold(0f32, |m, (a, e)| m.max((a - e).abs()));
            assert!(
                err / scale < 1e-5,
                "{shape:?} {name}: relative error {}",
                err / scale
            );
        }
    }
}

/// The fused fcomb head as the page runs it (simd128) against fcomb's layers through burn.
#[wasm_bindgen_test]
fn the_fused_fcomb_head_matches_its_layers_in_wasm() {
    use burn::tensor::{Device, Distribution, Tensor};
    use probunet::{ProbUNet, ProbUNetConfig};

    let d = Device::flex();
    let model = ProbUNet::new_seeded(&ProbUNetConfig::small(), 3, &d);
    let encoded = model.encode(Tensor::<4>::random(
        [1, 1, 24, 24],
        Distribution::Default,
        &d,
    ));
    let z = Tensor::<2>::random([9, 6], Distribution::Normal(0.0, 2.0), &d);
    let logits = model.sample(&encoded, z.clone());
    let expected = (logits.clone().narrow(1, 1, 1) - logits.narrow(1, 0, 1)).reshape([9, 24 * 24]);
    let scale = expected.clone().abs().max().into_scalar::<f32>();
    let fused = model.fcomb.margins(encoded.projection.clone(), z);
    let err = (fused - expected).abs().max().into_scalar::<f32>();
    assert!(
        scale > 1e-3 && err / scale < 1e-5,
        "relative error {}",
        err / scale
    );
}

/// Fine-tuning on the CPU as the page runs it (simd128): our kernels' gradients of a 3×3
/// layer (input, weights: `cpu_kernels::weight_grad`, bias) against burn's differentiable
/// `conv2d` + ReLU.
#[wasm_bindgen_test]
fn training_gradients_match_burns_in_wasm() {
    use burn::tensor::activation::relu;
    use burn::tensor::module::conv2d;
    use burn::tensor::ops::ConvOptions;
    use burn::tensor::{Device, Distribution, Tensor};

    let d = Device::flex();
    let normal = Distribution::Normal(0.0, 1.0);
    let x = Tensor::<4>::random([2, 5, 19, 13], normal, &d);
    let w = Tensor::<4>::random([7, 5, 3, 3], normal, &d);
    let b = Tensor::<1>::random([7], normal, &d);
    let r = Tensor::<4>::random([2, 7, 19, 13], normal, &d);
    let run = |ours: bool| {
        let (x, w, b) = (
            x.clone().autodiff().require_grad(),
            w.clone().autodiff().require_grad(),
            b.clone().autodiff().require_grad(),
        );
        let out = if ours {
            cpu_kernels::conv3x3_bias_act(x.clone(), w.clone(), b.clone(), true)
        } else {
            let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
            relu(conv2d(x.clone(), w.clone(), Some(b.clone()), options))
        };
        let grads = (out * r.clone().autodiff()).sum().backward();
        [
            x.grad(&grads).unwrap().reshape([-1]),
            w.grad(&grads).unwrap().reshape([-1]),
            b.grad(&grads).unwrap(),
        ]
    };
    for (name, (ours, burns)) in ["input", "weights", "bias"]
        .iter()
        .zip(run(true).into_iter().zip(run(false)))
    {
        let scale = burns.clone().abs().max().into_scalar::<f32>();
        let err = (ours - burns).abs().max().into_scalar::<f32>();
        assert!(err / scale < 1e-5, "{name}: relative error {}", err / scale);
    }
}

#[wasm_bindgen_test]
fn preference_parses_the_query() {
    assert_eq!(Preference::from_query(Some("WebGPU")), Preference::WebGpu);
    assert_eq!(Preference::from_query(Some("cpu")), Preference::Cpu);
    assert_eq!(Preference::from_query(Some("bogus")), Preference::Auto);
    assert_eq!(Preference::from_query(None), Preference::Auto);
}

#[wasm_bindgen_test]
fn a_panic_banner_says_what_happened_and_offers_a_reload_once() {
    use probseg_web::broken::{BANNER_ID, show_banner};
    let document = web_sys::window().unwrap().document().unwrap();
    show_banner("panicked at src/example.rs:1:1: boom");
    show_banner("a second panic");
    let banner = document.get_element_by_id(BANNER_ID).unwrap();
    let text = banner.text_content().unwrap();
    assert!(
        text.contains("Something broke") && text.contains("reload"),
        "{text}"
    );
    assert!(
        text.contains("boom") && !text.contains("a second panic"),
        "{text}"
    );
    let link = banner.query_selector("a").unwrap().unwrap();
    let href = web_sys::window().unwrap().location().href().unwrap();
    assert_eq!(link.get_attribute("href").as_deref(), Some(href.as_str()));
    banner.remove();
    assert!(
        document.get_element_by_id(BANNER_ID).is_none(),
        "one banner, however many panics"
    );
}

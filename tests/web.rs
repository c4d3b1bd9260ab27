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
    let on_gpu = probunet::probe::run_probe(&gpu.device, 32)
        .await
        .expect("WebGPU probe");
    let on_cpu = probunet::probe::run_probe(&cpu.device, 32)
        .await
        .expect("CPU probe");
    assert!(
        (on_gpu.mean_foreground - on_cpu.mean_foreground).abs() < 1e-4,
        "{on_gpu:?} vs {on_cpu:?}"
    );
    let relative = (on_gpu.abs_logit_sum - on_cpu.abs_logit_sum).abs() / on_cpu.abs_logit_sum;
    assert!(relative < 1e-4, "{on_gpu:?} vs {on_cpu:?}");
}

#[wasm_bindgen_test]
fn preference_parses_the_query() {
    assert_eq!(Preference::from_query(Some("WebGPU")), Preference::WebGpu);
    assert_eq!(Preference::from_query(Some("cpu")), Preference::Cpu);
    assert_eq!(Preference::from_query(Some("bogus")), Preference::Auto);
    assert_eq!(Preference::from_query(None), Preference::Auto);
}

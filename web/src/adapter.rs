//! Where the page trains, in words: wgpu's adapter info is empty in a browser, so the browser's
//! own description of its WebGPU adapter (`GPUAdapter.info`) names it.

use gpu_mlp::device::DeviceChoice;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The browser's default WebGPU adapter as it describes itself (vendor, architecture, device,
/// description), or None without WebGPU or an adapter.
pub async fn browser_adapter() -> Option<String> {
    let navigator = web_sys::window()?.navigator();
    let gpu = Reflect::get(&navigator, &"gpu".into())
        .ok()
        .filter(|g| !g.is_undefined())?;
    let request: Function = Reflect::get(&gpu, &"requestAdapter".into()).ok()?.dyn_into().ok()?;
    let pending: Promise = request.call0(&gpu).ok()?.dyn_into().ok()?;
    let adapter = JsFuture::from(pending).await.ok().filter(|a| !a.is_null())?;
    let info = Reflect::get(&adapter, &"info".into()).ok()?;
    let field = |key: &str| {
        Reflect::get(&info, &JsValue::from_str(key))
            .ok()
            .and_then(|v| v.as_string())
            .filter(|v| !v.is_empty())
    };
    let parts: Vec<String> = ["vendor", "architecture", "device", "description"]
        .into_iter()
        .filter_map(field)
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The adapter a backend (`described` by [`gpu_mlp::Backend::describe`]) runs on, and why the
/// page chose it for the link's `device`.
pub fn where_and_why(device: DeviceChoice, described: &str, browser: Option<&str>) -> (String, String) {
    let gpu = described.strip_prefix("gpu:");
    let adapter = match (gpu, browser) {
        (Some(rest), Some(info)) => format!("gpu: {info} {}", rest.trim()),
        _ => described.to_string(),
    };
    let why = match (device, gpu.is_some(), browser) {
        (DeviceChoice::Cpu, ..) => "device=cpu: the CPU reference, compiled to WebAssembly".to_string(),
        (DeviceChoice::Gpu, ..) => "device=gpu: the browser's WebGPU, through the same WGSL kernels as natively".into(),
        (DeviceChoice::Auto, true, _) => "a hardware GPU, through the browser's WebGPU and the same WGSL kernels as natively".into(),
        (DeviceChoice::Auto, false, None) => "this browser offers no WebGPU adapter, so the page trains on the CPU \
             reference compiled to WebAssembly (Chrome and Edge have WebGPU; other browsers are adding it)"
            .into(),
        (DeviceChoice::Auto, false, Some(info)) => format!(
            "the browser's only WebGPU adapter ({info}) is a software renderer, slower than the CPU reference, so \
             the page trains on that, compiled to WebAssembly; add device=gpu to the link to train on the adapter anyway"
        ),
    };
    (adapter, why)
}

//! Where the detectors run: WebGPU on a hardware adapter, else burn's CPU backend, saying why.

use reframe_core::protocol::DetectorDevice;
use reframe_core::test_aids::DetectorBackend;
use reframe_detect::{cpu_device, Device};
use wasm_bindgen::JsCast;

/// The device `wanted` asks for (auto: a hardware WebGPU adapter when there is one), with the
/// text the page and the report show ("webgpu (…adapter…)" or "cpu (…why…)").
pub async fn choose(wanted: DetectorBackend) -> (Device, String, DetectorDevice) {
    if wanted == DetectorBackend::Cpu {
        return (cpu_device(), "cpu (chosen in the page's settings)".into(), DetectorDevice::Cpu);
    }
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let gpu = js_sys::Reflect::get(&scope.navigator(), &"gpu".into()).unwrap_or_default();
    if gpu.is_undefined() || gpu.is_null() {
        return (cpu_device(), "cpu (this browser has no WebGPU)".into(), DetectorDevice::Cpu);
    }
    match Device::wgpu_options().init_with_setup_async().await {
        Ok((device, setup)) => {
            let info = setup.adapter.get_info();
            let name =
                [info.name.clone(), info.driver.clone(), info.driver_info.clone(), format!("{:?}", info.device_type)]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ");
            let software = info.device_type == reframe_detect::wgpu::DeviceType::Cpu;
            if software && wanted == DetectorBackend::Auto {
                // SwiftShader and the like emulate the GPU on the CPU, slower than burn's own CPU backend.
                (cpu_device(), format!("cpu (the WebGPU adapter is a software renderer: {name})"), DetectorDevice::Cpu)
            } else {
                let kind = if software { DetectorDevice::SoftwareGpu } else { DetectorDevice::HardwareGpu };
                (device, format!("webgpu ({name})"), kind)
            }
        }
        Err(e) => (cpu_device(), format!("cpu (WebGPU could not start: {e})"), DetectorDevice::Cpu),
    }
}

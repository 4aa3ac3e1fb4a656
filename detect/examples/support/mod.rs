//! Helpers shared by the detector's benchmark examples (`bench`, `bench_preprocess`).
use std::time::Instant;

use reframe_detect::Device;

/// The device named on the command line: `cpu` (burn's flex), or `wgpu` (a native adapter, with
/// `--features wgpu`; the adapter is printed).
pub fn device(name: &str) -> Device {
    match name {
        "cpu" => reframe_detect::cpu_device(),
        #[cfg(feature = "wgpu")]
        "wgpu" => {
            let (device, setup) = Device::wgpu_options().init_with_setup().expect("wgpu device");
            let info = setup.adapter.get_info();
            println!("wgpu adapter: {} ({:?}, {:?})", info.name, info.device_type, info.backend);
            device
        }
        other => panic!("unknown device {other}: cpu, or wgpu with --features wgpu"),
    }
}

/// Mean ms per call of `f` over `iters` calls, after two warm-up calls.
pub fn time_ms(iters: usize, mut f: impl FnMut()) -> f64 {
    f();
    f();
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    t.elapsed().as_secs_f64() * 1e3 / iters as f64
}

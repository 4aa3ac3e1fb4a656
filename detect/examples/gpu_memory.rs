//! GPU memory over many inferences (a benchmark, not a test: it prints figures, asserts nothing).
//!
//!     cargo run --release -p reframe-detect --features wgpu --example gpu_memory -- \
//!         [ssdlite|centernet] [N=10000] [K=500] [--cpu] [--two-sizes] [--async] [--planes] [--cleanup]
//!
//! Checks the requirement "GPU memory stays flat over 10,000 inferences (buffers reused)": runs the
//! whole `AnyDetector::detect` pipeline (upload RGBA frame -> preprocess -> model -> readback ->
//! decode) N times and, every K inferences, prints ms/inference over the last K, the process RSS
//! (`VmRSS` of /proc/self/status) and what burn's allocator holds on the device
//! (`Device::memory_pool_usage()`: live allocations, bytes in use, bytes reserved). The last line
//! compares the reading after the first K (warm-up: kernels compiled, pools sized) with the last.
//!
//! * Device: wgpu, initialised natively with `Device::wgpu_options().init_with_setup()` (the
//!   adapter it got is printed; with no GPU, Mesa's lavapipe software Vulkan driver works, and there
//!   the "GPU" buffers live in host memory, so RSS measures them too). `--cpu`: burn's flex CPU
//!   backend instead, for comparison (it reports no device pools).
//! * Frames: vtest_100.png (768x576) alternating with its mirror image (same size, other pixels,
//!   like consecutive video frames); `--two-sizes` alternates vtest_100.png with astronaut.png
//!   (512x512) instead, so the upload and resize see two shapes.
//! * `--async`: `detect_batch_async` (the browser's path) driven by a minimal executor, instead of
//!   the blocking `detect`.
//! * `--planes`: the frames as I420 planes through `detect_planes_batch(_async)` (the worker's path
//!   on a hardware GPU: packed upload of the whole frame, scaling and colour conversion on the
//!   device) instead of RGBA.
//! * `--cleanup`: after each reading, `Device::memory_cleanup()` (which frees the allocator's
//!   unused pages and cubecl's cache of kernel-metadata uniforms) and a second reading, printed
//!   as "after cleanup": what the inferences really hold, without the caches and free pages.
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

use reframe_core::frame_scale::{FramePlanes, PixelLayout, YuvColor};
use reframe_core::units::{PixelSize, Rotation};
use reframe_detect::{AnyDetector, Device, Model, RgbaFrame};

// The fixture readers of the tests (PNG, mirror, RGBA -> I420).
#[path = "../tests/common/mod.rs"]
mod common;

/// Resident set size of this process in KiB (`VmRSS` in /proc/self/status).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Blocks on a future by parking the thread between polls (enough for `detect_batch_async`).
fn block_on<F: Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

const MB: f64 = 1024.0 * 1024.0;

/// One reading: after `iter` inferences.
#[derive(Clone, Copy)]
struct Sample {
    iter: usize,
    rss_bytes: u64,
    /// `(live allocations, bytes in use, bytes reserved)` from burn's allocator, if it reports.
    device: Option<(u64, u64, u64)>,
}

fn sample(iter: usize, device: &Device) -> Sample {
    Sample {
        iter,
        rss_bytes: rss_kib() * 1024,
        device: device.memory_pool_usage().map(|u| (u.number_allocs, u.bytes_in_use, u.bytes_reserved)),
    }
}

fn print_row(s: &Sample, ms: Option<f64>) {
    let ms = ms.map_or("       -".to_string(), |m| format!("{m:8.2}"));
    let dev = match s.device {
        Some((n, used, reserved)) => format!("{n:7} {:12.3} {:12.3}", used as f64 / MB, reserved as f64 / MB),
        None => format!("{:>7} {:>12} {:>12}", "n/a", "n/a", "n/a"),
    };
    println!("{:>7} {ms} {:10.1} {dev}", s.iter, s.rss_bytes as f64 / MB);
}

/// Growth from `a` to `b`, as "+x.xxx MB (+y.yy%)".
fn growth(a: u64, b: u64) -> String {
    let d = b as f64 - a as f64;
    let pct = if a > 0 { 100.0 * d / a as f64 } else { 0.0 };
    format!("{:+.3} MB ({pct:+.2}%)", d / MB)
}

/// Least-squares slope of `y` over `x`, per 1000 of x.
fn slope_per_1000(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    if sxx == 0.0 {
        0.0
    } else {
        1000.0 * sxy / sxx
    }
}

fn main() {
    let mut positional = Vec::new();
    let (mut cpu, mut two_sizes, mut use_async, mut use_planes, mut cleanup) = (false, false, false, false, false);
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--cpu" => cpu = true,
            "--two-sizes" => two_sizes = true,
            "--async" => use_async = true,
            "--planes" => use_planes = true,
            "--cleanup" => cleanup = true,
            _ if a.starts_with("--") => panic!("unknown flag {a}"),
            _ => positional.push(a),
        }
    }
    let model_id = positional.first().map_or("ssdlite", |s| s.as_str());
    let model =
        Model::from_id(model_id).unwrap_or_else(|| panic!("model must be ssdlite or centernet, not {model_id}"));
    let n: usize = positional.get(1).map_or(10_000, |s| s.parse().expect("N"));
    let k: usize = positional.get(2).map_or(500, |s| s.parse().expect("K")).max(1);

    let device = if cpu {
        let device = reframe_detect::cpu_device();
        println!("device: {device:?} (CPU, flex)");
        device
    } else {
        let (device, setup) = Device::wgpu_options().init_with_setup().expect("wgpu device");
        let info = setup.adapter.get_info();
        println!(
            "device: {device:?}; adapter \"{}\" ({:?}, {:?} backend, driver \"{}\" {})",
            info.name, info.device_type, info.backend, info.driver, info.driver_info
        );
        device
    };

    let weights = std::fs::read(common::root().join("..").join(model.weights_path())).unwrap();
    let t = Instant::now();
    let detector = AnyDetector::from_bytes(model, weights, &device).unwrap();
    println!("{model}: weights loaded in {:.1} ms", t.elapsed().as_secs_f64() * 1e3);

    let (a, aw, ah) = common::read_png_rgba("vtest_100.png");
    let frames = if two_sizes {
        let (b, bw, bh) = common::read_png_rgba("astronaut.png");
        [(a, aw, ah), (b, bw, bh)]
    } else {
        let b = common::mirrored(&a, aw);
        [(a, aw, ah), (b, aw, ah)]
    };
    let i420: Vec<_> = frames.iter().map(|(rgba, w, h)| common::rgba_to_i420(rgba, *w as usize, *h as usize)).collect();
    let params = detector.default_params();
    let detect = |i: usize| {
        let (rgba, w, h) = &frames[i % 2];
        let boxes = if use_planes {
            let (data, planes) = &i420[i % 2];
            let frame =
                FramePlanes::new(PixelLayout::I420, PixelSize::new(*w, *h), data, planes.clone(), YuvColor::BT601)
                    .unwrap();
            let frame = std::slice::from_ref(&frame);
            if use_async {
                block_on(detector.detect_planes_batch_async(frame, Rotation::R0, &params))
            } else {
                detector.detect_planes_batch(frame, Rotation::R0, &params)
            }
            .map(|mut b| b.swap_remove(0))
        } else if use_async {
            block_on(detector.detect_batch_async(&[RgbaFrame::new(rgba, *w, *h)], &params))
                .map(|mut b| b.swap_remove(0))
        } else {
            detector.detect(rgba, *w, *h, &params)
        };
        boxes.unwrap()
    };
    println!(
        "frames: {}x{} and {}x{} alternating ({}); {} people in the first, {} in the second; {} detect",
        frames[0].1,
        frames[0].2,
        frames[1].1,
        frames[1].2,
        if use_planes { "I420 planes, scaled on the device" } else { "RGBA" },
        detect(0).len(),
        detect(1).len(),
        if use_async { "async" } else { "blocking" }
    );
    // (The two calls above are not counted below: they are part of the warm-up anyway.)

    println!("{n} inferences, a reading every {k}:");
    println!(
        "{:>7} {:>8} {:>10} {:>7} {:>12} {:>12}",
        "iter", "ms/inf", "RSS MB", "allocs", "in use MB", "reserved MB"
    );
    let mut cleaned: Vec<Sample> = Vec::new();
    let first = sample(0, &device);
    print_row(&first, None);
    let mut samples = vec![first];
    let total = Instant::now();
    let mut t = Instant::now();
    for i in 1..=n {
        let _ = detect(i);
        if i % k == 0 || i == n {
            let since = i - samples.last().unwrap().iter;
            let ms = t.elapsed().as_secs_f64() * 1e3 / since as f64;
            let s = sample(i, &device);
            print_row(&s, Some(ms));
            samples.push(s);
            if cleanup {
                device.memory_cleanup();
                let c = sample(i, &device);
                print!("  after cleanup: ");
                print_row(&c, None);
                cleaned.push(c);
            }
            t = Instant::now();
        }
    }
    if let (Some(a), Some(b)) = (cleaned.first(), cleaned.last()) {
        if let (Some((an, au, ar)), Some((bn, bu, br))) = (a.device, b.device) {
            println!(
                "after cleanup, after {} -> after {}: live allocations {an} -> {bn}, in use {:.3} -> {:.3} MB, reserved {:.3} -> {:.3} MB",
                a.iter,
                b.iter,
                au as f64 / MB,
                bu as f64 / MB,
                ar as f64 / MB,
                br as f64 / MB
            );
        }
    }
    let secs = total.elapsed().as_secs_f64();
    println!("{n} inferences in {secs:.1} s ({:.2} ms/inference)", secs * 1e3 / n as f64);

    // After warm-up (the first reading after K inferences) vs the last reading.
    if samples.len() < 3 {
        println!("too few readings to compare (need N >= 2K)");
        return;
    }
    let (w, last) = (samples[1], *samples.last().unwrap());
    let after = &samples[1..];
    let rss_peak = after.iter().map(|s| s.rss_bytes).max().unwrap();
    let rss_slope = slope_per_1000(&after.iter().map(|s| (s.iter as f64, s.rss_bytes as f64 / MB)).collect::<Vec<_>>());
    println!(
        "RSS, after {} -> after {} inferences: {:.1} -> {:.1} MB, {}; peak after warm-up {:.1} MB; trend {:+.3} MB per 1000 inferences",
        w.iter,
        last.iter,
        w.rss_bytes as f64 / MB,
        last.rss_bytes as f64 / MB,
        growth(w.rss_bytes, last.rss_bytes),
        rss_peak as f64 / MB,
        rss_slope
    );
    match (w.device, last.device) {
        (Some((wn, wu, wr)), Some((ln, lu, lr))) => {
            let reserved_peak = after.iter().filter_map(|s| s.device).map(|d| d.2).max().unwrap();
            println!(
                "device (burn allocator), after {} -> after {}: reserved {:.3} -> {:.3} MB, {} (peak {:.3} MB); in use {:.3} -> {:.3} MB, {}; live allocations {wn} -> {ln}",
                w.iter,
                last.iter,
                wr as f64 / MB,
                lr as f64 / MB,
                growth(wr, lr),
                reserved_peak as f64 / MB,
                wu as f64 / MB,
                lu as f64 / MB,
                growth(wu, lu),
            );
            // Flat: the allocator reserved nothing more after warm-up, and RSS (which on a
            // software driver includes the "GPU" buffers) moved by less than 2%.
            let flat = lr <= wr && reserved_peak <= wr && (last.rss_bytes as f64) <= w.rss_bytes as f64 * 1.02;
            println!(
                "verdict: memory {} over inferences {}..{} (criterion: device bytes reserved never above the warm-up reading, RSS growth < 2%)",
                if flat { "FLAT" } else { "NOT FLAT" },
                w.iter,
                last.iter
            );
        }
        _ => {
            let flat = (last.rss_bytes as f64) <= w.rss_bytes as f64 * 1.02;
            println!(
                "device: this backend reports no allocator usage; verdict on RSS alone: {} over inferences {}..{} (criterion: RSS growth < 2%)",
                if flat { "FLAT" } else { "NOT FLAT" },
                w.iter,
                last.iter
            );
        }
    }
}

//! Pre-processing timing (a benchmark, not a test): a decoded 1920x1080 NV12 frame to each model's
//! input, the two ways the worker can do it.
//!
//!     cargo run --release -p reframe-detect --example bench_preprocess [-- ITERATIONS [BATCH [cpu|wgpu]]]
//!     cargo run --release -p reframe-detect --features wgpu --example bench_preprocess -- 20 1 wgpu
//!
//! Prints ms per frame for:
//! * `frame_scale`: `reframe_core::frame_scale` in Rust on the CPU (area average, YUV -> RGB,
//!   upright RGBA at the input size), then the upload of that small image as the model input;
//! * `planes`: `reframe_detect::planes` as tensor ops on the device (packed upload of the whole
//!   frame, unpack, area average, YUV -> RGB), read back so the time includes the device's work.
//!
//! Both end with the input on the device, so they compare what the detector waits for.
use reframe_core::frame_scale::{FramePlanes, PixelLayout, Plane, YuvColor};
use reframe_core::units::{PixelSize, Rotation};
use reframe_detect::{planes, Model, RgbaFrame};

mod support;
use support::{device, time_ms};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let iters: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let batch: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let device = device(args.get(3).map(String::as_str).unwrap_or("cpu"));
    println!("device {device:?}, batches of {batch}, {iters} runs per figure");

    // A 1080p NV12 frame with detail in both planes, as a decoder hands it over.
    let (w, h) = (1920usize, 1080usize);
    let mut data: Vec<u8> = (0..w * h).map(|i| ((i * 7 + i / w * 13) % 220 + 16) as u8).collect();
    data.extend((0..w * h / 2).map(|i| ((i * 3 + i / w * 5) % 200 + 28) as u8));
    let layout = vec![Plane { offset: 0, stride: w }, Plane { offset: w * h, stride: w }];
    let frame = FramePlanes::new(PixelLayout::Nv12, PixelSize::new(w as u32, h as u32), &data, layout, YuvColor::BT709)
        .unwrap();
    let frames = vec![frame; batch];

    for model in Model::ALL {
        let side = model.input_size();
        let cpu = time_ms(iters, || {
            let images: Vec<Vec<u8>> =
                frames.iter().map(|f| f.upright_rgba(Rotation::R0, PixelSize::new(side as u32, side as u32))).collect();
            let rgba: Vec<RgbaFrame> = images.iter().map(|i| RgbaFrame::new(i, side as u32, side as u32)).collect();
            let input = reframe_detect::preprocess::upload_rgba(&rgba, &device).unwrap().float();
            let _ = input.into_data();
        }) / batch as f64;
        let tensor = time_ms(iters, || {
            let input = planes::upright_rgb(&frames, Rotation::R0, side, side, &device).unwrap();
            let _ = input.into_data();
        }) / batch as f64;
        println!(
            "{model:?} ({side}x{side}): frame_scale (CPU) {cpu:.2} ms/frame, planes (device) {tensor:.2} ms/frame"
        );
    }
}

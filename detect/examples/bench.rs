//! Detector timing (a benchmark, not a test):
//!
//!     cargo run --release -p reframe-detect --example bench [-- ITERATIONS [BATCHES]]
//!     cargo run --release -p reframe-detect --features wgpu --example bench -- ITERATIONS BATCHES wgpu
//!
//! For both models, SSDLite (FAST, 300x300) and CenterNet (QUALITY, 512x512), and each batch size
//! in BATCHES (default `1,2,4,8`), prints ms per frame for:
//! * the model only (a prepared input of `n` frames, network + readback of what the detector keeps);
//! * the whole pipeline on `n` frames of 768x576 RGBA, the size of vtest.avi (one upload, resize,
//!   network, one readback, box decoding + NMS per frame).
//!
//! The device is burn's CPU backend, or with `wgpu` (and the `wgpu` feature) a native wgpu adapter
//! (Vulkan; on a machine without a GPU that is Mesa's lavapipe, a software renderer).
use std::time::Instant;

use reframe_detect::{AnyDetector, Model, PersonModel, RgbaFrame};

mod support;
use support::{device, time_ms};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let iters: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let batches: Vec<usize> =
        args.get(2).map(|s| s.split(',').filter_map(|b| b.parse().ok()).collect()).unwrap_or_else(|| vec![1, 2, 4, 8]);
    let device = device(args.get(3).map(String::as_str).unwrap_or("cpu"));
    // The detect/ folder (`REFRAME_DETECT_DIR` when the binary runs elsewhere, see scripts/gpu-check).
    let root = std::env::var_os("REFRAME_DETECT_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    println!("device {device:?}, {iters} runs per figure");

    // 768x576 frames (vtest.avi's size), different per batch slot so no slot is a copy.
    let (w, h) = (768u32, 576u32);
    let frames: Vec<Vec<u8>> = (0..*batches.iter().max().unwrap_or(&1))
        .map(|k| (0..(w * h * 4) as usize).map(|i| ((i * 13 + k * 101) % 253) as u8).collect())
        .collect();

    for model in Model::ALL {
        let weights = std::fs::read(root.join("..").join(model.weights_path())).unwrap();
        let t = Instant::now();
        let detector = AnyDetector::from_bytes(model, weights, &device).unwrap();
        let side = model.input_size() as u32;
        println!("\n{} ({side}x{side}): weights loaded in {:.1} ms", model.name(), t.elapsed().as_secs_f64() * 1e3);
        println!("{:>6} {:>16} {:>22}", "batch", "model ms/frame", "pipeline ms/frame");
        let params = detector.default_params();
        let square: Vec<u8> = (0..(side * side * 4) as usize).map(|i| (i * 7 % 251) as u8).collect();
        for &n in &batches {
            let model_only = {
                let inputs: Vec<RgbaFrame> = (0..n).map(|_| RgbaFrame::new(&square, side, side)).collect();
                match &detector {
                    AnyDetector::Ssdlite(d) => {
                        let input = d.preprocess_batch(&inputs).unwrap();
                        time_ms(iters, || drop(d.infer_raw_batch(input.clone()).unwrap()))
                    }
                    AnyDetector::CenterNet(d) => {
                        let input = d.preprocess_batch(&inputs).unwrap();
                        time_ms(iters, || drop(d.infer_raw_batch(input.clone()).unwrap()))
                    }
                }
            };
            let batch: Vec<RgbaFrame> = frames[..n].iter().map(|f| RgbaFrame::new(f, w, h)).collect();
            let pipeline = time_ms(iters, || drop(detector.detect_batch(&batch, &params).unwrap()));
            println!("{n:>6} {:>16.1} {:>22.1}", model_only / n as f64, pipeline / n as f64);
        }
    }
}

//! CPU timing (a benchmark, not a test):
//!
//!     cargo run --release -p reframe-detect --example bench [-- iterations]
//!
//! Prints ms/frame for one inference (model only, including readback) and for the whole pipeline
//! on a 768x576 frame (upload + resize + model + decode + NMS), for both models: SSDLite (FAST,
//! 300x300) and CenterNet (QUALITY, 512x512).
use std::time::Instant;

use reframe_detect::centernet::CenterNetDetector;
use reframe_detect::{cpu_device, DetectParams, Detector, Model};

fn main() {
    let iters: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let weights = std::fs::read(root.join("../models/ssdlite/ssdlite_person.bpk")).unwrap();
    let device = cpu_device();
    let t = Instant::now();
    let detector = Detector::from_bytes(weights, &device).unwrap();
    println!("device {device:?}; SSDLite weights loaded in {:.1} ms", t.elapsed().as_secs_f64() * 1e3);

    // Model only, on a fixed 300x300 input.
    let frame300: Vec<u8> = (0..300 * 300 * 4).map(|i| (i * 7 % 251) as u8).collect();
    let input = detector.preprocess(&frame300, 300, 300).unwrap();
    for _ in 0..3 {
        detector.infer_raw(input.clone()).unwrap();
    }
    let t = Instant::now();
    for _ in 0..iters {
        detector.infer_raw(input.clone()).unwrap();
    }
    let ms = t.elapsed().as_secs_f64() * 1e3 / iters as f64;
    println!("SSDLite model only, 1x3x300x300: {ms:.1} ms/frame over {iters} runs");

    // Whole pipeline on a 768x576 frame of zeros-and-noise (same size as vtest.avi).
    let (w, h) = (768u32, 576u32);
    let frame: Vec<u8> = (0..(w * h * 4) as usize).map(|i| (i * 13 % 253) as u8).collect();
    let params = DetectParams::default();
    detector.detect(&frame, w, h, &params).unwrap();
    let t = Instant::now();
    for _ in 0..iters {
        detector.detect(&frame, w, h, &params).unwrap();
    }
    let ms = t.elapsed().as_secs_f64() * 1e3 / iters as f64;
    println!("SSDLite pipeline, RGBA {w}x{h} -> boxes: {ms:.1} ms/frame over {iters} runs");

    // QUALITY model: CenterNet-MobileNetV3, 512x512.
    let weights = std::fs::read(root.join("../models/centernet/centernet_person.bpk")).unwrap();
    let t = Instant::now();
    let detector = CenterNetDetector::from_bytes(weights, &device).unwrap();
    println!("CenterNet weights loaded in {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let frame512: Vec<u8> = (0..512 * 512 * 4).map(|i| (i * 7 % 251) as u8).collect();
    let input = detector.preprocess(&frame512, 512, 512).unwrap();
    for _ in 0..3 {
        detector.infer_raw(input.clone()).unwrap();
    }
    let t = Instant::now();
    for _ in 0..iters {
        detector.infer_raw(input.clone()).unwrap();
    }
    let ms = t.elapsed().as_secs_f64() * 1e3 / iters as f64;
    println!("CenterNet model only, 1x3x512x512 (person channel + wh read back): {ms:.1} ms/frame over {iters} runs");
    let params = Model::CenterNet.default_params();
    detector.detect(&frame, w, h, &params).unwrap();
    let t = Instant::now();
    for _ in 0..iters {
        detector.detect(&frame, w, h, &params).unwrap();
    }
    let ms = t.elapsed().as_secs_f64() * 1e3 / iters as f64;
    println!("CenterNet pipeline, RGBA {w}x{h} -> boxes: {ms:.1} ms/frame over {iters} runs");
}

//! The burn model (CPU backend) against onnxruntime on the same ONNX, on fixed inputs.
//!
//! Fixtures come from `models/convert/make_fixtures.py` (onnxruntime 1.26 on
//! `models/ssdlite/ssdlite_person.onnx`, the same legacy-bilinear pre-processing in numpy, and a
//! numpy decode with the same rules). The Rust side runs its own pre-processing on the PNG, so the
//! whole chain is checked: RGBA frame -> tensors -> model -> decode -> boxes in source pixels.
#![cfg(any(feature = "ndarray", feature = "flex"))]


use reframe_detect::{cpu_device, DetectParams, Detector};

const RAW_TOLERANCE: f32 = 1e-3;

mod common;
use common::*;

fn weights() -> Vec<u8> {
    std::fs::read(root().join("../models/ssdlite/ssdlite_person.bpk")).expect("models/ssdlite/ssdlite_person.bpk")
}


fn check(detector: &Detector, name: &str) {
    let (rgba, w, h) = read_png_rgba(&format!("{name}.png"));
    let input = detector.preprocess(&rgba, w, h).unwrap();
    assert_eq!(input.dims(), [1, 3, 300, 300]);
    let raw = detector.infer_raw(input).unwrap();

    let ref_boxes = read_f32(&format!("{name}.boxes.bin"));
    let ref_logits = read_f32(&format!("{name}.logits.bin"));
    let d_boxes = max_abs_diff(&raw.box_encodings, &ref_boxes);
    let d_logits = max_abs_diff(&raw.class_logits, &ref_logits);
    println!("{name}: {w}x{h}, max abs diff vs onnxruntime: box encodings {d_boxes:.3e}, class logits {d_logits:.3e}");
    assert!(d_boxes <= RAW_TOLERANCE, "{name}: box encodings differ by {d_boxes}");
    assert!(d_logits <= RAW_TOLERANCE, "{name}: class logits differ by {d_logits}");

    let reference = read_reference(&format!("{name}.detections.json"));
    let params = DetectParams {
        score_threshold: reference.score_threshold,
        iou_threshold: reference.iou_threshold,
        max_detections: reference.max_detections,
    };
    let got = detector.decode(&raw, w, h, &params);
    println!("{name}: {} boxes (reference {})", got.len(), reference.boxes.len());
    assert!(!reference.boxes.is_empty(), "{name}: the reference should find people");
    assert_eq!(got.len(), reference.boxes.len(), "{name}: number of boxes");
    let (mut d_px, mut d_score) = (0.0f32, 0.0f32);
    for (g, r) in got.iter().zip(&reference.boxes) {
        println!(
            "  x {:7.2} y {:7.2} w {:7.2} h {:7.2} score {:.4}   (ref {:7.2} {:7.2} {:7.2} {:7.2} {:.4})",
            g.x, g.y, g.width, g.height, g.score, r[0], r[1], r[2], r[3], r[4]
        );
        d_px = d_px.max(max_abs_diff(&[g.x, g.y, g.width, g.height], &r[..4]));
        d_score = d_score.max((g.score - r[4]).abs());
    }
    println!("{name}: decoded boxes max abs diff {d_px:.3e} px, scores {d_score:.3e}");
    // Same boxes: same count and order, within half a pixel and 1e-3 in score.
    assert!(d_px <= 0.5, "{name}: boxes differ by {d_px} px");
    assert!(d_score <= 1e-3, "{name}: scores differ by {d_score}");
}

#[test]
fn burn_cpu_matches_onnxruntime_on_fixtures() {
    let device = cpu_device();
    let detector = Detector::from_bytes(weights(), &device).unwrap();
    check(&detector, "astronaut");
    check(&detector, "vtest_100");
}

#[test]
fn truncated_weights_are_an_error_not_a_panic() {
    let mut w = weights();
    w.truncate(1000);
    assert!(Detector::from_bytes(w, &cpu_device()).is_err());
}

#[test]
fn bad_frame_size_is_an_error() {
    let detector = Detector::from_bytes(weights(), &cpu_device()).unwrap();
    assert!(detector.preprocess(&[0u8; 12], 2, 2).is_err());
}

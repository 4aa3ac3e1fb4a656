//! The burn model (CPU backend) against onnxruntime on the same ONNX, on fixed inputs.
//!
//! Fixtures come from `models/convert/make_fixtures.py` (onnxruntime 1.26 on
//! `models/ssdlite/ssdlite_person.onnx`, the same legacy-bilinear pre-processing in numpy, and a
//! numpy decode with the same rules). The Rust side runs its own pre-processing on the PNG, so the
//! whole chain is checked: RGBA frame -> tensors -> model -> decode -> boxes in source pixels.
#![cfg(any(feature = "ndarray", feature = "flex"))]

use reframe_detect::ssdlite::SsdliteDetector;
use reframe_detect::{cpu_device, DetectParams, PersonModel, RgbaFrame};

const RAW_TOLERANCE: f32 = 1e-3;

mod common;
use common::*;

fn weights() -> Vec<u8> {
    std::fs::read(root().join("../models/ssdlite/ssdlite_person.bpk")).expect("models/ssdlite/ssdlite_person.bpk")
}

fn check(detector: &SsdliteDetector, name: &str) {
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
    let detector = SsdliteDetector::from_bytes(weights(), &device).unwrap();
    check(&detector, "astronaut");
    check(&detector, "vtest_100");
}

#[test]
fn truncated_weights_are_an_error_not_a_panic() {
    let mut w = weights();
    w.truncate(1000);
    assert!(SsdliteDetector::from_bytes(w, &cpu_device()).is_err());
}

#[test]
fn bad_frame_size_is_an_error() {
    let detector = SsdliteDetector::from_bytes(weights(), &cpu_device()).unwrap();
    assert!(detector.preprocess(&[0u8; 12], 2, 2).is_err());
}

/// A batch of three frames (vtest, vtest mirrored, vtest) gives each frame the outputs it gets
/// alone, and the first and last the onnxruntime reference.
#[test]
fn a_batch_gives_each_frame_its_own_outputs() {
    let detector = SsdliteDetector::from_bytes(weights(), &cpu_device()).unwrap();
    let (rgba, w, h) = read_png_rgba("vtest_100.png");
    let flipped = mirrored(&rgba, w);
    let frames = [RgbaFrame::new(&rgba, w, h), RgbaFrame::new(&flipped, w, h), RgbaFrame::new(&rgba, w, h)];
    let input = detector.preprocess_batch(&frames).unwrap();
    assert_eq!(input.dims(), [3, 3, 300, 300]);
    let batch = detector.infer_raw_batch(input).unwrap();
    assert_eq!(batch.len(), 3);
    let reference = read_f32("vtest_100.logits.bin");
    for (i, f) in frames.iter().enumerate() {
        let alone = detector.infer_raw(detector.preprocess(f.rgba, w, h).unwrap()).unwrap();
        let d_boxes = max_abs_diff(&batch[i].box_encodings, &alone.box_encodings);
        let d_logits = max_abs_diff(&batch[i].class_logits, &alone.class_logits);
        println!("batch slot {i}: vs alone: box encodings {d_boxes:.3e}, logits {d_logits:.3e}");
        assert!(d_boxes <= 1e-4 && d_logits <= 1e-4, "slot {i} differs from its frame run alone");
    }
    assert!(max_abs_diff(&batch[0].class_logits, &reference) <= RAW_TOLERANCE);
    assert!(max_abs_diff(&batch[2].class_logits, &reference) <= RAW_TOLERANCE);
    assert!(max_abs_diff(&batch[1].class_logits, &reference) > 0.1, "the mirrored frame must differ");

    let params = DetectParams::default();
    let found = detector.detect_batch(&frames, &params).unwrap();
    assert_eq!(found.len(), 3);
    assert_eq!(found[0], detector.detect(&rgba, w, h, &params).unwrap());
    assert_eq!(found[0], found[2]);
    // The mirrored frame's people are the same people, mirrored: same count within one.
    assert!(found[1].len().abs_diff(found[0].len()) <= 1, "{} vs {}", found[1].len(), found[0].len());
}

#[test]
fn bad_batches_are_errors() {
    let detector = SsdliteDetector::from_bytes(weights(), &cpu_device()).unwrap();
    assert!(detector.preprocess_batch(&[]).is_err());
    let (a, b) = (vec![0u8; 4 * 4 * 4], vec![0u8; 4 * 2 * 4]);
    assert!(detector.preprocess_batch(&[RgbaFrame::new(&a, 4, 4), RgbaFrame::new(&b, 4, 2)]).is_err());
}

//! The burn model (CPU backend) against onnxruntime on the same ONNX, on fixed inputs.
//!
//! Fixtures come from `models/convert/make_fixtures.py` (onnxruntime 1.26 on
//! `models/ssdlite/ssdlite_person.onnx`, the same legacy-bilinear pre-processing in numpy, and a
//! numpy decode with the same rules). The Rust side runs its own pre-processing on the PNG, so the
//! whole chain is checked: RGBA frame -> tensors -> model -> decode -> boxes in source pixels.
#![cfg(any(feature = "ndarray", feature = "flex"))]

use std::path::PathBuf;

use reframe_detect::{cpu_device, DetectParams, Detector};

const RAW_TOLERANCE: f32 = 1e-3;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn weights() -> Vec<u8> {
    std::fs::read(root().join("../models/ssdlite/ssdlite_person.bpk")).expect("models/ssdlite/ssdlite_person.bpk")
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

fn read_f32(name: &str) -> Vec<f32> {
    let b = std::fs::read(fixture(name)).unwrap();
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// PNG (RGB or RGBA, 8 bit) -> RGBA bytes, width, height.
fn read_png_rgba(name: &str) -> (Vec<u8>, u32, u32) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(fixture(name)).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let px = &buf[..info.buffer_size()];
    let rgba = match info.color_type {
        png::ColorType::Rgba => px.to_vec(),
        png::ColorType::Rgb => px.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    (rgba, info.width, info.height)
}

/// Minimal reader for the reference JSON (flat objects of numbers, written by make_fixtures.py).
struct Reference {
    score_threshold: f32,
    iou_threshold: f32,
    max_detections: usize,
    /// (x, y, width, height, score)
    boxes: Vec<[f32; 5]>,
}

fn number_after(s: &str, key: &str) -> f64 {
    let i = s.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("key {key}")) + key.len() + 3;
    let rest = s[i..].trim_start();
    let end = rest.find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c))).unwrap_or(rest.len());
    rest[..end].parse().unwrap()
}

fn read_reference(name: &str) -> Reference {
    let s = std::fs::read_to_string(fixture(name)).unwrap();
    let list = &s[s.find("\"boxes\":").unwrap()..];
    let boxes = list
        .split('{')
        .skip(1)
        .map(|obj| {
            let f = |k| number_after(obj, k) as f32;
            [f("x"), f("y"), f("width"), f("height"), f("score")]
        })
        .collect();
    Reference {
        score_threshold: number_after(&s, "score_threshold") as f32,
        iou_threshold: number_after(&s, "iou_threshold") as f32,
        max_detections: number_after(&s, "max_detections") as usize,
        boxes,
    }
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
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

//! The face detector (BlazeFace) in burn (CPU backend) against onnxruntime on the same ONNX, on
//! fixed inputs, and the region (crop) and batch paths.
//!
//! Fixtures come from `models/convert/make_fixtures_blazeface.py` (onnxruntime 1.26 on
//! `models/blazeface/blazeface.onnx`, the same letterbox pre-processing in numpy, and a numpy decode
//! with the same rules). The Rust side runs its own pre-processing on the PNG, so the whole chain
//! is checked: RGBA frame -> tensors -> model -> decode -> faces in source pixels.
#![cfg(any(feature = "ndarray", feature = "flex"))]

use reframe_detect::face::{FaceDetector, Keypoint, PixelRect, DEFAULT_PARAMS, NUM_ANCHORS, NUM_COORDS};
use reframe_detect::{cpu_device, DetectParams, RgbaFrame};

mod common;
use common::*;

/// burn vs onnxruntime on a raw output: |burn - ort| <= RAW_TOLERANCE * max(1, |ort|). The logits
/// reach -6,500 over the letterbox bars, where one float32 step is 5e-4.
const RAW_TOLERANCE: f32 = 1e-4;
const NAMES: [&str; 3] = ["astronaut", "megamind_150", "basketball1"];

fn weights() -> Vec<u8> {
    std::fs::read(root().join("../models/blazeface/blazeface.bpk")).expect("models/blazeface/blazeface.bpk")
}

fn detector() -> FaceDetector {
    FaceDetector::from_bytes(weights(), &cpu_device()).unwrap()
}

/// (max abs difference, max difference relative to max(1, |reference|)).
fn diffs(got: &[f32], reference: &[f32]) -> (f32, f32) {
    assert_eq!(got.len(), reference.len());
    got.iter().zip(reference).fold((0.0f32, 0.0f32), |(a, r), (g, e)| {
        let d = (g - e).abs();
        (a.max(d), r.max(d / e.abs().max(1.0)))
    })
}

/// One face of the reference JSON: x, y, width, height, score, then 12 keypoint coordinates.
struct RefFace {
    rect: [f32; 5],
    keypoints: Vec<f32>,
}

fn read_faces(name: &str) -> (DetectParams, Vec<RefFace>) {
    let s = std::fs::read_to_string(fixture(name)).unwrap();
    let params = DetectParams {
        score_threshold: number_after(&s, "score_threshold") as f32,
        iou_threshold: number_after(&s, "iou_threshold") as f32,
        max_detections: number_after(&s, "max_faces") as usize,
    };
    let list = &s[s.find("\"faces\":").unwrap()..];
    let faces = list
        .split('{')
        .skip(1)
        .map(|obj| {
            let f = |k| number_after(obj, k) as f32;
            let kp = &obj[obj.find("\"keypoints\":").unwrap()..];
            let kp = &kp[kp.find('[').unwrap() + 1..kp.find(']').unwrap()];
            let keypoints = kp.split(',').map(|v| v.trim().parse::<f32>().unwrap()).collect::<Vec<_>>();
            assert_eq!(keypoints.len(), 12);
            RefFace { rect: [f("x"), f("y"), f("width"), f("height"), f("score")], keypoints }
        })
        .collect();
    (params, faces)
}

fn check(detector: &FaceDetector, name: &str) {
    let (rgba, w, h) = read_png_rgba(&format!("{name}.png"));
    let input = detector.preprocess_batch(&[RgbaFrame::new(&rgba, w, h)]).unwrap();
    assert_eq!(input.dims(), [1, 3, 256, 256]);
    let raw = detector.infer_raw_batch(input).unwrap().swap_remove(0);
    assert_eq!(raw.regressors.len(), NUM_ANCHORS * NUM_COORDS);
    assert_eq!(raw.logits.len(), NUM_ANCHORS);

    let (reg_abs, reg_rel) = diffs(&raw.regressors, &read_f32(&format!("{name}.blazeface.regressors.bin")));
    let (log_abs, log_rel) = diffs(&raw.logits, &read_f32(&format!("{name}.blazeface.logits.bin")));
    println!(
        "{name}: {w}x{h}, burn vs onnxruntime: regressors max abs {reg_abs:.3e} px (rel {reg_rel:.3e}), \
         logits max abs {log_abs:.3e} (rel {log_rel:.3e})"
    );
    assert!(reg_rel <= RAW_TOLERANCE, "{name}: regressors differ by {reg_rel} (relative)");
    assert!(log_rel <= RAW_TOLERANCE, "{name}: logits differ by {log_rel} (relative)");

    let (params, reference) = read_faces(&format!("{name}.blazeface.faces.json"));
    let got = detector.decode(&raw, w, h, &params);
    println!("{name}: {} faces (reference {})", got.len(), reference.len());
    assert!(!reference.is_empty(), "{name}: the reference should find a face");
    assert_eq!(got.len(), reference.len(), "{name}: number of faces");
    let (mut d_px, mut d_kp, mut d_score) = (0.0f32, 0.0f32, 0.0f32);
    for (g, r) in got.iter().zip(&reference) {
        println!(
            "  x {:7.2} y {:7.2} w {:7.2} h {:7.2} score {:.4}   (ref {:7.2} {:7.2} {:7.2} {:7.2} {:.4})",
            g.x, g.y, g.width, g.height, g.score, r.rect[0], r.rect[1], r.rect[2], r.rect[3], r.rect[4]
        );
        d_px = d_px.max(max_abs_diff(&[g.x, g.y, g.width, g.height], &r.rect[..4]));
        let kps: Vec<f32> = g.keypoints.iter().flat_map(|&(x, y)| [x, y]).collect();
        d_kp = d_kp.max(max_abs_diff(&kps, &r.keypoints));
        d_score = d_score.max((g.score - r.rect[4]).abs());
    }
    println!("{name}: decoded faces max abs diff: box {d_px:.3e} px, keypoints {d_kp:.3e} px, score {d_score:.3e}");
    // Same faces: same count and order, within half a pixel and 1e-3 in score.
    assert!(d_px <= 0.5, "{name}: boxes differ by {d_px} px");
    assert!(d_kp <= 0.5, "{name}: keypoints differ by {d_kp} px");
    assert!(d_score <= 1e-3, "{name}: scores differ by {d_score}");
}

#[test]
fn burn_cpu_matches_onnxruntime_on_fixtures() {
    let detector = detector();
    for name in NAMES {
        check(&detector, name);
    }
}

fn near(p: (f32, f32), q: (f32, f32), tol: f32) -> bool {
    (p.0 - q.0).abs() <= tol && (p.1 - q.1).abs() <= tol
}

/// The astronaut (512x512, looking at the camera): one face at the app's threshold, the eyes
/// where they are in the picture (read off the image by eye: the eye on the image's left near
/// (203, 102), the other near (248, 104)), the nose below and between them, the mouth below it.
#[test]
fn astronaut_face_and_eyes() {
    let detector = detector();
    let (rgba, w, h) = read_png_rgba("astronaut.png");
    let faces = detector.detect(RgbaFrame::new(&rgba, w, h), &DEFAULT_PARAMS).unwrap();
    assert_eq!(faces.len(), 1, "{faces:?}");
    let f = faces[0];
    println!("astronaut: {f:?}");
    assert!(f.score > 0.8, "{f:?}");
    let (right, left) = (f.keypoint(Keypoint::RightEye), f.keypoint(Keypoint::LeftEye));
    assert!(near(right, (203.0, 102.0), 8.0), "right eye (the person's) {right:?}");
    assert!(near(left, (248.0, 104.0), 8.0), "left eye {left:?}");
    let (nose, mouth) = (f.keypoint(Keypoint::NoseTip), f.keypoint(Keypoint::Mouth));
    assert!(nose.0 > right.0 && nose.0 < left.0 && nose.1 > right.1 + 10.0, "nose {nose:?}");
    assert!(mouth.1 > nose.1 + 10.0, "mouth {mouth:?}");
    let (right_ear, left_ear) = (f.keypoint(Keypoint::RightEar), f.keypoint(Keypoint::LeftEar));
    assert!(right_ear.0 < right.0 && left_ear.0 > left.0, "ears {right_ear:?} {left_ear:?}");
    // The box holds the eyes, nose and mouth.
    for p in [right, left, nose, mouth] {
        assert!(p.0 > f.x && p.0 < f.x + f.width && p.1 > f.y && p.1 < f.y + f.height, "{p:?} outside {f:?}");
    }
}

/// A region is exactly its pixels: the astronaut pasted into a larger black frame and looked for
/// in that region gives the astronaut's own faces, moved by the region's offset.
#[test]
fn a_region_gives_its_own_faces_in_frame_pixels() {
    let detector = detector();
    let (rgba, w, h) = read_png_rgba("astronaut.png");
    let (fw, fh, ox, oy) = (900u32, 700u32, 150u32, 100u32);
    let mut big = vec![0u8; (fw * fh * 4) as usize];
    for row in 0..h {
        let src = &rgba[(row * w * 4) as usize..][..(w * 4) as usize];
        big[(((oy + row) * fw + ox) * 4) as usize..][..(w * 4) as usize].copy_from_slice(src);
    }
    let alone = detector.detect(RgbaFrame::new(&rgba, w, h), &DEFAULT_PARAMS).unwrap();
    let region = PixelRect::new(ox, oy, w, h);
    let found = detector.detect_in_region(RgbaFrame::new(&big, fw, fh), region, &DEFAULT_PARAMS).unwrap();
    assert_eq!(found.len(), alone.len());
    for (g, a) in found.iter().zip(&alone) {
        assert!((g.x - a.x - ox as f32).abs() < 1e-3 && (g.y - a.y - oy as f32).abs() < 1e-3, "{g:?} vs {a:?}");
        assert_eq!((g.width, g.height, g.score), (a.width, a.height, a.score));
        for (p, q) in g.keypoints.iter().zip(&a.keypoints) {
            assert!(near(*p, (q.0 + ox as f32, q.1 + oy as f32), 1e-3), "{p:?} vs {q:?}");
        }
    }
    // The whole frame as a region is the frame.
    let (rgba, w, h) = read_png_rgba("megamind_150.png");
    let frame = RgbaFrame::new(&rgba, w, h);
    assert_eq!(
        detector.detect_in_region(frame, PixelRect::new(0, 0, w, h), &DEFAULT_PARAMS).unwrap(),
        detector.detect(frame, &DEFAULT_PARAMS).unwrap()
    );
}

/// The intended use: the upper part of a person's box (here the left player of basketball1.png,
/// head and shoulders, 130x130 px of a 640x480 frame). The model then sees the face 1.9x larger
/// than in the whole (letterboxed) frame, where it is 28 px wide: the same face, centred within
/// 2 px of the whole-frame one, found with a higher score, its box larger (38 px: it reaches the
/// chin and hair line, the whole-frame box does not) and its eyes on the eyes (read off the image
/// by eye: near (83.5, 107) and (98.5, 106.5); the whole frame's are up to 5 px off).
#[test]
fn the_face_in_the_upper_part_of_a_person() {
    let detector = detector();
    let (rgba, w, h) = read_png_rgba("basketball1.png");
    let frame = RgbaFrame::new(&rgba, w, h);
    let whole = detector.detect(frame, &DEFAULT_PARAMS).unwrap();
    assert_eq!(whole.len(), 1, "{whole:?}");
    let region = PixelRect::new(20, 60, 130, 130);
    let found = detector.detect_in_region(frame, region, &DEFAULT_PARAMS).unwrap();
    println!("basketball1: whole frame {:?}\n  in region {region:?}: {found:?}", whole[0]);
    assert_eq!(found.len(), 1, "{found:?}");
    let (f, g) = (found[0], whole[0]);
    assert!(f.x >= region.x as f32 && f.y >= region.y as f32);
    assert!(f.x + f.width <= region.right() as f32 && f.y + f.height <= region.bottom() as f32);
    assert!(near(f.centre(), g.centre(), 2.0), "{f:?} vs {g:?}");
    assert!(f.width > g.width && f.width < g.width * 1.5, "{f:?} vs {g:?}");
    assert!(f.score > g.score, "{f:?} vs {g:?}");
    assert!(near(f.keypoint(Keypoint::RightEye), (83.5, 107.0), 2.5), "{f:?}");
    assert!(near(f.keypoint(Keypoint::LeftEye), (98.5, 106.5), 2.5), "{f:?}");
    // Eyes, nose and mouth within 6 px of the whole frame's (the ears, the least sure points,
    // differ by up to 7.1 px).
    for k in [Keypoint::RightEye, Keypoint::LeftEye, Keypoint::NoseTip, Keypoint::Mouth] {
        assert!(near(f.keypoint(k), g.keypoint(k), 6.0), "{k:?}: {:?} vs {:?}", f.keypoint(k), g.keypoint(k));
    }
}

/// Regions of different sizes (of different frames) in one run: each gets the faces it gets alone.
/// And a batch of frames of one size: each frame's own faces.
#[test]
fn batches_give_each_input_its_own_faces() {
    let detector = detector();
    let (a, aw, ah) = read_png_rgba("astronaut.png");
    let (m, mw, mh) = read_png_rgba("megamind_150.png");
    let (b, bw, bh) = read_png_rgba("basketball1.png");
    let items = [
        (RgbaFrame::new(&a, aw, ah), PixelRect::new(100, 20, 260, 240)),
        (RgbaFrame::new(&m, mw, mh), PixelRect::new(0, 0, mw, mh)),
        (RgbaFrame::new(&b, bw, bh), PixelRect::new(20, 60, 130, 130)),
    ];
    let batch = detector.detect_regions(&items, &DEFAULT_PARAMS).unwrap();
    assert_eq!(batch.len(), 3);
    for (i, (frame, region)) in items.iter().enumerate() {
        let alone = detector.detect_in_region(*frame, *region, &DEFAULT_PARAMS).unwrap();
        assert_eq!(batch[i].len(), alone.len(), "region {i}");
        assert!(!alone.is_empty(), "region {i} should hold a face");
        for (g, e) in batch[i].iter().zip(&alone) {
            let d = max_abs_diff(&[g.x, g.y, g.width, g.height, g.score], &[e.x, e.y, e.width, e.height, e.score]);
            assert!(d < 1e-3, "region {i}: batch {g:?} vs alone {e:?}");
        }
    }

    let flipped = mirrored(&a, aw);
    let frames = [RgbaFrame::new(&a, aw, ah), RgbaFrame::new(&flipped, aw, ah)];
    let found = detector.detect_batch(&frames, &DEFAULT_PARAMS).unwrap();
    assert_eq!(found[0], detector.detect(frames[0], &DEFAULT_PARAMS).unwrap());
    assert_eq!(found[1].len(), 1);
    // The mirrored face: mirrored box (within a few px), and its right eye is again on the image's left.
    let (f, g) = (found[0][0], found[1][0]);
    assert!(near(g.centre(), (aw as f32 - f.centre().0, f.centre().1), 4.0), "{f:?} vs mirrored {g:?}");
    assert!(g.keypoint(Keypoint::RightEye).0 < g.keypoint(Keypoint::LeftEye).0);
}

#[test]
fn truncated_weights_and_bad_regions_are_errors_not_panics() {
    let mut w = weights();
    w.truncate(1000);
    assert!(FaceDetector::from_bytes(w, &cpu_device()).is_err());
    let other = std::fs::read(root().join("../models/ssdlite/ssdlite_person.bpk")).unwrap();
    assert!(FaceDetector::from_bytes(other, &cpu_device()).is_err(), "another model's weights");

    let detector = detector();
    let rgba = vec![0u8; 64 * 48 * 4];
    let frame = RgbaFrame::new(&rgba, 64, 48);
    for region in [PixelRect::new(0, 0, 65, 10), PixelRect::new(60, 40, 5, 5), PixelRect::new(0, 0, 0, 10)] {
        let e = detector.detect_in_region(frame, region, &DEFAULT_PARAMS);
        assert!(e.is_err(), "{region:?}");
        println!("{region:?}: {}", e.unwrap_err());
    }
    assert!(detector.detect_regions(&[], &DEFAULT_PARAMS).is_err());
    assert!(detector.detect(RgbaFrame::new(&rgba[..100], 64, 48), &DEFAULT_PARAMS).is_err());
    // A black frame holds no face.
    assert!(detector.detect(frame, &DEFAULT_PARAMS).unwrap().is_empty());
}

/// Time per inference on the CPU backend (not a test: `cargo test --release -p reframe-detect
/// --test blazeface_reference -- --ignored --nocapture`).
#[test]
#[ignore]
fn time_per_inference() {
    let detector = detector();
    let (rgba, w, h) = read_png_rgba("astronaut.png");
    let frame = RgbaFrame::new(&rgba, w, h);
    let input256: Vec<u8> = {
        // a 256x256 frame: no resize, only the model
        let mut v = Vec::with_capacity(256 * 256 * 4);
        for row in 0..256usize {
            v.extend_from_slice(&rgba[row * 2 * w as usize * 4..][..256 * 4]);
        }
        v
    };
    let small = RgbaFrame::new(&input256, 256, 256);
    for _ in 0..3 {
        detector.detect(small, &DEFAULT_PARAMS).unwrap();
    }
    let runs = 30;
    let t = std::time::Instant::now();
    for _ in 0..runs {
        let input = detector.preprocess_batch(&[small]).unwrap();
        detector.infer_raw_batch(input).unwrap();
    }
    let model_ms = t.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    let t = std::time::Instant::now();
    for _ in 0..runs {
        detector.detect(frame, &DEFAULT_PARAMS).unwrap();
    }
    let whole_ms = t.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    let region = PixelRect::new(100, 20, 260, 240);
    let t = std::time::Instant::now();
    for _ in 0..runs {
        detector.detect_in_region(frame, region, &DEFAULT_PARAMS).unwrap();
    }
    let region_ms = t.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    let regions: Vec<_> = (0..4).map(|_| (frame, region)).collect();
    let t = std::time::Instant::now();
    for _ in 0..runs / 3 {
        detector.detect_regions(&regions, &DEFAULT_PARAMS).unwrap();
    }
    let four_ms = t.elapsed().as_secs_f64() * 1000.0 / (runs / 3) as f64;
    println!(
        "BlazeFace on {:?}: 256x256 frame, upload + network + readback {model_ms:.2} ms; whole pipeline on \
         512x512 {whole_ms:.2} ms; on a 260x240 region {region_ms:.2} ms; 4 regions in one run {four_ms:.2} ms",
        detector.device()
    );
}

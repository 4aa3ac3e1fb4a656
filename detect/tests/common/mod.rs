//! Fixture readers shared by the detectors' reference tests.
#![allow(dead_code)]

use reframe_core::frame_scale::Plane;
use std::path::PathBuf;

/// The `detect/` folder: `REFRAME_DETECT_DIR` when set (binaries run on another machine, see
/// `scripts/gpu-check`), else where it was built.
pub fn root() -> PathBuf {
    std::env::var_os("REFRAME_DETECT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

pub fn read_f32(name: &str) -> Vec<f32> {
    let b = std::fs::read(fixture(name)).unwrap();
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// PNG (RGB or RGBA, 8 bit) -> RGBA bytes, width, height.
pub fn read_png_rgba(name: &str) -> (Vec<u8>, u32, u32) {
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

/// Minimal reader for the reference JSON (flat objects of numbers, written by the fixture scripts).
pub struct Reference {
    pub score_threshold: f32,
    pub iou_threshold: f32,
    pub max_detections: usize,
    /// (x, y, width, height, score)
    pub boxes: Vec<[f32; 5]>,
}

pub fn number_after(s: &str, key: &str) -> f64 {
    let i = s.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("key {key}")) + key.len() + 3;
    let rest = s[i..].trim_start();
    let end = rest.find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c))).unwrap_or(rest.len());
    rest[..end].parse().unwrap()
}

pub fn read_reference(name: &str) -> Reference {
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

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// The RGBA image flipped left to right (a second, different frame of the same size).
pub fn mirrored(rgba: &[u8], width: u32) -> Vec<u8> {
    rgba.chunks_exact(width as usize * 4)
        .flat_map(|row| row.chunks_exact(4).rev().flatten().copied().collect::<Vec<u8>>())
        .collect()
}

/// An RGBA picture as I420 (BT.601, video range), the way a decoder hands frames over.
pub fn rgba_to_i420(rgba: &[u8], w: usize, h: usize) -> (Vec<u8>, Vec<Plane>) {
    let px = |x: usize, y: usize| {
        let p = &rgba[(y * w + x) * 4..][..3];
        (p[0] as f32, p[1] as f32, p[2] as f32)
    };
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let mut data: Vec<u8> = Vec::with_capacity(w * h * 3 / 2);
    for y in 0..h {
        for x in 0..w {
            let (r, g, b) = px(x, y);
            data.push((16.0 + (0.299 * r + 0.587 * g + 0.114 * b) * 219.0 / 255.0).round() as u8);
        }
    }
    let chroma = |f: &dyn Fn(f32, f32, f32) -> f32| -> Vec<u8> {
        let mut out = Vec::with_capacity(cw * ch);
        for cy in 0..ch {
            for cx in 0..cw {
                let (r, g, b) = px((2 * cx).min(w - 1), (2 * cy).min(h - 1));
                out.push((128.0 + f(r, g, b) * 224.0 / 255.0).round().clamp(0.0, 255.0) as u8);
            }
        }
        out
    };
    let u = chroma(&|r, g, b| (b - (0.299 * r + 0.587 * g + 0.114 * b)) / 1.772);
    let v = chroma(&|r, g, b| (r - (0.299 * r + 0.587 * g + 0.114 * b)) / 1.402);
    let planes = vec![
        Plane { offset: 0, stride: w },
        Plane { offset: w * h, stride: cw },
        Plane { offset: w * h + cw * ch, stride: cw },
    ];
    data.extend(u);
    data.extend(v);
    (data, planes)
}

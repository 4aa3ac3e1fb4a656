//! Pre-processing from a frame's planes as tensor ops (`reframe_detect::planes`) against the CPU
//! scaler the worker uses otherwise (`reframe_core::frame_scale`), on burn's CPU backend (the same
//! ops run on WebGPU in the browser tests). With `--features wgpu` and `REFRAME_TEST_WGPU=1` they
//! run on a native wgpu adapter instead (lavapipe on a machine without a GPU):
//!
//!     REFRAME_TEST_WGPU=1 cargo test --release -p reframe-detect --features wgpu --test planes
#![cfg(any(feature = "ndarray", feature = "flex"))]

use reframe_core::frame_scale::{FramePlanes, PixelLayout, Plane, YuvColor};
use reframe_core::units::{PixelSize, Rotation};
use reframe_detect::{cpu_device, planes, AnyDetector, Detection, Device, Model};

mod common;

/// burn's CPU backend, or a native wgpu adapter when asked for (see the module doc).
fn device() -> Device {
    #[cfg(feature = "wgpu")]
    if std::env::var_os("REFRAME_TEST_WGPU").is_some() {
        // Initialised once for all the tests of this file.
        static WGPU: std::sync::OnceLock<Device> = std::sync::OnceLock::new();
        return WGPU.get_or_init(|| Device::wgpu_options().init().expect("wgpu device")).clone();
    }
    cpu_device()
}

/// A deterministic noisy picture: luma with fine detail (so averaging matters), chroma smooth.
struct Picture {
    w: usize,
    h: usize,
}

impl Picture {
    fn luma(&self, x: usize, y: usize) -> u8 {
        let noise = ((x * 7919 + y * 104_729) ^ (x * y)) % 61;
        (16 + (x * 150 / self.w) + noise) as u8
    }
    fn u(&self, cx: usize, cy: usize, cw: usize, ch: usize) -> u8 {
        (60 + cx * 120 / cw + cy * 10 / ch) as u8
    }
    fn v(&self, cx: usize, cy: usize, cw: usize, ch: usize) -> u8 {
        (200 - cy * 130 / ch - cx * 5 / cw) as u8
    }
}

/// The picture laid out as `layout`, each row padded to a stride of `pad` extra bytes.
fn buffer(layout: PixelLayout, pic: &Picture, pad: usize) -> (Vec<u8>, Vec<Plane>) {
    let (w, h) = (pic.w, pic.h);
    let (sx, sy) = layout.chroma_shift();
    let (cw, ch) = (w.div_ceil(1 << sx), h.div_ceil(1 << sy));
    let mut data = Vec::new();
    let mut planes = Vec::new();
    let mut push_plane = |data: &mut Vec<u8>, rows: usize, row: &dyn Fn(usize) -> Vec<u8>| {
        let stride = row(0).len() + pad;
        planes.push(Plane { offset: data.len(), stride });
        for r in 0..rows {
            let mut bytes = row(r);
            bytes.resize(stride, 0xAB);
            data.extend(bytes);
        }
    };
    match layout {
        PixelLayout::Rgba | PixelLayout::Bgra => {
            // RGB made from the same luma/chroma pattern, channel order per layout.
            push_plane(&mut data, h, &|y| {
                (0..w)
                    .flat_map(|x| {
                        let (r, g, b) = (pic.luma(x, y), pic.u(x, y, w, h), pic.v(x, y, w, h));
                        if layout == PixelLayout::Rgba {
                            [r, g, b, 255]
                        } else {
                            [b, g, r, 255]
                        }
                    })
                    .collect()
            });
        }
        PixelLayout::Nv12 => {
            push_plane(&mut data, h, &|y| (0..w).map(|x| pic.luma(x, y)).collect());
            push_plane(&mut data, ch, &|cy| {
                (0..cw).flat_map(|cx| [pic.u(cx, cy, cw, ch), pic.v(cx, cy, cw, ch)]).collect()
            });
        }
        _ => {
            push_plane(&mut data, h, &|y| (0..w).map(|x| pic.luma(x, y)).collect());
            push_plane(&mut data, ch, &|cy| (0..cw).map(|cx| pic.u(cx, cy, cw, ch)).collect());
            push_plane(&mut data, ch, &|cy| (0..cw).map(|cx| pic.v(cx, cy, cw, ch)).collect());
        }
    }
    // The last row of a copy need not be padded to its stride.
    data.truncate(data.len() - pad);
    (data, planes)
}

/// Largest and mean absolute difference between the tensor path's RGB and `frame_scale`'s RGBA.
fn compare(frame: &FramePlanes, rotation: Rotation, out: PixelSize) -> (u8, f64) {
    let reference = frame.upright_rgba(rotation, out);
    let t =
        planes::upright_rgb(std::slice::from_ref(frame), rotation, out.width as usize, out.height as usize, &device())
            .unwrap();
    assert_eq!(t.dims(), [1, 3, out.height as usize, out.width as usize]);
    let got = t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
    let plane = (out.width * out.height) as usize;
    let (mut max, mut sum) = (0u8, 0f64);
    for i in 0..plane {
        for c in 0..3 {
            let g = got[c * plane + i];
            assert_eq!(g, g.round(), "whole numbers");
            let d = (g as i32 - reference[i * 4 + c] as i32).unsigned_abs() as u8;
            max = max.max(d);
            sum += d as f64;
        }
    }
    (max, sum / (plane * 3) as f64)
}

#[test]
fn every_layout_and_rotation_matches_the_cpu_scaler() {
    let pic = Picture { w: 197, h: 111 };
    let rotations = [Rotation::R0, Rotation::R90, Rotation::R180, Rotation::R270];
    for layout in [
        PixelLayout::I420,
        PixelLayout::I422,
        PixelLayout::I444,
        PixelLayout::Nv12,
        PixelLayout::Rgba,
        PixelLayout::Bgra,
    ] {
        let (data, planes) = buffer(layout, &pic, 13);
        for color in [YuvColor::BT601, YuvColor { full_range: true, ..YuvColor::BT709 }] {
            let frame =
                FramePlanes::new(layout, PixelSize::new(pic.w as u32, pic.h as u32), &data, planes.clone(), color)
                    .unwrap();
            for rotation in rotations {
                for out in [PixelSize::new(60, 40), PixelSize::new(300, 300)] {
                    let (max, mean) = compare(&frame, rotation, out);
                    println!(
                        "{layout:?} {color:?} {rotation:?} -> {}x{}: max {max}, mean {mean:.3}",
                        out.width, out.height
                    );
                    // Without chroma subsampling the result is the CPU's, exactly. Subsampled
                    // chroma is averaged over its own plane's boxes (see `planes`): on this
                    // picture's steep chroma ramps (1.2 levels a sample) that moves a few values
                    // by up to 6 levels and the mean by 0.6 (measured).
                    let (max_ok, mean_ok) = if layout.chroma_shift() == (0, 0) { (0, 0.0) } else { (8, 0.75) };
                    assert!(
                        max <= max_ok && mean <= mean_ok,
                        "{layout:?} {rotation:?} {out:?}: max {max}, mean {mean}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_wrong_turn_would_be_seen() {
    // The comparison is sharp enough to tell rotations apart on this picture.
    let pic = Picture { w: 160, h: 90 };
    let (data, planes) = buffer(PixelLayout::I420, &pic, 0);
    let frame = FramePlanes::new(PixelLayout::I420, PixelSize::new(160, 90), &data, planes, YuvColor::BT601).unwrap();
    let reference = frame.upright_rgba(Rotation::R90, PixelSize::new(45, 80));
    let wrong = planes::upright_rgb(std::slice::from_ref(&frame), Rotation::R270, 45, 80, &device()).unwrap();
    let wrong = wrong.into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
    let plane = 45 * 80;
    let mean = (0..plane).map(|i| (wrong[i] - reference[i * 4] as f32).abs() as f64).sum::<f64>() / plane as f64;
    assert!(mean > 10.0, "R270 instead of R90 differs by only {mean}");
}

#[test]
fn a_batch_gives_each_frame_its_own_image_and_mixed_batches_are_refused() {
    let a = Picture { w: 64, h: 48 };
    let (da, planes) = buffer(PixelLayout::Nv12, &a, 4);
    // The second frame: the same layout with the luma inverted.
    let mut db = da.clone();
    let luma_end = planes[1].offset;
    db[..luma_end].iter_mut().for_each(|v| *v = 255 - *v);
    let size = PixelSize::new(64, 48);
    let fa = FramePlanes::new(PixelLayout::Nv12, size, &da, planes.clone(), YuvColor::BT601).unwrap();
    let fb = FramePlanes::new(PixelLayout::Nv12, size, &db, planes.clone(), YuvColor::BT601).unwrap();
    let device = device();
    let batch = planes::upright_rgb(&[fa.clone(), fb.clone(), fa.clone()], Rotation::R0, 30, 20, &device).unwrap();
    let batch = batch.into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
    let alone = |f: &FramePlanes| {
        planes::upright_rgb(std::slice::from_ref(f), Rotation::R0, 30, 20, &device)
            .unwrap()
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap()
    };
    let per = 3 * 30 * 20;
    assert_eq!(&batch[..per], alone(&fa).as_slice());
    assert_eq!(&batch[per..2 * per], alone(&fb).as_slice());
    assert_eq!(&batch[2 * per..], alone(&fa).as_slice());
    assert_ne!(alone(&fa), alone(&fb));

    assert!(planes::upright_rgb(&[], Rotation::R0, 30, 20, &device).is_err());
    let small = Picture { w: 32, h: 24 };
    let (dc, pc) = buffer(PixelLayout::Nv12, &small, 0);
    let fc = FramePlanes::new(PixelLayout::Nv12, PixelSize::new(32, 24), &dc, pc, YuvColor::BT601).unwrap();
    assert!(planes::upright_rgb(&[fa, fc], Rotation::R0, 30, 20, &device).is_err());
}

/// The detector on a real frame (vtest.avi, 768x576, I420): pre-processing on the device from the
/// planes finds the same people as the CPU scaler's RGBA (the worker's two paths).
#[test]
fn real_frame_gives_the_same_people_both_ways() {
    let (rgba, w, h) = common::read_png_rgba("vtest_100.png");
    let (data, layout) = common::rgba_to_i420(&rgba, w as usize, h as usize);
    let frame = FramePlanes::new(PixelLayout::I420, PixelSize::new(w, h), &data, layout, YuvColor::BT601).unwrap();
    // The same picture as a phone stores a portrait video: coded turned a quarter left, to be
    // shown turned 90 degrees clockwise. Coded pixel (cx, cy) is upright pixel (w - 1 - cy, cx).
    let coded: Vec<u8> = (0..w as usize)
        .flat_map(|cy| (0..h as usize).map(move |cx| (w as usize - 1 - cy, cx)))
        .flat_map(|(x, y)| rgba[(y * w as usize + x) * 4..][..4].to_vec())
        .collect();
    let (turned_data, turned_layout) = common::rgba_to_i420(&coded, h as usize, w as usize);
    let turned =
        FramePlanes::new(PixelLayout::I420, PixelSize::new(h, w), &turned_data, turned_layout, YuvColor::BT601)
            .unwrap();
    let device = device();
    for (model, rotation) in
        [(Model::Ssdlite, Rotation::R0), (Model::Ssdlite, Rotation::R90), (Model::CenterNet, Rotation::R0)]
    {
        let frame = if rotation == Rotation::R90 { &turned } else { &frame };
        let weights =
            std::fs::read(common::root().join("..").join(model.weights_url().trim_start_matches('/'))).unwrap();
        let detector = AnyDetector::from_bytes(model, weights, &device).unwrap();
        let params = model.default_params();
        let side = model.input_size() as u32;
        let upright = PixelSize::new(w, h);
        // CPU path: frame_scale's RGBA at the input size, boxes scaled to the upright frame.
        let small = frame.upright_rgba(rotation, PixelSize::new(side, side));
        let (sx, sy) = (upright.width as f32 / side as f32, upright.height as f32 / side as f32);
        let cpu: Vec<Detection> = detector
            .detect(&small, side, side, &params)
            .unwrap()
            .into_iter()
            .map(|d| Detection { x: d.x * sx, y: d.y * sy, width: d.width * sx, height: d.height * sy, ..d })
            .collect();
        let tensor =
            detector.detect_planes_batch(std::slice::from_ref(frame), rotation, &params).unwrap().swap_remove(0);
        println!("{model:?} {rotation:?}: {} people from the CPU scaler, {} from the planes", cpu.len(), tensor.len());
        assert!(cpu.len() >= 3, "vtest frame 100 shows several people");
        assert_eq!(cpu.len(), tensor.len());
        for (a, b) in cpu.iter().zip(&tensor) {
            let d = [a.x - b.x, a.y - b.y, a.width - b.width, a.height - b.height].map(f32::abs);
            println!("  {a:?}\n  {b:?}");
            assert!(d.iter().all(|&v| v <= 3.0) && (a.score - b.score).abs() <= 0.03, "{a:?} vs {b:?}");
        }
    }
}

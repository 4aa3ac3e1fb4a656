//! Evaluates the virtual camera on real clips: the whole analysis (decode, people and faces,
//! shot detection, tracking, planning) and, in the same run, the naive baseline
//! (`reframe_core::camera_eval::baseline_crop_path`), printed side by side.
//!
//!     cargo run --release -p reframe-detect --example eval_camera -- \
//!         [--input FILE | --truth CLIP.truth.json[,..]] [--model ssdlite|centernet[@RATE][,..]] \
//!         [--ratio 9:16[,1:1...]] [--smoothness balanced|calm|responsive|all[,...]] \
//!         [--rate 6] [--frames N] [--tiles G] [--sampling uniform|adaptive]
//!
//! Two modes:
//! - `--truth`: clips with hand-made truth (`examples/eval_clips/`: `megamind.truth.json`, and the
//!   clips `make_clips.py` writes with their truth). Per clip and per detector (`--model` takes a
//!   list, each at its own rate: `ssdlite@6,centernet@3`), the baseline and the planner variants
//!   of [`variants`] (the previous analysis, then each change of the framing work added in turn)
//!   with: the detector's recall of the true subject (IoU >= 0.5), the tracks' recall, the share
//!   of analysed frames where the planner framed the true subject, the share of frames with the
//!   true face fully inside the crop and cut by its edge, the largest crop movement in the
//!   truth's still stretches (after the camera's ease, except at a shot's start), and mean
//!   |acceleration| over 5 frames. `EVAL_SCORES=1` also prints, per analysed frame, the best
//!   box's IoU with the truth and its score; `EVAL_CUTS=1` prints each frame where the new planner's
//!   crop does not hold the true face. `--tiles G` adds G x G overlapping tiles to the
//!   detection (measured, not used by the app: it costs too much for what it finds).
//!   `--sampling adaptive` adds, per detector, the app's adaptive sampling (`reframe_core::sampling`:
//!   the frames of the uniform run it chooses, fewer where the picture stands still) with the
//!   app's analysis, so both are printed in one run.
//! - `--input FILE` (default `/usr/share/doc/opencv-doc/examples/data/vtest.avi`, Debian package
//!   `opencv-doc`: 768x576, 10 fps, 795 frames, people walking; no truth): the motion metrics
//!   below, and "subject inside" under three definitions of the subject.
//!
//! Defaults: 9:16, balanced, 6 analysed frames per second, SSDLite. Several ratios and
//! smoothness settings may be given separated by commas; each clip is decoded and detected once
//! per detector for all of them.
//!
//! How it runs (mirroring the worker's auto mode, `worker/src/analyze.rs`):
//! - `ffprobe` gives the display size and every frame's timestamp; `ffmpeg` subprocesses decode
//!   the video to raw pipes: 64x36 grey for the shot statistics of every frame (the worker's
//!   `STATS_SIZE`), the model input stretched to its square (like the worker's canvas) for the
//!   person detector, and the frame with its longer side at 256 for the face detector (the
//!   worker's, `face::frame_size_for`).
//! - A frame is analysed when its timestamp is at or past the next sampling time, which then moves
//!   to that timestamp + 1/rate (the worker's rule; at 10 fps and rate 6 this is every 2nd frame).
//! - The detectors (`reframe_detect`, CPU backend) run natively on each analysed frame, people
//!   with `Model::analysis_params()` (boxes down to 0.1), faces with `face::DEFAULT_PARAMS`.
//! - Cuts: `FrameStats::from_luma` + `ShotDetector` on every frame.
//! - Planner: `Analysis::with_tracker(.., TrackerConfig::for_detector(model)).crop_path(settings,
//!   all frame timestamps)`, as the worker does.
//! - Baseline: `baseline_crop_path` on the same detections and cuts, with two smoothing weights:
//!   `BASELINE_ALPHA` (0.1) per frame as defined, and the weight with the same *time constant* at
//!   this clip's frame rate (0.1 per frame is meant for 30 fps: `1 - 0.9^(30/fps)`), so that a low
//!   frame rate does not make the baseline artificially sluggish.
//!
//! Metrics (`reframe_core::camera_eval::evaluate`, identical for all paths): share of still frame
//! steps, mean |acceleration| of the crop centre (px/frame^2, frame by frame and over 5 frames),
//! direction reversals per minute, all over every frame; and "subject inside": the share of
//! analysed frames where the primary subject was detected whose detected box lies fully inside the
//! crop (frames where the box is wider or taller than the crop do not count). There is no human
//! ground truth for this clip, so the primary subject is defined from the analysis itself, in three
//! ways, all printed:
//! - `subject (planner's choice)`: the person the planner's subject choice (`choose_subjects`,
//!   with the planner's own configuration) frames at that sample: the shot's most prominent track,
//!   or, during that track's long absences, the most prominent other track present. Groups are not
//!   counted: only the subject's own box.
//! - `subject (most prominent present)`: the track, among those detected at that sample, with the
//!   highest prominence over the shot (`reframe_core::subject::prominence`); a neutral choice that
//!   neither camera follows by construction.
//!
//! - `subject (largest detection)`: the baseline's own target, the detection with the largest
//!   `area x score` (score >= 0.5) on that frame (not a track: it may be a different person from
//!   one analysed frame to the next).
//!
//! The first definition is the planner's own target and the third the baseline's; the second
//! follows neither by construction. Read the figures as a comparison of the paths under one fixed
//! definition at a time, not as an absolute quality score.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Instant;

use reframe_core::analysis::Analysis;
use reframe_core::camera_eval::{
    baseline_crop_path, evaluate, evaluate_truth, subject_recall, ClipTruth, GroundTruth, GroundTruthFrame, Metrics,
    TruthMetrics, BASELINE_ALPHA,
};
use reframe_core::camera_path::{CameraSettings, Smoothness};
use reframe_core::crop::output_size;
use reframe_core::crop::CropPathEntry;
use reframe_core::layout::TwoPeople;
use reframe_core::resume::{ChunkLayout, CHUNK_DURATION};
use reframe_core::sampling::{FrameChooser, SamplingRule};
use reframe_core::shots::{FrameStats, ShotConfig, ShotDetector};
use reframe_core::subject::{choose_subjects, prominence, ProminenceWeights};
use reframe_core::track::{Detection, PersonBox, Track, TrackerConfig};
use reframe_core::units::{AspectRatio, DurationUs, FrameIndex, PixelSize, TimestampUs};
use reframe_detect::face::{self, FaceDetector, FACE_WEIGHTS_URL};
use reframe_detect::{cpu_device, AnyDetector, DetectParams, Model, RgbaFrame, ANALYSIS_MIN_SCORE};

const DEFAULT_INPUT: &str = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
const STATS_W: u32 = 64;
const STATS_H: u32 = 36;

struct Args {
    input: String,
    ratios: Vec<AspectRatio>,
    smoothness: Vec<Smoothness>,
    rate: f64,
    max_frames: Option<usize>,
    /// Hand-truth clips (`--truth`): evaluated instead of `input`.
    truth: Vec<String>,
    /// `--model ssdlite|centernet[@RATE][,...]`: the detectors compared (each at its own rate of
    /// analysed frames a second when given, else `--rate`); the first serves `--input`.
    detectors: Vec<(Model, Option<f64>)>,
    /// `--tiles G`: also detect on G x G overlapping tiles of the frame (0: none).
    tiles: u32,
    /// `--sampling uniform|adaptive`: with `adaptive`, each detector's run is also evaluated with
    /// the app's adaptive sampling (`reframe_core::sampling`), beside the uniform rate.
    adaptive: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: eval_camera [--input FILE | --truth CLIP.truth.json[,..]] [--ratio 9:16[,1:1]] [--smoothness calm|balanced|responsive|all[,..]] [--rate 6] [--frames N]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        input: DEFAULT_INPUT.to_string(),
        ratios: vec![AspectRatio::PORTRAIT_9_16],
        smoothness: vec![Smoothness::Balanced],
        rate: 6.0,
        max_frames: None,
        truth: Vec::new(),
        detectors: vec![(Model::Ssdlite, None)],
        tiles: 0,
        adaptive: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--input" => a.input = value(),
            "--ratio" => {
                a.ratios = value().split(',').map(|r| AspectRatio::parse(r).unwrap_or_else(|| usage())).collect()
            }
            "--smoothness" => {
                let v = value();
                a.smoothness = if v.trim().eq_ignore_ascii_case("all") {
                    vec![Smoothness::Calm, Smoothness::Balanced, Smoothness::Responsive]
                } else {
                    v.split(',').map(|s| Smoothness::parse(s).unwrap_or_else(|| usage())).collect()
                }
            }
            "--rate" => {
                a.rate = value().parse().unwrap_or_else(|_| usage());
                if a.rate.is_nan() || a.rate <= 0.0 {
                    usage()
                }
            }
            "--frames" => a.max_frames = Some(value().parse().unwrap_or_else(|_| usage())),
            "--model" => {
                a.detectors = value()
                    .split(',')
                    .map(|d| {
                        let (id, rate) = d.split_once('@').map_or((d, None), |(i, r)| (i, Some(r)));
                        let model = Model::from_id(id.trim()).unwrap_or_else(|| usage());
                        let rate = rate.map(|r| r.parse::<f64>().ok().filter(|r| *r > 0.0).unwrap_or_else(|| usage()));
                        (model, rate)
                    })
                    .collect()
            }
            "--tiles" => a.tiles = value().parse().unwrap_or_else(|_| usage()),
            "--sampling" => {
                a.adaptive = match value().as_str() {
                    "uniform" => false,
                    "adaptive" => true,
                    _ => usage(),
                }
            }
            "--truth" => a.truth = value().split(',').map(str::to_string).collect(),
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    a
}

/// Display size and per-frame timestamps (microseconds) from ffprobe.
fn probe(input: &str) -> (PixelSize, Vec<TimestampUs>) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=width,height", "-of", "csv=p=0"])
        .arg(input)
        .output()
        .expect("ffprobe must be installed");
    assert!(out.status.success(), "ffprobe failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut wh = text.trim().split(',').map(|v| v.trim().parse::<u32>().expect("width,height"));
    let size = PixelSize::new(wh.next().unwrap(), wh.next().unwrap());

    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0"])
        .args(["-show_entries", "frame=best_effort_timestamp_time", "-of", "csv=p=0"])
        .arg(input)
        .output()
        .expect("ffprobe");
    assert!(out.status.success(), "ffprobe failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut times: Vec<TimestampUs> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse::<f64>().ok())
        .map(|s| TimestampUs((s * 1e6).round() as i64))
        .collect();
    // Presentation order; the evaluation pairs frames by timestamp.
    times.sort();
    times.dedup();
    (size, times)
}

/// Decodes `input` scaled to `w` x `h` in `pix_fmt`, calling `f(index, bytes)` per frame.
fn decode(input: &str, w: u32, h: u32, pix_fmt: &str, bpp: usize, mut f: impl FnMut(usize, &[u8]) -> bool) {
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i", input, "-map", "0:v:0", "-fps_mode", "passthrough"])
        .args(["-vf", &format!("scale={w}:{h}:flags=bilinear")])
        .args(["-f", "rawvideo", "-pix_fmt", pix_fmt, "pipe:1"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("ffmpeg must be installed");
    let mut out = child.stdout.take().unwrap();
    let mut buf = vec![0u8; w as usize * h as usize * bpp];
    let mut i = 0;
    while out.read_exact(&mut buf).is_ok() {
        if !f(i, &buf) {
            break;
        }
        i += 1;
    }
    drop(out);
    let _ = child.kill();
    let _ = child.wait();
}

/// Tracks and sample times of shot `s`.
fn shot_part(a: &Analysis, s: usize) -> (Vec<TimestampUs>, Vec<Track>) {
    reframe_core::camera_path::shot_part(&a.cuts_us, s, &a.sample_times(), &a.tracks)
}

/// Primary subject per analysed frame, by the planner's own subject choice.
fn subjects_planner(a: &Analysis, settings: &CameraSettings) -> Vec<(TimestampUs, PersonBox)> {
    let cfg = reframe_core::camera_path::subject_config(output_size(a.source_size, settings.ratio), settings);
    let crop = output_size(a.source_size, settings.ratio);
    let mut out = Vec::new();
    for s in 0..=a.cuts_us.len() {
        let (samples, tracks) = shot_part(a, s);
        let plan = choose_subjects(&samples, &tracks, a.source_size, crop, &cfg);
        for (t, f) in samples.iter().zip(plan.framings.iter()) {
            if let Some(f) = f {
                if let Some(b) = tracks.iter().find(|tr| tr.id == f.track_id).and_then(|tr| tr.box_at(*t)) {
                    out.push((*t, b));
                }
            }
        }
    }
    out
}

/// Primary subject per analysed frame: the most prominent (over its shot) of the tracks detected
/// on that frame.
fn subjects_prominent(a: &Analysis) -> Vec<(TimestampUs, PersonBox)> {
    let mut out = Vec::new();
    for s in 0..=a.cuts_us.len() {
        let (samples, tracks) = shot_part(a, s);
        let weights = ProminenceWeights::default();
        let score: Vec<f64> = tracks.iter().map(|tr| prominence(tr, &samples, a.source_size, &weights)).collect();
        for &t in &samples {
            let best = (0..tracks.len())
                .filter_map(|k| tracks[k].box_at(t).map(|b| (k, b)))
                .max_by(|x, y| score[x.0].total_cmp(&score[y.0]));
            if let Some((_, b)) = best {
                out.push((t, b));
            }
        }
    }
    out
}

/// Primary subject per analysed frame: the baseline's own target, the detection with the largest
/// `area x score` (score >= 0.5) on that frame.
fn subjects_largest(a: &Analysis) -> Vec<(TimestampUs, PersonBox)> {
    a.detections
        .iter()
        .filter_map(|d| {
            d.boxes
                .iter()
                .filter(|b| b.score >= 0.5)
                .max_by(|x, y| (x.area() * x.score).total_cmp(&(y.area() * y.score)))
                .map(|b| (d.timestamp_us, *b))
        })
        .collect()
}

/// Ground truth over every frame, with the subject given only on analysed frames where it was
/// detected.
fn truth(frames: &[TimestampUs], cuts: &[TimestampUs], subjects: &[(TimestampUs, PersonBox)]) -> GroundTruth {
    GroundTruth {
        frames: frames
            .iter()
            .map(|&t| GroundTruthFrame {
                timestamp_us: t,
                subject: subjects.iter().find(|(s, _)| *s == t).map(|(_, b)| *b),
            })
            .collect(),
        cuts_us: cuts.to_vec(),
    }
}

/// One column: motion metrics, then subject metrics under each definition.
type Column<'a> = (&'a str, Metrics, [Metrics; 3]);

fn print_table(cols: &[Column]) {
    let name_w = 38;
    print!("{:<name_w$}", "");
    for (c, ..) in cols {
        print!(" {c:>16}");
    }
    println!();
    let line = |label: &str, f: &dyn Fn(&Metrics, &[Metrics; 3]) -> String| {
        print!("{label:<name_w$}");
        for (_, m, p) in cols {
            print!(" {:>16}", f(m, p));
        }
        println!();
    };
    for (k, label) in [
        "subject inside (planner's choice)",
        "subject inside (most prominent present)",
        "subject inside (largest detection)",
    ]
    .iter()
    .enumerate()
    {
        line(label, &|_, p| format!("{:.1}% of {}", 100.0 * p[k].subject_inside, p[k].subject_frames));
    }
    line("still frame steps", &|m, _| format!("{:.1}%", 100.0 * m.still_share));
    line("mean |accel| px/frame^2", &|m, _| format!("{:.3}", m.mean_abs_accel));
    line("mean |accel| over 5 frames", &|m, _| format!("{:.3}", m.mean_abs_accel_5f));
    line("max |accel| over 5 frames", &|m, _| format!("{:.2}", m.max_abs_accel_5f));
    line("direction reversals / minute", &|m, _| format!("{:.1}", m.reversals_per_minute));
}

/// One clip decoded and detected once: every frame's timestamp, the cuts, and the detections of
/// the analysed frames (every box the detector keeps at `min_score`).
#[derive(Clone)]
struct Clip {
    source: PixelSize,
    frames: Vec<TimestampUs>,
    /// Every frame's shot statistics (the adaptive sampling reads their luma grids).
    stats: Vec<FrameStats>,
    cuts: Vec<TimestampUs>,
    detections: Vec<Detection>,
    detect_ms: f64,
    face_ms: f64,
    fps: f64,
    duration_s: f64,
}

fn analyse_clip(
    input_path: &str,
    rate: f64,
    max_frames: Option<usize>,
    min_score: f32,
    model: Model,
    tiles: u32,
) -> Clip {
    let (source, mut frames) = probe(input_path);
    if let Some(n) = max_frames {
        frames.truncate(n);
    }
    let n = frames.len();
    assert!(n >= 2, "no frames decoded from {input_path}");
    let duration_s = frames[n - 1].since(frames[0]).seconds();
    let fps = (n - 1) as f64 / duration_s.max(1e-9);

    // Shot statistics of every frame.
    let mut shots = ShotDetector::new(ShotConfig::default());
    let mut stats = Vec::with_capacity(n);
    let mut decoded = 0;
    decode(input_path, STATS_W, STATS_H, "gray", 1, |i, luma| {
        if i >= n {
            return false;
        }
        let frame_stats = FrameStats::from_luma(frames[i], luma, STATS_W, STATS_H, STATS_W).unwrap();
        stats.push(frame_stats.clone());
        shots.push(frame_stats);
        decoded += 1;
        true
    });
    assert_eq!(decoded, n, "ffmpeg gave {decoded} frames, ffprobe listed {n}");
    let cuts = shots.finish();

    // Detection on the sampled frames: the whole frame, and with `tiles` > 0 also G x G tiles
    // overlapping by a fifth of a tile, each given to the model at its input size (so people look
    // G / 1.2 times bigger to it), merged by NMS.
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let weights = std::fs::read(root.join("..").join(model.weights_path())).expect("weights");
    let detector = AnyDetector::from_bytes(model, weights, &cpu_device()).expect("detector");
    let params = DetectParams { score_threshold: min_score, ..model.default_params() };
    let input = model.input_size() as u32;
    let g = tiles.max(1);
    let tile = (input as f32 * 1.2).round() as u32; // side of one tile in the decoded picture
    let side = if tiles == 0 { input } else { tile + (g - 1) * (tile as f32 / 1.2).round() as u32 };
    let step = if g > 1 { (side - tile) / (g - 1) } else { 0 };
    // The frames the worker analyses at this rate (`resume::is_analysed`).
    let interval = reframe_core::units::DurationUs((1e6 / rate).round() as i64);
    let (sx, sy) = (source.width as f32 / side as f32, source.height as f32 / side as f32);
    let mut detections: Vec<Detection> = Vec::new();
    let mut detect_s = 0.0;
    decode(input_path, side, side, "rgba", 4, |i, rgba| {
        if i >= n {
            return false;
        }
        let t = frames[i];
        if reframe_core::resume::is_analysed(&frames, i, interval) {
            let t0 = Instant::now();
            let mut found: Vec<(f32, f32, reframe_detect::Detection)> = detector
                .detect(rgba, side, side, &params)
                .expect("detect")
                .into_iter()
                .map(|d| (0.0, 0.0, d))
                .collect();
            if tiles > 0 {
                let mut crops = Vec::new();
                let mut origins = Vec::new();
                for ty in 0..g {
                    for tx in 0..g {
                        let (x0, y0) = (tx * step, ty * step);
                        let mut buf = Vec::with_capacity((tile * tile * 4) as usize);
                        for y in y0..y0 + tile {
                            let row = ((y * side + x0) * 4) as usize;
                            buf.extend_from_slice(&rgba[row..row + (tile * 4) as usize]);
                        }
                        crops.push(buf);
                        origins.push((x0 as f32, y0 as f32));
                    }
                }
                let frames_in: Vec<RgbaFrame> =
                    crops.iter().map(|c| RgbaFrame { rgba: c, width: tile, height: tile }).collect();
                let per_tile = detector.detect_batch(&frames_in, &params).expect("detect tiles");
                for ((ox, oy), boxes) in origins.into_iter().zip(per_tile) {
                    for d in boxes {
                        // A box touching a tile edge inside the picture is a cut-off part of
                        // someone another tile or the whole frame sees whole.
                        let inner = |v: f32, o: f32, end: f32| {
                            (v <= 1.0 && o > 0.0) || (v >= tile as f32 - 1.0 && o + (tile as f32) < end)
                        };
                        let cut = inner(d.x, ox, side as f32)
                            || inner(d.x + d.width, ox, side as f32)
                            || inner(d.y, oy, side as f32)
                            || inner(d.y + d.height, oy, side as f32);
                        if !cut {
                            found.push((ox, oy, d));
                        }
                    }
                }
            }
            detect_s += t0.elapsed().as_secs_f64();
            let boxes: Vec<PersonBox> = found
                .iter()
                .map(|(ox, oy, d)| {
                    PersonBox::new((d.x + ox) * sx, (d.y + oy) * sy, d.width * sx, d.height * sy, d.score)
                })
                .collect();
            let boxes = if tiles > 0 { merge(boxes, params.iou_threshold) } else { boxes };
            detections.push(Detection { timestamp_us: t, frame: FrameIndex(i as u64), boxes, faces: vec![] });
        }
        true
    });
    // Faces on the same frames: BlazeFace on the frame with its long side at the model's 256 px
    // (the worker's face input), boxes and eyes scaled to display pixels.
    let face_weights =
        std::fs::read(root.join("..").join(FACE_WEIGHTS_URL.trim_start_matches('/'))).expect("face weights");
    let faces = FaceDetector::from_bytes(face_weights, &cpu_device()).expect("face detector");
    let PixelSize { width: fw, height: fh } = face::frame_size_for(source);
    let (fsx, fsy) = (source.width as f32 / fw as f32, source.height as f32 / fh as f32);
    let mut next = 0;
    let mut face_s = 0.0;
    decode(input_path, fw, fh, "rgba", 4, |i, rgba| {
        if next >= detections.len() {
            return false;
        }
        if detections[next].frame.0 == i as u64 {
            let t0 = Instant::now();
            let found = faces.detect(RgbaFrame::new(rgba, fw, fh), &face::DEFAULT_PARAMS).expect("faces");
            face_s += t0.elapsed().as_secs_f64();
            detections[next].faces = found.iter().map(|f| f.to_track_face(fsx, fsy)).collect();
            next += 1;
        }
        true
    });
    let face_ms = 1e3 * face_s / detections.len().max(1) as f64;
    let detect_ms = 1e3 * detect_s / detections.len().max(1) as f64;
    Clip { source, frames, stats, cuts, detections, detect_ms, face_ms, fps, duration_s }
}

/// Greedy NMS over boxes from the whole frame and the tiles, best score first.
/// The adaptive sampling the app uses (`reframe_core::sampling`) at `rate`: its rule, and the clip
/// with only the detections of the frames it chooses (a subset of the uniform rate's, chunk by
/// chunk as the worker stores them). `EVAL_CELL_CHANGE` and `EVAL_MAX_GAP_S` override the rule's
/// threshold and longest gap.
fn adaptive(clip: &Clip, rate: f64) -> (SamplingRule, Clip) {
    let interval = reframe_core::units::DurationUs((1e6 / rate).round() as i64);
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<f64>().ok());
    let max_gap = env("EVAL_MAX_GAP_S").map_or(SamplingRule::MAX_GAP, reframe_core::units::DurationUs::from_seconds);
    let cell_change = env("EVAL_CELL_CHANGE").map_or(SamplingRule::CELL_CHANGE, |v| v as u8);
    let rule = SamplingRule { interval, max_gap: max_gap.max(interval), cell_change };
    let n = clip.frames.len() as u64;
    let layout = ChunkLayout::new(n, clip.frames[n as usize - 1].since(clip.frames[0]), CHUNK_DURATION);
    let mut chooser = FrameChooser::new(rule);
    let chosen: Vec<bool> = (0..clip.frames.len())
        .map(|i| chooser.choose(&clip.frames, i, &clip.stats[i], (i as u64).is_multiple_of(layout.chunk_frames)))
        .collect();
    let detections = clip.detections.iter().filter(|d| chosen[d.frame.0 as usize]).cloned().collect();
    (rule, Clip { detections, ..clip.clone() })
}

fn merge(mut boxes: Vec<PersonBox>, iou: f32) -> Vec<PersonBox> {
    boxes.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<PersonBox> = Vec::new();
    for b in boxes {
        // Also drop a box mostly inside a kept one (a tile's half of a person the frame saw whole).
        let inside = |k: &PersonBox| {
            let ix = (b.right().min(k.right()) - b.x.max(k.x)).max(0.0);
            let iy = (b.bottom().min(k.bottom()) - b.y.max(k.y)).max(0.0);
            ix * iy > 0.8 * b.area()
        };
        if kept.iter().all(|k| k.iou(&b) <= iou && !inside(k)) {
            kept.push(b);
        }
    }
    kept
}

/// The detections with only the boxes scoring at least `min_score`, and without faces unless `faces`.
fn at_least(detections: &[Detection], min_score: f32, faces: bool) -> Vec<Detection> {
    detections
        .iter()
        .map(|d| Detection {
            boxes: d.boxes.iter().copied().filter(|b| b.score >= min_score).collect(),
            faces: if faces { d.faces.clone() } else { Vec::new() },
            ..d.clone()
        })
        .collect()
}

/// A way of turning detections into a crop path, compared on the hand-truth clips.
struct Variant {
    name: String,
    /// Detections below this score are dropped before tracking.
    min_score: f32,
    tracker: TrackerConfig,
    weights: ProminenceWeights,
    /// Whether the planner is given the faces.
    faces: bool,
    two_people: TwoPeople,
}

fn variants(model: Model) -> Vec<Variant> {
    // The analysis before the hand-truth clips: detections >= 0.3 (SSDLite's display threshold;
    // CenterNet's was 0.5), tracks from 0.6, prominence with sqrt-area size and the raw score,
    // no faces.
    let previous_min = if model == Model::CenterNet { 0.5 } else { 0.3 };
    let previous_tracker = TrackerConfig { high_score: 0.5, new_track_score: 0.6, ..TrackerConfig::default() };
    let previous_weights = ProminenceWeights { size_power: 1.0, score_power: 1.0, edge_cut: 1.0, face: 0.0 };
    let tracker = TrackerConfig::for_detector(model.into());
    let new = ProminenceWeights::default();
    let one = TwoPeople::One;
    let v = |name: &str, min_score, tracker, weights, faces, two_people| Variant {
        name: name.into(),
        min_score,
        tracker,
        weights,
        faces,
        two_people,
    };
    vec![
        v("previous", previous_min, previous_tracker, previous_weights, false, one),
        v("+ calibrated tracks", ANALYSIS_MIN_SCORE, tracker, previous_weights, false, one),
        v("+ prominence (no faces)", ANALYSIS_MIN_SCORE, tracker, ProminenceWeights { face: 0.0, ..new }, false, one),
        v("+ faces", ANALYSIS_MIN_SCORE, tracker, new, true, one),
        v("new (+ split screen, auto)", ANALYSIS_MIN_SCORE, tracker, new, true, TwoPeople::Auto),
        v("  (split screen asked for)", ANALYSIS_MIN_SCORE, tracker, new, true, TwoPeople::Split),
    ]
}

/// One evaluated path on one clip.
struct Row {
    name: String,
    det_recall: Option<f64>,
    track_recall: Option<f64>,
    subject_right: Option<f64>,
    truth: TruthMetrics,
    motion: Metrics,
}

fn print_rows(rows: &[Row]) {
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.1}%", 100.0 * v));
    // Two-person columns only for clips whose truth has a second person.
    let two = rows.iter().any(|r| r.truth.two_frames > 0);
    let two_head = if two { format!(" {:>8} {:>7} {:>8}", "both in", "split", "halves") } else { String::new() };
    println!(
        "{:<40} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9}{two_head}",
        "", "det rec", "trk rec", "subj ok", "face in", "face cut", "still px", "|acc| 5f"
    );
    for r in rows {
        let t = &r.truth;
        let two_cols = if two {
            let halves = if t.split > 0.0 { pct(Some(t.halves_hold)) } else { "-".into() };
            format!(" {:>8} {:>7} {:>8}", pct(Some(t.both_shown)), pct(Some(t.split)), halves)
        } else {
            String::new()
        };
        println!(
            "{:<40} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9.3}{two_cols}",
            r.name,
            pct(r.det_recall),
            pct(r.track_recall),
            pct(r.subject_right),
            pct(Some(t.face_inside)),
            pct(Some(t.face_cut)),
            t.still_max_px,
            r.motion.mean_abs_accel_5f
        );
    }
}

/// `eval_camera --truth`: per hand-truth clip, the detector's recall of the true subject, and
/// for the baseline and each [`Variant`] of the planner: face inside the crop and cut by its edge,
/// the largest crop movement in still stretches, mean |acceleration|.
fn truth_main(args: &Args) {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for file in &args.truth {
        let path =
            if std::path::Path::new(file).exists() { file.into() } else { root.join("examples/eval_clips").join(file) };
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let truth: ClipTruth = serde_json::from_str(&text).expect("truth file");
        // Each detector at its rate, analysed once for all the variants.
        // With `--sampling adaptive` also each detector's run as the app samples it (the frames of
        // the uniform run it chooses), tracked for its longest gap.
        let runs: Vec<(String, Model, Clip, Option<DurationUs>)> = args
            .detectors
            .iter()
            .flat_map(|&(model, rate)| {
                let rate = rate.unwrap_or(args.rate);
                let lowest = variants(model).iter().map(|v| v.min_score).fold(0.3f32, f32::min);
                let clip = analyse_clip(&truth.input, rate, args.max_frames, lowest, model, args.tiles);
                let adapted = args.adaptive.then(|| {
                    let (rule, clip) = adaptive(&clip, rate);
                    (format!("{}@{rate} adaptive", model.id()), model, clip, Some(rule.max_gap))
                });
                [(format!("{}@{rate}", model.id()), model, clip, None)].into_iter().chain(adapted)
            })
            .collect();
        let first = &runs[0].2;
        println!();
        println!(
            "## {} ({}x{}, {} frames, {:.1} s, {:.1} fps; cuts at {:?} s)",
            truth.clip,
            first.source.width,
            first.source.height,
            first.frames.len(),
            first.duration_s,
            first.fps,
            first.cuts.iter().map(|c| (c.0 as f64 / 1e5).round() / 10.0).collect::<Vec<_>>()
        );
        for (name, _, clip, _) in &runs {
            println!(
                "   {name}: {} analysed frames, people {:.1} ms/frame, faces {:.1} ms/frame (CPU, this machine)",
                clip.detections.len(),
                clip.detect_ms,
                clip.face_ms
            );
        }
        for &ratio in &args.ratios {
            for &smoothness in &args.smoothness {
                let mut rows = Vec::new();
                for (k, (name, model, clip, gap)) in runs.iter().enumerate() {
                    rows.extend(truth_rows(clip, &truth, ratio, smoothness, name, *model, *gap, k == 0));
                }
                println!("-- {ratio}, {smoothness:?}");
                print_rows(&rows);
            }
        }
    }
}

/// The rows of one detector's run on one clip: the baseline (when `baseline`), then each variant.
fn truth_rows(
    clip: &Clip,
    truth: &ClipTruth,
    ratio: AspectRatio,
    smoothness: Smoothness,
    run_name: &str,
    model: Model,
    gap: Option<DurationUs>,
    baseline: bool,
) -> Vec<Row> {
    let n = clip.frames.len() as u64;
    let index_of = |t: TimestampUs| clip.frames.binary_search(&t).ok().map(|i| i as u64);
    let boxes_at =
        |dets: &[Detection], i: u64| dets.iter().find(|d| index_of(d.timestamp_us) == Some(i)).map(|d| d.boxes.clone());
    if std::env::var_os("EVAL_SCORES").is_some() {
        // The best-matching box's IoU and score per analysed frame, with the truth's height.
        for d in &clip.detections {
            let Some(i) = index_of(d.timestamp_us) else { continue };
            let Some(t) = truth.at(i) else { continue };
            let best = d.boxes.iter().max_by(|a, b| a.iou(&t.subject).total_cmp(&b.iou(&t.subject)));
            let h = t.subject.height / clip.source.height as f32;
            match best {
                Some(b) => {
                    println!("  frame {i:>4} height {h:.2}: iou {:.2} score {:.2}", b.iou(&t.subject), b.score)
                }
                None => println!("  frame {i:>4} height {h:.2}: nothing"),
            }
        }
    }
    let motion = GroundTruth {
        frames: clip.frames.iter().map(|&t| GroundTruthFrame { timestamp_us: t, subject: None }).collect(),
        cuts_us: clip.cuts.clone(),
    };
    let base_settings = CameraSettings::new(ratio, smoothness);
    let settle = (clip.fps * (smoothness.params().ease_s + 0.2)).ceil() as u64;
    let mut rows = Vec::new();
    let dets_03 = at_least(&clip.detections, 0.3, false);
    let base = baseline_crop_path(clip.source, ratio, &dets_03, &clip.cuts, &clip.frames, BASELINE_ALPHA);
    rows.extend(baseline.then(|| Row {
        name: format!("baseline a={BASELINE_ALPHA} ({run_name})"),
        det_recall: None,
        track_recall: None,
        subject_right: None,
        truth: evaluate_truth(&base, truth, settle),
        motion: evaluate(&base, &motion),
    }));
    // An adaptive run: the app's analysis only (the last variants), its tracker covering the gaps.
    let all = variants(model);
    let chosen_variants = if gap.is_some() { &all[all.len() - 2..] } else { &all[..] };
    for v in chosen_variants {
        let tracker = gap.map_or(v.tracker, |g| v.tracker.covering_gap(g));
        let settings = CameraSettings { prominence: v.weights, two_people: v.two_people, ..base_settings };
        let dets = at_least(&clip.detections, v.min_score, v.faces);
        let det_recall = subject_recall(truth, n, |i| boxes_at(&dets, i)).0;
        let mut analysis = Analysis::with_tracker(clip.source, dets.clone(), clip.cuts.clone(), tracker);
        let track_recall = subject_recall(truth, n, |i| {
            let t = clip.frames[i as usize];
            boxes_at(&dets, i).map(|_| analysis.tracks.iter().filter_map(|tr| tr.box_at(t)).collect())
        })
        .0;
        let chosen = subjects_planner(&analysis, &settings);
        let subject_right = subject_recall(truth, n, |i| {
            let t = clip.frames[i as usize];
            boxes_at(&dets, i).map(|_| chosen.iter().filter(|(s, _)| *s == t).map(|(_, b)| *b).collect())
        })
        .0;
        let path = analysis.crop_path(&settings, &[], &clip.frames);
        if std::env::var_os("EVAL_CUTS").is_some() && v.faces {
            for (i, e) in path.iter().enumerate() {
                if let Some(t) = truth.at(i as u64) {
                    let f = t.face;
                    if !(f.x >= e.x as f32 && f.right() <= (e.x + e.width) as f32) {
                        println!(
                            "  {run_name} frame {i}: face {:.0}..{:.0} crop {}..{}",
                            f.x,
                            f.right(),
                            e.x,
                            e.x + e.width
                        );
                    }
                }
            }
        }
        rows.push(Row {
            name: format!("{run_name} {}", v.name),
            det_recall: Some(det_recall),
            track_recall: Some(track_recall),
            subject_right: Some(subject_right),
            truth: evaluate_truth(&path, truth, settle),
            motion: evaluate(&path, &motion),
        });
    }
    rows
}

fn main() {
    let args = parse_args();
    let t_all = Instant::now();
    if !args.truth.is_empty() {
        truth_main(&args);
        eprintln!("total {:.1} s", t_all.elapsed().as_secs_f64());
        return;
    }
    let (model, rate) = args.detectors[0];
    let clip =
        analyse_clip(&args.input, rate.unwrap_or(args.rate), args.max_frames, ANALYSIS_MIN_SCORE, model, args.tiles);
    let Clip { source, frames, cuts, detections, detect_ms, fps, duration_s, .. } = clip;
    let n = frames.len();
    let params = model.analysis_params();
    let analysed = detections.len();
    let boxes: usize = detections.iter().map(|d| d.boxes.len()).sum();
    let boxes_05: usize = detections.iter().map(|d| d.boxes.iter().filter(|b| b.score >= 0.5).count()).sum();

    let mut analysis =
        Analysis::with_tracker(source, detections, cuts.clone(), TrackerConfig::for_detector(model.into()));
    let long_tracks = analysis.tracks.iter().filter(|t| t.samples.len() >= 10).count();

    println!("input            {}", args.input);
    println!("source           {}x{}, {:.2} fps, {:.1} s", source.width, source.height, fps, duration_s);
    println!("frames           {n}");
    println!(
        "analysed frames  {analysed} (rate {} /s requested, one every {:.2} frames)",
        args.rate,
        n as f64 / analysed.max(1) as f64
    );
    println!(
        "detector         {:.1} ms/frame ({}, CPU, tiles {}, NMS included), score >= {ANALYSIS_MIN_SCORE}",
        detect_ms,
        model.id(),
        args.tiles
    );
    println!(
        "people per frame {:.2} (score >= {}), {:.2} (score >= 0.5)",
        boxes as f64 / analysed.max(1) as f64,
        params.score_threshold,
        boxes_05 as f64 / analysed.max(1) as f64
    );
    println!("cuts             {} {:?}", cuts.len(), cuts.iter().map(|c| c.0 as f64 / 1e6).collect::<Vec<_>>());
    println!("tracks           {} ({} seen on >= 10 samples)", analysis.tracks.len(), long_tracks);

    let alpha_tc = 1.0 - (1.0 - BASELINE_ALPHA).powf(30.0 / fps);
    for &ratio in &args.ratios {
        for &smoothness in &args.smoothness {
            let settings = CameraSettings::new(ratio, smoothness);
            let crop = output_size(source, ratio);
            let t0 = Instant::now();
            let planner: Vec<CropPathEntry> = analysis.crop_path(&settings, &[], &frames);
            let plan_ms = t0.elapsed().as_secs_f64() * 1e3;
            let primary: Vec<Option<u32>> =
                analysis.path.as_ref().unwrap().shots.iter().map(|s| s.subject_track).collect();
            let base_tc = baseline_crop_path(source, ratio, &analysis.detections, &cuts, &frames, alpha_tc);
            let base = baseline_crop_path(source, ratio, &analysis.detections, &cuts, &frames, BASELINE_ALPHA);

            let truths = [
                truth(&frames, &cuts, &subjects_planner(&analysis, &settings)),
                truth(&frames, &cuts, &subjects_prominent(&analysis)),
                truth(&frames, &cuts, &subjects_largest(&analysis)),
            ];
            let motion = GroundTruth {
                frames: frames.iter().map(|&t| GroundTruthFrame { timestamp_us: t, subject: None }).collect(),
                cuts_us: cuts.clone(),
            };
            let col = |p: &[CropPathEntry]| (evaluate(p, &motion), truths.each_ref().map(|g| evaluate(p, g)));
            let (a, b) = col(&planner);
            let (c, d) = col(&base_tc);
            let (e, f) = col(&base);
            println!();
            println!(
                "== {ratio} ({}x{} crop), {smoothness:?}: planner {:.1} ms; primary track per shot {:?}",
                crop.width, crop.height, plan_ms, primary
            );
            let l1 = "planner".to_string();
            let l2 = format!("baseline a={alpha_tc:.3}");
            let l3 = format!("baseline a={BASELINE_ALPHA}");
            print_table(&[(&l1, a, b), (&l2, c, d), (&l3, e, f)]);
        }
    }
    eprintln!("total {:.1} s", t_all.elapsed().as_secs_f64());
}

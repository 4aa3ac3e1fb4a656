//! Evaluates the virtual camera on a real clip: the whole analysis (decode, person detection,
//! shot detection, tracking, planning) and, in the same run, the naive baseline
//! (`reframe_core::camera_eval::baseline_crop_path`), printed side by side.
//!
//!     cargo run --release -p reframe-detect --example eval_camera -- \
//!         [--input FILE] [--ratio 9:16[,1:1...]] [--smoothness balanced|calm|responsive|all[,...]] \
//!         [--rate 6] [--frames N]
//!
//! Defaults: `/usr/share/doc/opencv-doc/examples/data/vtest.avi` (Debian package `opencv-doc`:
//! 768x576, 10 fps, 795 frames, people walking), 9:16, balanced, 6 analysed frames per second.
//! Several ratios and smoothness settings may be given separated by commas; the video is decoded
//! and detected once for all of them.
//!
//! How it runs (mirroring the worker's auto mode, `worker/src/analyze.rs`):
//! - `ffprobe` gives the display size and every frame's timestamp; two `ffmpeg` subprocesses
//!   decode the video to raw pipes: 64x36 grey for the shot statistics of every frame (the worker's
//!   `STATS_SIZE`), and 300x300 RGBA (the model input, stretched like the worker's canvas) for the
//!   detector.
//! - A frame is analysed when its timestamp is at or past the next sampling time, which then moves
//!   to that timestamp + 1/rate (the worker's rule; at 10 fps and rate 6 this is every 2nd frame).
//! - The detector (`reframe_detect`, CPU backend) runs natively on each analysed frame with
//!   `DetectParams::default()`; boxes are scaled from 300x300 to display pixels.
//! - Cuts: `FrameStats::from_luma` + `ShotDetector` on every frame.
//! - Planner: `Analysis::new(..).crop_path(settings, all frame timestamps)`.
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
use reframe_core::camera_eval::{baseline_crop_path, evaluate, GroundTruth, GroundTruthFrame, Metrics, BASELINE_ALPHA};
use reframe_core::camera_path::{CameraSettings, Smoothness};
use reframe_core::crop::output_size;
use reframe_core::crop::CropPathEntry;
use reframe_core::shots::{FrameStats, ShotConfig, ShotDetector};
use reframe_core::subject::{choose_subjects, prominence};
use reframe_core::track::{Detection, PersonBox, Track};
use reframe_core::units::{AspectRatio, FrameIndex, PixelSize, TimestampUs};
use reframe_detect::ssdlite::SsdliteDetector;
use reframe_detect::{cpu_device, DetectParams, PersonModel, INPUT_SIZE};

const DEFAULT_INPUT: &str = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
const STATS_W: u32 = 64;
const STATS_H: u32 = 36;

struct Args {
    input: String,
    ratios: Vec<AspectRatio>,
    smoothness: Vec<Smoothness>,
    rate: f64,
    max_frames: Option<usize>,
}

fn usage() -> ! {
    eprintln!(
        "usage: eval_camera [--input FILE] [--ratio 9:16[,1:1]] [--smoothness calm|balanced|responsive|all[,..]] [--rate 6] [--frames N]"
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
        let score: Vec<f64> = tracks.iter().map(|tr| prominence(tr, &samples, a.source_size)).collect();
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

fn main() {
    let args = parse_args();
    let t_all = Instant::now();
    let (source, mut frames) = probe(&args.input);
    if let Some(n) = args.max_frames {
        frames.truncate(n);
    }
    let n = frames.len();
    assert!(n >= 2, "no frames decoded from {}", args.input);
    let duration_s = frames[n - 1].since(frames[0]).seconds();
    let fps = (n - 1) as f64 / duration_s.max(1e-9);

    // Shot statistics of every frame.
    let mut shots = ShotDetector::new(ShotConfig::default());
    let mut decoded = 0;
    decode(&args.input, STATS_W, STATS_H, "gray", 1, |i, luma| {
        if i >= n {
            return false;
        }
        shots.push(FrameStats::from_luma(frames[i], luma, STATS_W, STATS_H, STATS_W).unwrap());
        decoded += 1;
        true
    });
    assert_eq!(decoded, n, "ffmpeg gave {decoded} frames, ffprobe listed {n}");
    let cuts = shots.finish();

    // Detection on the sampled frames.
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let weights = std::fs::read(root.join("../models/ssdlite/ssdlite_person.bpk")).expect("weights");
    let detector = SsdliteDetector::from_bytes(weights, &cpu_device()).expect("detector");
    let params = DetectParams::default();
    // The frames the worker analyses at this rate (`resume::is_analysed`).
    let interval = reframe_core::units::DurationUs((1e6 / args.rate).round() as i64);
    let (sx, sy) = (source.width as f32 / INPUT_SIZE as f32, source.height as f32 / INPUT_SIZE as f32);
    let mut detections: Vec<Detection> = Vec::new();
    let mut detect_s = 0.0;
    decode(&args.input, INPUT_SIZE as u32, INPUT_SIZE as u32, "rgba", 4, |i, rgba| {
        if i >= n {
            return false;
        }
        let t = frames[i];
        if reframe_core::resume::is_analysed(&frames, i, interval) {
            let t0 = Instant::now();
            let found = detector.detect(rgba, INPUT_SIZE as u32, INPUT_SIZE as u32, &params).expect("detect");
            detect_s += t0.elapsed().as_secs_f64();
            detections.push(Detection {
                timestamp_us: t,
                frame: FrameIndex(i as u64),
                boxes: found
                    .iter()
                    .map(|d| PersonBox::new(d.x * sx, d.y * sy, d.width * sx, d.height * sy, d.score))
                    .collect(),
            });
        }
        true
    });
    let analysed = detections.len();
    let boxes: usize = detections.iter().map(|d| d.boxes.len()).sum();
    let boxes_05: usize = detections.iter().map(|d| d.boxes.iter().filter(|b| b.score >= 0.5).count()).sum();

    let mut analysis = Analysis::new(source, detections, cuts.clone());
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
        "detector         {:.1} ms/frame (CPU, 300x300 RGBA in, NMS included), score >= {}",
        1e3 * detect_s / analysed.max(1) as f64,
        params.score_threshold
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
            let planner: Vec<CropPathEntry> = analysis.crop_path(&settings, &frames);
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

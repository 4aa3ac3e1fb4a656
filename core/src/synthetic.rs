//! Synthetic scenes with known ground truth, for the camera tests and the evaluation example.
//!
//! A [`Scene`] is a video of people (boxes) moving on keyframed trajectories, with cuts. From it:
//! - [`Scene::ground_truth`]: the primary subject's exact box on every frame;
//! - [`Scene::detections`]: what a detector would report on the analysed frames, with seeded
//!   noise: jitter, misses, low scores, false positives and occlusions ([`DetectionNoise`]);
//! - [`Scene::render_luma`]: a small luma picture of any frame (textured background per shot,
//!   optionally panning, plus the people), to exercise shot detection on pixels.
//!
//! Everything is deterministic (a small xorshift generator), so tests are reproducible.

use crate::analysis::Analysis;
use crate::camera_eval::{baseline_crop_path, evaluate, GroundTruth, GroundTruthFrame, Metrics, BASELINE_ALPHA};
use crate::camera_path::CameraSettings;
use crate::crop::CropPathEntry;
use crate::shots::{FrameStats, ShotConfig, ShotDetector};
use crate::track::{Detection, PersonBox};
use crate::units::{FrameIndex, PixelSize, TimestampUs};

/// Deterministic pseudo-random numbers (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [a, b).
    pub fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.unit()
    }
}

/// A person in a scene: a box of fixed size whose horizontal centre follows keyframes
/// `(seconds, centre x)` (linear in between, constant outside), feet on `floor_y`, visible during
/// `[enter_s, exit_s)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenePerson {
    pub keys: Vec<(f64, f64)>,
    pub width: f64,
    pub height: f64,
    pub floor_y: f64,
    pub enter_s: f64,
    pub exit_s: f64,
    /// Amplitude (px) of a slow side-to-side sway (0.5 Hz), like a person standing naturally.
    pub sway_px: f64,
    /// Luma of the body when rendered.
    pub luma: u8,
}

impl ScenePerson {
    pub fn new(keys: Vec<(f64, f64)>, width: f64, height: f64) -> ScenePerson {
        ScenePerson {
            keys,
            width,
            height,
            floor_y: 1000.0,
            enter_s: 0.0,
            exit_s: f64::INFINITY,
            sway_px: 0.0,
            luma: 40,
        }
    }

    fn centre_x(&self, t: f64) -> f64 {
        let k = &self.keys;
        let base = match k.iter().position(|&(kt, _)| kt > t) {
            None => k.last().map_or(0.0, |p| p.1),
            Some(0) => k[0].1,
            Some(i) => {
                let (t0, x0) = k[i - 1];
                let (t1, x1) = k[i];
                x0 + (x1 - x0) * (t - t0) / (t1 - t0)
            }
        };
        base + self.sway_px * (std::f64::consts::PI * t).sin()
    }

    /// The exact box at `t` seconds, `None` outside the presence interval.
    pub fn box_at(&self, t: f64) -> Option<PersonBox> {
        if t < self.enter_s || t >= self.exit_s {
            return None;
        }
        let cx = self.centre_x(t);
        Some(PersonBox::new(
            (cx - self.width / 2.0) as f32,
            (self.floor_y - self.height) as f32,
            self.width as f32,
            self.height as f32,
            1.0,
        ))
    }
}

/// The noise a scene's detector adds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DetectionNoise {
    /// Uniform jitter of box edges, +- pixels.
    pub jitter_px: f64,
    /// Probability that a visible person is not detected on an analysed frame.
    pub miss_rate: f64,
    /// Probability that a detection has a low score (0.2..0.45: occluded, blurred).
    pub low_score_rate: f64,
    /// Probability of a spurious box on an analysed frame.
    pub false_positive_rate: f64,
    /// Intervals `(person, from s, to s)` where a person is hidden (not detected at all).
    pub occlusions: Vec<(usize, f64, f64)>,
}

/// A synthetic video.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    pub name: &'static str,
    pub source: PixelSize,
    pub fps: f64,
    pub frames: usize,
    /// Frame indices where a new shot starts.
    pub cut_frames: Vec<usize>,
    pub people: Vec<ScenePerson>,
    /// Which person is the primary subject, per shot (index into `people`).
    pub primary: Vec<usize>,
    /// Analyse every n-th frame.
    pub sample_every: usize,
    pub noise: DetectionNoise,
    /// Horizontal pan of the filming camera (background motion), px per second.
    pub background_pan: f64,
    /// When > 0, each cut is a fade through black: the picture darkens over this many frames
    /// before the cut and brightens over as many after it (rendering only).
    pub fade_frames: usize,
    /// When > 0, each cut is a cross-dissolve: from this many frames before the cut to as many
    /// after it, the background of one shot blends into the other's (rendering only).
    pub dissolve_frames: usize,
    /// Frames shown white (a photographer's flash), as `(first frame, frames)` (rendering only).
    pub flashes: Vec<(usize, usize)>,
}

impl Scene {
    pub fn timestamp(&self, frame: usize) -> TimestampUs {
        TimestampUs((frame as f64 * 1e6 / self.fps).round() as i64)
    }
    pub fn frame_timestamps(&self) -> Vec<TimestampUs> {
        (0..self.frames).map(|i| self.timestamp(i)).collect()
    }
    pub fn cuts(&self) -> Vec<TimestampUs> {
        self.cut_frames.iter().map(|&f| self.timestamp(f)).collect()
    }
    fn shot_of_frame(&self, frame: usize) -> usize {
        self.cut_frames.iter().filter(|&&c| c <= frame).count()
    }
    fn seconds(&self, frame: usize) -> f64 {
        frame as f64 / self.fps
    }

    /// A box clipped to the frame, or `None` when less than half of it is visible.
    fn visible(&self, b: PersonBox) -> Option<PersonBox> {
        let (w, h) = (self.source.width as f32, self.source.height as f32);
        let x0 = b.x.max(0.0);
        let x1 = b.right().min(w);
        let y0 = b.y.max(0.0);
        let y1 = b.bottom().min(h);
        if x1 <= x0 || y1 <= y0 || (x1 - x0) * (y1 - y0) < 0.5 * b.area() {
            return None;
        }
        Some(PersonBox::new(x0, y0, x1 - x0, y1 - y0, b.score))
    }

    /// The primary subject's visible box on every frame.
    pub fn ground_truth(&self) -> GroundTruth {
        let frames = (0..self.frames)
            .map(|i| {
                let shot = self.shot_of_frame(i);
                let subject = self
                    .primary
                    .get(shot)
                    .and_then(|&p| self.people.get(p))
                    .and_then(|p| p.box_at(self.seconds(i)))
                    .and_then(|b| self.visible(b));
                GroundTruthFrame { timestamp_us: self.timestamp(i), subject }
            })
            .collect();
        GroundTruth { frames, cuts_us: self.cuts() }
    }

    /// The detector's output on every `sample_every`-th frame, with the scene's noise.
    pub fn detections(&self, seed: u64) -> Vec<Detection> {
        let mut rng = Rng::new(seed);
        let n = &self.noise;
        let mut out = Vec::new();
        for i in (0..self.frames).step_by(self.sample_every.max(1)) {
            let t = self.seconds(i);
            let mut boxes = Vec::new();
            for (pi, p) in self.people.iter().enumerate() {
                let Some(b) = p.box_at(t).and_then(|b| self.visible(b)) else {
                    continue;
                };
                if n.occlusions.iter().any(|&(who, a, z)| who == pi && t >= a && t < z) {
                    continue;
                }
                if rng.unit() < n.miss_rate {
                    continue;
                }
                let j = n.jitter_px;
                let score = if rng.unit() < n.low_score_rate { rng.range(0.2, 0.45) } else { rng.range(0.6, 0.95) };
                let x = b.x as f64 + rng.range(-j, j);
                let y = b.y as f64 + rng.range(-j, j);
                let w = b.width as f64 + rng.range(-j, j);
                let h = b.height as f64 + rng.range(-j, j);
                boxes.push(PersonBox::new(x as f32, y as f32, w.max(4.0) as f32, h.max(4.0) as f32, score as f32));
            }
            if rng.unit() < n.false_positive_rate {
                let w = rng.range(40.0, 160.0);
                let h = rng.range(100.0, 320.0);
                let x = rng.range(0.0, self.source.width as f64 - w);
                let y = rng.range(0.0, self.source.height as f64 - h);
                boxes.push(PersonBox::new(x as f32, y as f32, w as f32, h as f32, rng.range(0.3, 0.75) as f32));
            }
            out.push(Detection { timestamp_us: self.timestamp(i), frame: FrameIndex(i as u64), boxes, faces: vec![] });
        }
        out
    }

    /// A `width` x `height` luma picture of frame `frame`: a smooth random texture per shot
    /// (panning at `background_pan`), sensor noise, and the people as dark bodies with a lighter head.
    pub fn render_luma(&self, frame: usize, width: u32, height: u32) -> Vec<u8> {
        let shot = self.shot_of_frame(frame) as u64;
        self.draw(frame, width, height, &|x, y| texture(shot, x, y))
    }

    /// [`FrameStats`] of every frame rendered at `size` (the background texture of each shot is
    /// computed once, on whole pixels, so this is fast enough for debug-build tests).
    pub fn frame_stats(&self, size: PixelSize) -> Vec<FrameStats> {
        let (w, h) = (size.width as usize, size.height as usize);
        let sx = size.width as f64 / self.source.width as f64;
        let max_pan = (self.background_pan.abs() * self.frames as f64 / self.fps * sx).ceil() as usize + 2;
        let tex_w = w + 2 * max_pan;
        let mut cache: Vec<Option<Vec<f64>>> = vec![None; self.cut_frames.len() + 1];
        let mut out = Vec::with_capacity(self.frames);
        for i in 0..self.frames {
            // In a dissolve: the two shots and the weight of the second.
            let f = self.dissolve_frames;
            let dissolve = self.cut_frames.iter().enumerate().find(|(_, &c)| f > 0 && i + f >= c && i < c + f);
            let (shot, other, weight) = match dissolve {
                Some((k, &c)) => (k, k + 1, (i + f + 1 - c) as f64 / (2 * f + 1) as f64),
                None => (self.shot_of_frame(i), self.shot_of_frame(i), 0.0),
            };
            for s in [shot, other] {
                cache[s].get_or_insert_with(|| {
                    let mut t = vec![0.0; tex_w * h];
                    for y in 0..h {
                        for x in 0..tex_w {
                            t[y * tex_w + x] = texture(s as u64, x as f64 - max_pan as f64, y as f64);
                        }
                    }
                    t
                });
            }
            let (ta, tb) = (cache[shot].as_ref().expect("made above"), cache[other].as_ref().expect("made above"));
            let lookup = |x: f64, y: f64| {
                let xi = (x.round() as i64 + max_pan as i64).clamp(0, tex_w as i64 - 1) as usize;
                let yi = (y as usize).min(h.saturating_sub(1));
                (1.0 - weight) * ta[yi * tex_w + xi] + weight * tb[yi * tex_w + xi]
            };
            let mut luma = self.draw(i, size.width, size.height, &lookup);
            if self.flashes.iter().any(|&(first, n)| (first..first + n).contains(&i)) {
                luma.fill(250);
            }
            if let Ok(stats) = FrameStats::from_luma(self.timestamp(i), &luma, size.width, size.height, size.width) {
                out.push(stats);
            }
        }
        out
    }

    /// Draws frame `frame` over the background `bg(x + pan, y)`.
    fn draw(&self, frame: usize, width: u32, height: u32, bg: &dyn Fn(f64, f64) -> f64) -> Vec<u8> {
        let t = self.seconds(frame);
        let (w, h) = (width as usize, height as usize);
        let sx = width as f64 / self.source.width as f64;
        let sy = height as f64 / self.source.height as f64;
        let pan = self.background_pan * t * sx;
        let mut noise = Rng::new(frame as u64 * 7919 + 17);
        let mut img = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let v = bg(x as f64 + pan, y as f64) + noise.range(-3.0, 3.0);
                img[y * w + x] = v.clamp(0.0, 255.0) as u8;
            }
        }
        for p in &self.people {
            let Some(b) = p.box_at(t) else { continue };
            let x0 = (b.x as f64 * sx).max(0.0) as usize;
            let x1 = ((b.right() as f64 * sx).max(0.0) as usize).min(w);
            let y0 = (b.y as f64 * sy).max(0.0) as usize;
            let y1 = ((b.bottom() as f64 * sy).max(0.0) as usize).min(h);
            let head_end = y0 + (y1.saturating_sub(y0)) / 6;
            for y in y0..y1 {
                for x in x0..x1 {
                    img[y * w + x] = if y < head_end { 190 } else { p.luma };
                }
            }
        }
        // Fades through black around the cuts: the last frame before a cut and the cut's frame
        // are black.
        if self.fade_frames > 0 {
            let f = self.fade_frames as i64;
            for &c in &self.cut_frames {
                let d = frame as i64 - c as i64;
                if (-f..f).contains(&d) {
                    let gain = if d < 0 { -d - 1 } else { d } as f64 / f as f64;
                    for v in img.iter_mut() {
                        *v = (16.0 + (*v as f64 - 16.0).max(0.0) * gain).round() as u8;
                    }
                }
            }
        }
        img
    }
}

/// A smooth random texture: bilinear value noise on a 24-pixel lattice, two octaves; each shot has
/// its own seed and brightness.
fn texture(seed: u64, x: f64, y: f64) -> f64 {
    fn lattice(seed: u64, ix: i64, iy: i64) -> f64 {
        let mut r = Rng::new(
            seed.wrapping_mul(1_000_003) ^ (ix as u64).wrapping_mul(73_856_093) ^ (iy as u64).wrapping_mul(19_349_663),
        );
        r.unit()
    }
    fn octave(seed: u64, x: f64, y: f64, cell: f64) -> f64 {
        let (fx, fy) = (x / cell, y / cell);
        let (ix, iy) = (fx.floor() as i64, fy.floor() as i64);
        let (ax, ay) = (fx - ix as f64, fy - iy as f64);
        let v00 = lattice(seed, ix, iy);
        let v10 = lattice(seed, ix + 1, iy);
        let v01 = lattice(seed, ix, iy + 1);
        let v11 = lattice(seed, ix + 1, iy + 1);
        let top = v00 + (v10 - v00) * ax;
        let bottom = v01 + (v11 - v01) * ax;
        top + (bottom - top) * ay
    }
    let base = 60.0 + 25.0 * (seed % 5) as f64; // shots differ in overall brightness too
    base + 90.0 * octave(seed, x, y, 24.0) + 40.0 * octave(seed + 101, x, y, 7.0)
}

fn person(keys: &[(f64, f64)], width: f64, height: f64) -> ScenePerson {
    ScenePerson::new(keys.to_vec(), width, height)
}

/// A scene of 1920x1080 at 30 fps analysed at 5 fps, with mild detector noise.
fn scene(name: &'static str, seconds: f64, people: Vec<ScenePerson>) -> Scene {
    Scene {
        name,
        source: PixelSize::new(1920, 1080),
        fps: 30.0,
        frames: (seconds * 30.0).round() as usize,
        cut_frames: vec![],
        people,
        primary: vec![0],
        sample_every: 6,
        noise: DetectionNoise {
            jitter_px: 4.0,
            miss_rate: 0.03,
            low_score_rate: 0.05,
            false_positive_rate: 0.05,
            occlusions: vec![],
        },
        background_pan: 0.0,
        fade_frames: 0,
        dissolve_frames: 0,
        flashes: Vec::new(),
    }
}

/// The standard evaluation scenes (see each one's comment).
pub fn standard_scenes() -> Vec<Scene> {
    let mut scenes = Vec::new();

    // One person standing, swaying 3 px: the camera must not move at all.
    let mut p = person(&[(0.0, 1300.0)], 140.0, 420.0);
    p.sway_px = 3.0;
    scenes.push(scene("still", 10.0, vec![p]));

    // Walking across the frame at ~145 px/s, pausing at both ends.
    scenes.push(scene("walk", 12.0, vec![person(&[(1.0, 300.0), (10.0, 1600.0)], 140.0, 420.0)]));

    // Running across at 640 px/s.
    scenes.push(scene("run", 8.0, vec![person(&[(1.0, 150.0), (3.5, 1750.0)], 150.0, 420.0)]));

    // Walk, stop, walk, stop, walk.
    scenes.push(scene(
        "stop_and_go",
        16.0,
        vec![person(
            &[(1.0, 300.0), (4.0, 800.0), (7.0, 800.0), (10.0, 1300.0), (13.0, 1300.0), (15.0, 1650.0)],
            140.0,
            420.0,
        )],
    ));

    // A (primary, nearer) stands; B stands far away, then walks over and stays next to A.
    scenes.push(scene(
        "two_people",
        14.0,
        vec![person(&[(0.0, 500.0)], 170.0, 500.0), person(&[(3.0, 1500.0), (8.0, 760.0)], 130.0, 400.0)],
    ));

    // A cut at 5 s: person 1 stands left in shot 1, person 2 walks on the right in shot 2.
    let mut a = person(&[(0.0, 400.0)], 140.0, 420.0);
    a.exit_s = 5.0;
    let mut b = person(&[(5.0, 1500.0), (9.0, 1100.0)], 140.0, 420.0);
    b.enter_s = 5.0;
    let mut s = scene("cut", 10.0, vec![a, b]);
    s.cut_frames = vec![150];
    s.primary = vec![0, 1];
    scenes.push(s);

    // Walking with a poor detector: jitter, misses, low scores, false positives, and a 1.2 s
    // occlusion behind something.
    let mut s = scene("noisy_walk", 12.0, vec![person(&[(1.0, 300.0), (10.0, 1600.0)], 140.0, 420.0)]);
    s.noise = DetectionNoise {
        jitter_px: 12.0,
        miss_rate: 0.25,
        low_score_rate: 0.25,
        false_positive_rate: 0.4,
        occlusions: vec![(0, 6.0, 7.2)],
    };
    scenes.push(s);

    // The person walks out of the frame at ~6 s and nobody comes back: hold, then ease to centre.
    scenes.push(scene("leaves", 12.0, vec![person(&[(1.0, 900.0), (3.0, 900.0), (6.0, 2100.0)], 140.0, 420.0)]));

    scenes
}

/// The result of running the whole analysis on a scene.
#[derive(Debug, Clone)]
pub struct SceneRun {
    /// The cuts the analysis used (detected from rendered pixels, or the scene's own).
    pub cuts: Vec<TimestampUs>,
    pub analysis: Analysis,
    /// The planner's crop path, one entry per frame.
    pub planner: Vec<CropPathEntry>,
    /// The naive baseline's crop path, one entry per frame.
    pub baseline: Vec<CropPathEntry>,
    pub planner_metrics: Metrics,
    pub baseline_metrics: Metrics,
}

/// Runs the analysis on `scene`: detections (noise from `seed`), cuts (detected from frames
/// rendered at `render` size when given, else the scene's true cuts), tracking, planning,
/// per-frame interpolation; plus the baseline; both evaluated against the ground truth.
pub fn run_scene(scene: &Scene, settings: &CameraSettings, seed: u64, render: Option<PixelSize>) -> SceneRun {
    let frames = scene.frame_timestamps();
    let cuts = match render {
        Some(size) => {
            let mut detector = ShotDetector::new(ShotConfig::default());
            for stats in scene.frame_stats(size) {
                detector.push(stats);
            }
            detector.finish()
        }
        None => scene.cuts(),
    };
    let detections = scene.detections(seed);
    let mut analysis = Analysis::new(scene.source, detections, cuts.clone());
    let planner = analysis.crop_path(settings, &[], &frames);
    let baseline =
        baseline_crop_path(scene.source, settings.ratio, &analysis.detections, &cuts, &frames, BASELINE_ALPHA);
    let truth = scene.ground_truth();
    let planner_metrics = evaluate(&planner, &truth);
    let baseline_metrics = evaluate(&baseline, &truth);
    SceneRun { cuts, analysis, planner, baseline, planner_metrics, baseline_metrics }
}

/// Detections of `minutes` of a 1920x1080 30 fps video analysed 3 times a second, for
/// benchmarks of planning and of the editor (`core/examples/plan_bench.rs`,
/// `core/examples/long_analysis.rs`): a cut every 8 s, two to four people walking in each shot,
/// each found on 90% of the analysed frames. Returns the detections and the cut times.
pub fn long_detections(minutes: f64) -> (Vec<Detection>, Vec<TimestampUs>) {
    const FPS: f64 = 30.0;
    const ANALYSED_PER_S: f64 = 3.0;
    const SHOT_S: f64 = 8.0;
    let mut rng = Rng::new(7);
    let samples = (minutes * 60.0 * ANALYSED_PER_S) as usize;
    let shot_len = (SHOT_S * ANALYSED_PER_S) as usize;
    let mut detections = Vec::with_capacity(samples);
    let mut cuts = Vec::new();
    let mut people: Vec<(f64, f64, f64)> = Vec::new(); // (x, speed px/sample, height)
    for i in 0..samples {
        let t = TimestampUs((i as f64 / ANALYSED_PER_S * 1e6).round() as i64);
        if i % shot_len == 0 {
            if i > 0 {
                cuts.push(t);
            }
            let n = 2 + (rng.unit() * 3.0) as usize;
            people =
                (0..n).map(|_| (rng.range(100.0, 1700.0), rng.range(-20.0, 20.0), rng.range(300.0, 900.0))).collect();
        }
        let mut boxes = Vec::new();
        for p in &mut people {
            p.0 = (p.0 + p.1 + rng.range(-4.0, 4.0)).clamp(0.0, 1800.0);
            if rng.unit() < 0.9 {
                let (w, h) = (p.2 * 0.35, p.2);
                boxes.push(PersonBox::new(
                    p.0 as f32,
                    (1080.0 - h - 20.0) as f32,
                    w as f32,
                    h as f32,
                    rng.range(0.3, 0.95) as f32,
                ));
            }
        }
        let frame = FrameIndex((t.0 as f64 * FPS / 1e6).round() as u64);
        detections.push(Detection { timestamp_us: t, frame, boxes, faces: Vec::new() });
    }
    (detections, cuts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_uniformish() {
        let mut a = Rng::new(5);
        let mut b = Rng::new(5);
        let xs: Vec<f64> = (0..1000).map(|_| a.unit()).collect();
        assert!(xs.iter().zip((0..1000).map(|_| b.unit())).all(|(x, y)| *x == y));
        let mean = xs.iter().sum::<f64>() / 1000.0;
        assert!((mean - 0.5).abs() < 0.05 && xs.iter().all(|&x| (0.0..1.0).contains(&x)));
    }

    #[test]
    fn ground_truth_and_detections_agree() {
        let s = &standard_scenes()[1];
        let gt = s.ground_truth();
        assert_eq!(gt.frames.len(), s.frames);
        let dets = s.detections(1);
        assert_eq!(dets.len(), s.frames / s.sample_every);
        // Most analysed frames have a box on the truth, within the jitter.
        let on_truth = dets
            .iter()
            .filter(|d| {
                let f = gt.frames.iter().find(|f| f.timestamp_us == d.timestamp_us).unwrap();
                let truth = f.subject.unwrap();
                d.boxes.iter().any(|b| (b.x - truth.x).abs() <= 4.0 && (b.y - truth.y).abs() <= 4.0)
            })
            .count();
        assert!(on_truth >= dets.len() * 9 / 10 && on_truth < dets.len(), "{on_truth} of {}", dets.len());
    }
}

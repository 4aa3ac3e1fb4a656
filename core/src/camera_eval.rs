//! Measuring a crop path against ground truth, and the naive baseline it is compared with.
//!
//! [`evaluate`] reports, over the frames of a video:
//! - `subject_inside`: share of the frames showing the primary subject (and where the subject fits
//!   in the crop at all) whose subject box is fully inside the crop window;
//! - `still_share`: share of frame-to-frame steps (inside a shot) where the crop does not move;
//! - `mean_abs_accel`: mean |second difference| of the crop centre, px/frame^2, frame by frame, on
//!   the even-pixel path the encoder gets. Even-pixel snapping alone adds up to ~2 px/frame^2
//!   while panning at a speed that is not a multiple of 2 px/frame (steps alternate, e.g. 4, 6, 4);
//! - `mean_abs_accel_5f`: the same over a 5-frame spacing, `|c[i+5] - 2c[i] + c[i-5]| / 25`, which
//!   sees shake and lurches but hardly the snapping (at most 4/25 px/frame^2 from it);
//! - `max_abs_accel_5f`: the largest of those: an abrupt start or stop of a pan shows here;
//! - `reversals_per_minute`: how often the crop changes direction (x and y counted separately;
//!   a pause between two moves in opposite directions counts as a reversal too).
//!
//! Second differences and reversals never span a cut or a change between one crop and a split
//! screen: the camera restarts there. On split-screen frames the subject counts as inside when
//! either half holds it; motion is measured on the first half.
//!
//! [`baseline_crop_path`] is what a naive auto-crop does: centre the crop on the most confident
//! large detection of the latest analysed frame, smoothed by an exponential moving average per
//! frame (reset at each cut).

use crate::crop::output_size;
use crate::crop::CropPathEntry;
use crate::track::{Detection, PersonBox};
use crate::units::{AspectRatio, PixelRect, PixelSize, TimestampUs};
use serde::{Deserialize, Serialize};

/// The truth for one frame: where the primary subject is (`None` when not visible).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GroundTruthFrame {
    pub timestamp_us: TimestampUs,
    pub subject: Option<PersonBox>,
}

/// Ground truth of a video: every frame, and the cuts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    pub frames: Vec<GroundTruthFrame>,
    pub cuts_us: Vec<TimestampUs>,
}

/// Quality figures of a crop path (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Metrics {
    /// Frames evaluated (frames of the truth found in the path).
    pub frames: usize,
    /// Frames where the subject is visible and fits in the crop.
    pub subject_frames: usize,
    pub subject_inside: f64,
    pub still_share: f64,
    pub mean_abs_accel: f64,
    pub mean_abs_accel_5f: f64,
    pub max_abs_accel_5f: f64,
    pub reversals_per_minute: f64,
}

/// Whether `b` lies fully inside the crop window `e`.
pub fn box_inside(b: &PersonBox, e: &CropPathEntry) -> bool {
    b.x >= e.x as f32
        && b.y >= e.y as f32
        && b.right() <= (e.x + e.width) as f32
        && b.bottom() <= (e.y + e.height) as f32
}

/// Evaluates `path` (one entry per frame, sorted by time) against `truth`.
pub fn evaluate(path: &[CropPathEntry], truth: &GroundTruth) -> Metrics {
    // Pair each truth frame with the path entry of the same timestamp.
    let mut pairs: Vec<(&GroundTruthFrame, &CropPathEntry)> = Vec::new();
    for f in &truth.frames {
        if let Ok(i) = path.binary_search_by(|e| e.timestamp_us.cmp(&f.timestamp_us)) {
            pairs.push((f, &path[i]));
        }
    }
    let n = pairs.len();
    if n == 0 {
        return Metrics::default();
    }

    let mut subject_frames = 0usize;
    let mut inside = 0usize;
    for (f, e) in &pairs {
        if let Some(b) = &f.subject {
            if b.width <= e.width as f32 && b.height <= e.height as f32 {
                subject_frames += 1;
                if box_inside(b, e) || e.second.is_some_and(|r| box_inside(b, &CropPathEntry::new(e.timestamp_us, r))) {
                    inside += 1;
                }
            }
        }
    }

    // The path restarts at each cut and each change between one crop and a split screen (whose
    // first window is measured).
    let mut parts = Vec::with_capacity(n);
    for (k, (_, e)) in pairs.iter().enumerate() {
        let cut = |t: TimestampUs| crate::shots::shot_index(&truth.cuts_us, t);
        let changed = k > 0 && {
            let prev = pairs[k - 1].1;
            cut(prev.timestamp_us) != cut(e.timestamp_us) || prev.second.is_some() != e.second.is_some()
        };
        parts.push(parts.last().copied().unwrap_or(0) + changed as usize);
    }
    let shot = |t: TimestampUs| pairs.binary_search_by_key(&t, |p| p.1.timestamp_us).map_or(0, |i| parts[i]);
    let centre = |e: &CropPathEntry| (e.x as f64 + e.width as f64 / 2.0, e.y as f64 + e.height as f64 / 2.0);

    // Steps and stillness.
    let (mut steps, mut still) = (0usize, 0usize);
    for w in pairs.windows(2) {
        if shot(w[0].1.timestamp_us) != shot(w[1].1.timestamp_us) {
            continue;
        }
        steps += 1;
        if w[0].1.x == w[1].1.x && w[0].1.y == w[1].1.y {
            still += 1;
        }
    }

    // Accelerations at spacing 1 and 5: (mean, max).
    let accel = |k: usize| -> (f64, f64) {
        let (mut sum, mut count, mut max) = (0.0, 0usize, 0.0f64);
        for i in k..n.saturating_sub(k) {
            let (a, b, c) = (pairs[i - k].1, pairs[i].1, pairs[i + k].1);
            if shot(a.timestamp_us) != shot(c.timestamp_us) {
                continue;
            }
            let (pa, pb, pc) = (centre(a), centre(b), centre(c));
            let ax = pc.0 - 2.0 * pb.0 + pa.0;
            let ay = pc.1 - 2.0 * pb.1 + pa.1;
            let a = (ax * ax + ay * ay).sqrt() / (k * k) as f64;
            sum += a;
            max = max.max(a);
            count += 1;
        }
        if count == 0 {
            (0.0, 0.0)
        } else {
            (sum / count as f64, max)
        }
    };

    // Direction reversals per axis.
    let mut reversals = 0usize;
    let (mut last_sx, mut last_sy) = (0i64, 0i64);
    for w in pairs.windows(2) {
        if shot(w[0].1.timestamp_us) != shot(w[1].1.timestamp_us) {
            last_sx = 0;
            last_sy = 0;
            continue;
        }
        let sx = (w[1].1.x as i64 - w[0].1.x as i64).signum();
        let sy = (w[1].1.y as i64 - w[0].1.y as i64).signum();
        if sx != 0 {
            if last_sx != 0 && sx != last_sx {
                reversals += 1;
            }
            last_sx = sx;
        }
        if sy != 0 {
            if last_sy != 0 && sy != last_sy {
                reversals += 1;
            }
            last_sy = sy;
        }
    }
    let minutes = pairs[n - 1].1.timestamp_us.since(pairs[0].1.timestamp_us).seconds() / 60.0;

    Metrics {
        frames: n,
        subject_frames,
        subject_inside: if subject_frames == 0 { 1.0 } else { inside as f64 / subject_frames as f64 },
        still_share: if steps == 0 { 1.0 } else { still as f64 / steps as f64 },
        mean_abs_accel: accel(1).0,
        mean_abs_accel_5f: accel(5).0,
        max_abs_accel_5f: accel(5).1,
        reversals_per_minute: if minutes > 0.0 { reversals as f64 / minutes } else { 0.0 },
    }
}

/// Hand-made truth of one clip: per shot, the subject's box and face at keyframes (the format of
/// `detect/examples/eval_clips/*.truth.json`). Between keyframes the truth is linear; before the
/// first and after the last keyframe of a shot it is that keyframe's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipTruth {
    pub clip: String,
    /// The video file the truth is about.
    pub input: String,
    pub shots: Vec<ShotTruth>,
}

/// The truth of one shot: frames `first..=last` (counted from 0 in presentation order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShotTruth {
    pub first: u64,
    pub last: u64,
    pub keys: Vec<TruthKey>,
    /// Stretches `[first, last]` where a good camera is exactly still (the subject stands still).
    #[serde(default)]
    pub still: Vec<[u64; 2]>,
    /// A second person who matters as much (two people talking): their keyframes, like `keys`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub second: Vec<TruthKey>,
}

/// One keyframe: frame index, subject box and face box, each `[x0, y0, x1, y1]` in display pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TruthKey(pub u64, pub [f32; 4], pub [f32; 4]);

/// Subject and face at one frame, and the second person's box and face where the shot has one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruthAt {
    pub subject: PersonBox,
    pub face: PersonBox,
    pub second: Option<(PersonBox, PersonBox)>,
}

/// The (box, face) of `keys` at frame `index`, linear between keyframes.
fn keyed_at(keys: &[TruthKey], index: u64) -> Option<(PersonBox, PersonBox)> {
    let i = keys.partition_point(|k| k.0 < index);
    let (a, b) = match (i.checked_sub(1).map(|j| keys[j]), keys.get(i).copied()) {
        (_, Some(k)) if k.0 == index => (k, k),
        (Some(a), Some(b)) => (a, b),
        (Some(k), None) | (None, Some(k)) => (k, k),
        (None, None) => return None,
    };
    let u = if b.0 == a.0 { 0.0 } else { (index - a.0) as f32 / (b.0 - a.0) as f32 };
    let mix = |p: [f32; 4], q: [f32; 4]| std::array::from_fn(|k| p[k] + (q[k] - p[k]) * u);
    Some((corners_box(mix(a.1, b.1)), corners_box(mix(a.2, b.2))))
}

fn corners_box(c: [f32; 4]) -> PersonBox {
    PersonBox::new(c[0], c[1], c[2] - c[0], c[3] - c[1], 1.0)
}

impl ClipTruth {
    /// The truth at frame `index`, `None` outside every shot with truth.
    pub fn at(&self, index: u64) -> Option<TruthAt> {
        let shot = self.shots.iter().find(|s| s.first <= index && index <= s.last)?;
        let (subject, face) = keyed_at(&shot.keys, index)?;
        Some(TruthAt { subject, face, second: keyed_at(&shot.second, index) })
    }
}

/// Figures of a crop path against a [`ClipTruth`] (frames of the path are its frame indices).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TruthMetrics {
    /// Frames with truth.
    pub frames: usize,
    /// Share of those where the face lies fully inside the crop.
    pub face_inside: f64,
    /// Share where the crop's edge cuts through the face (part inside, part outside).
    pub face_cut: f64,
    /// Largest movement of the crop (px, x and y range) inside a still stretch, after the first
    /// `settle_frames` of a stretch that does not start its shot (the camera arrives there).
    pub still_max_px: u32,
    /// Frames whose truth has a second person.
    pub two_frames: usize,
    /// Share of those where both faces lie fully inside the output (one crop or the two halves).
    pub both_shown: f64,
    /// Share of those shown as a split screen.
    pub split: f64,
    /// Share of the split-screen frames where each half holds one of the two faces whole.
    pub halves_hold: f64,
}

/// Evaluates `path` (one entry per frame, in presentation order) against `truth`.
pub fn evaluate_truth(path: &[CropPathEntry], truth: &ClipTruth, settle_frames: u64) -> TruthMetrics {
    let (mut frames, mut inside, mut cut) = (0usize, 0usize, 0usize);
    let (mut two, mut both, mut split, mut hold) = (0usize, 0usize, 0usize, 0usize);
    for (i, e) in path.iter().enumerate() {
        let Some(t) = truth.at(i as u64) else { continue };
        frames += 1;
        // The output's windows: one crop, or the two halves of a split screen.
        let windows: Vec<CropPathEntry> =
            std::iter::once(*e).chain(e.second.map(|r| CropPathEntry::new(e.timestamp_us, r))).collect();
        let overlaps = |f: &PersonBox, w: &CropPathEntry| {
            f.x < (w.x + w.width) as f32
                && f.right() > w.x as f32
                && f.y < (w.y + w.height) as f32
                && f.bottom() > w.y as f32
        };
        let shown = |f: &PersonBox| windows.iter().any(|w| box_inside(f, w));
        if shown(&t.face) {
            inside += 1;
        } else if windows.iter().any(|w| overlaps(&t.face, w)) {
            cut += 1;
        }
        if let Some((_, second_face)) = t.second {
            two += 1;
            both += (shown(&t.face) && shown(&second_face)) as usize;
            if let [a, b] = windows.as_slice() {
                split += 1;
                let (f, g) = (&t.face, &second_face);
                hold += ((box_inside(f, a) && box_inside(g, b)) || (box_inside(g, a) && box_inside(f, b))) as usize;
            }
        }
    }
    let mut still_max_px = 0;
    for shot in &truth.shots {
        for &[a, b] in &shot.still {
            let from = if a == shot.first { a } else { a + settle_frames };
            let part = path.get(from as usize..=(b as usize).min(path.len().saturating_sub(1)));
            let Some(part) = part.filter(|p| !p.is_empty()) else { continue };
            let range = |v: &dyn Fn(&CropPathEntry) -> u32| {
                part.iter().map(v).max().unwrap_or(0) - part.iter().map(v).min().unwrap_or(0)
            };
            still_max_px = still_max_px.max(range(&|e| e.x)).max(range(&|e| e.y));
        }
    }
    let share = |k: usize| if frames == 0 { 0.0 } else { k as f64 / frames as f64 };
    let of = |k: usize, n: usize| if n == 0 { 0.0 } else { k as f64 / n as f64 };
    TruthMetrics {
        frames,
        face_inside: share(inside),
        face_cut: share(cut),
        still_max_px,
        two_frames: two,
        both_shown: of(both, two),
        split: of(split, two),
        halves_hold: of(hold, split),
    }
}

/// Share of the analysed frames with truth where some box matches the truth subject (IoU >= 0.5):
/// the detector's recall of the person who should be framed. `boxes_at(frame index)` gives the
/// boxes found at an analysed frame (`None` for frames not analysed).
pub fn subject_recall(
    truth: &ClipTruth,
    frames: u64,
    boxes_at: impl Fn(u64) -> Option<Vec<PersonBox>>,
) -> (f64, usize) {
    let (mut n, mut found) = (0usize, 0usize);
    for i in 0..frames {
        let (Some(t), Some(boxes)) = (truth.at(i), boxes_at(i)) else { continue };
        n += 1;
        if boxes.iter().any(|b| b.iou(&t.subject) >= 0.5) {
            found += 1;
        }
    }
    (if n == 0 { 0.0 } else { found as f64 / n as f64 }, n)
}

/// Per-frame weight of the newest target in the baseline's exponential moving average
/// (time constant ~10 frames, a third of a second at 30 fps).
pub const BASELINE_ALPHA: f64 = 0.1;

/// The naive baseline: per frame, the target is the centre of the detection with the largest
/// `area x score` (score >= 0.5) on the latest analysed frame of the same shot (held when nobody is
/// detected); the crop centre follows it by an exponential moving average with weight `alpha` per
/// frame, restarting on the target at each cut; clamped to the frame, snapped to even pixels.
pub fn baseline_crop_path(
    source: PixelSize,
    ratio: AspectRatio,
    detections: &[Detection],
    cuts: &[TimestampUs],
    frame_timestamps: &[TimestampUs],
    alpha: f64,
) -> Vec<CropPathEntry> {
    let crop = output_size(source, ratio);
    let max_x = source.width.saturating_sub(crop.width);
    let max_y = source.height.saturating_sub(crop.height);
    let (half_w, half_h) = (crop.width as f64 / 2.0, crop.height as f64 / 2.0);
    let frame_centre = (source.width as f64 / 2.0, source.height as f64 / 2.0);
    let mut out = Vec::with_capacity(frame_timestamps.len());
    let mut state: Option<(f64, f64)> = None;
    let mut target = frame_centre;
    let mut shot = usize::MAX;
    for &t in frame_timestamps {
        let s = crate::shots::shot_index(cuts, t);
        let new_shot = s != shot;
        if new_shot {
            shot = s;
            target = frame_centre;
        }
        // Latest analysed frame at or before t, in this shot.
        let i = detections.partition_point(|d| d.timestamp_us <= t);
        if i > 0 {
            let d = &detections[i - 1];
            if crate::shots::shot_index(cuts, d.timestamp_us) == s {
                let best = d
                    .boxes
                    .iter()
                    .filter(|b| b.score >= 0.5)
                    .max_by(|a, b| (a.area() * a.score).total_cmp(&(b.area() * b.score)));
                if let Some(b) = best {
                    target = (b.centre_x() as f64, b.centre_y() as f64);
                }
            }
        }
        let c = match state {
            Some(c) if !new_shot => (c.0 + alpha * (target.0 - c.0), c.1 + alpha * (target.1 - c.1)),
            _ => target,
        };
        state = Some(c);
        let x = crate::frame_path::snap_even(c.0 - half_w, max_x);
        let y = crate::frame_path::snap_even(c.1 - half_h, max_y);
        out.push(CropPathEntry::new(t, PixelRect::new(x, y, crop.width, crop.height)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(t: i64, x: u32) -> CropPathEntry {
        CropPathEntry::new(TimestampUs(t), PixelRect::new(x, 0, 100, 100))
    }

    #[test]
    fn metrics_of_a_known_path() {
        // 0..10 still at 0; 10..20 moving +2/frame; 20..30 moving -2/frame.
        let mut x = 0i64;
        let mut path = Vec::new();
        let mut frames = Vec::new();
        for i in 0..30 {
            if i >= 20 {
                x -= 2;
            } else if i >= 10 {
                x += 2;
            }
            path.push(entry(i * 1_000_000, x as u32));
            let subject = Some(PersonBox::new(if i < 15 { 10.0 } else { 500.0 }, 10.0, 20.0, 20.0, 1.0));
            frames.push(GroundTruthFrame { timestamp_us: TimestampUs(i * 1_000_000), subject });
        }
        let m = evaluate(&path, &GroundTruth { frames, cuts_us: vec![] });
        assert_eq!(m.frames, 30);
        assert!((m.subject_inside - 15.0 / 30.0).abs() < 1e-9, "{m:?}");
        assert!((m.still_share - 9.0 / 29.0).abs() < 1e-9, "{m:?}");
        // One reversal in 29 seconds.
        assert!((m.reversals_per_minute - 60.0 / 29.0).abs() < 1e-9, "{m:?}");
        // Second differences: +2 at the start, -4 at the turn; 28 triples.
        assert!((m.mean_abs_accel - 6.0 / 28.0).abs() < 1e-9, "{m:?}");
    }

    fn clip(keys: Vec<TruthKey>, still: Vec<[u64; 2]>) -> ClipTruth {
        ClipTruth {
            clip: "t".into(),
            input: "t.mp4".into(),
            shots: vec![ShotTruth { first: 0, last: 9, keys, still, second: vec![] }],
        }
    }

    #[test]
    fn truth_is_linear_between_keys_and_held_at_the_ends() {
        let t = clip(
            vec![TruthKey(2, [0.0, 0.0, 10.0, 10.0], [0.0; 4]), TruthKey(6, [40.0, 0.0, 50.0, 10.0], [0.0; 4])],
            vec![],
        );
        assert_eq!(t.at(0).unwrap().subject.x, 0.0);
        assert_eq!(t.at(4).unwrap().subject.x, 20.0);
        assert_eq!(t.at(9).unwrap().subject.x, 40.0);
        assert!(t.at(10).is_none());
    }

    #[test]
    fn faces_inside_cut_and_stillness() {
        // Face at x 100..140; the crop (100 wide) starts at 60 (face inside), then 110 (cut), then 200
        // (face outside: neither inside nor cut).
        let t = clip(vec![TruthKey(0, [90.0, 0.0, 150.0, 100.0], [100.0, 10.0, 140.0, 50.0])], vec![[0, 4], [5, 9]]);
        let xs = [60, 60, 60, 60, 60, 110, 200, 200, 200, 200];
        let path: Vec<CropPathEntry> = xs.iter().enumerate().map(|(i, &x)| entry(i as i64, x)).collect();
        let m = evaluate_truth(&path, &t, 2);
        assert_eq!(m.frames, 10);
        assert!((m.face_inside - 0.5).abs() < 1e-9 && (m.face_cut - 0.1).abs() < 1e-9, "{m:?}");
        // The second stretch is still after its 2 settling frames; the first all along.
        assert_eq!(m.still_max_px, 0);
        assert_eq!(evaluate_truth(&path, &t, 0).still_max_px, 90);
        let recall =
            subject_recall(&t, 10, |i| (i % 2 == 0).then(|| vec![PersonBox::new(90.0, 0.0, 60.0, 100.0, 0.9)]));
        assert_eq!(recall, (1.0, 5));
    }

    #[test]
    fn two_people_are_shown_by_one_crop_or_by_the_halves() {
        // Faces at x 100..140 and 400..440; a 100-wide crop cannot show both, a split can.
        let mut t = clip(vec![TruthKey(0, [90.0, 0.0, 150.0, 100.0], [100.0, 10.0, 140.0, 50.0])], vec![]);
        t.shots[0].second = vec![TruthKey(0, [390.0, 0.0, 450.0, 100.0], [400.0, 10.0, 440.0, 50.0])];
        let half = |x| PixelRect::new(x, 0, 100, 100);
        let path: Vec<CropPathEntry> = (0..10)
            .map(|i| match i {
                0..=3 => entry(i, 60),                                              // only the first
                4..=6 => CropPathEntry::split(TimestampUs(i), half(60), half(380)), // both halves hold
                _ => CropPathEntry::split(TimestampUs(i), half(380), half(120)),    // first face cut
            })
            .collect();
        let m = evaluate_truth(&path, &t, 0);
        assert_eq!(m.two_frames, 10);
        assert!((m.both_shown - 0.3).abs() < 1e-9, "{m:?}");
        assert!((m.split - 0.6).abs() < 1e-9 && (m.halves_hold - 0.5).abs() < 1e-9, "{m:?}");
        // The subject's face: inside on 0-6, cut by the second half on 7-9.
        assert!((m.face_inside - 0.7).abs() < 1e-9 && (m.face_cut - 0.3).abs() < 1e-9, "{m:?}");
    }

    #[test]
    fn cuts_do_not_count_as_motion() {
        let path: Vec<CropPathEntry> = (0..20).map(|i| entry(i, if i < 10 { 0 } else { 800 })).collect();
        let frames: Vec<GroundTruthFrame> =
            (0..20).map(|i| GroundTruthFrame { timestamp_us: TimestampUs(i), subject: None }).collect();
        let m = evaluate(&path, &GroundTruth { frames: frames.clone(), cuts_us: vec![TimestampUs(10)] });
        assert_eq!((m.still_share, m.mean_abs_accel, m.reversals_per_minute), (1.0, 0.0, 0.0));
        // Without the cut, the jump is motion.
        let m = evaluate(&path, &GroundTruth { frames, cuts_us: vec![] });
        assert!(m.still_share < 1.0 && m.mean_abs_accel > 0.0);
    }

    #[test]
    fn baseline_follows_with_lag_and_restarts_at_cuts() {
        let src = PixelSize::new(1920, 1080);
        let dets = vec![
            Detection {
                timestamp_us: TimestampUs(0),
                frame: Default::default(),
                boxes: vec![PersonBox::new(200.0, 300.0, 100.0, 300.0, 0.9)],
                faces: vec![],
            },
            Detection {
                timestamp_us: TimestampUs(500),
                frame: Default::default(),
                boxes: vec![PersonBox::new(1500.0, 300.0, 100.0, 300.0, 0.9)],
                faces: vec![],
            },
        ];
        let frames: Vec<TimestampUs> = (0..10).map(|i| TimestampUs(i * 100)).collect();
        let p = baseline_crop_path(src, AspectRatio::PORTRAIT_9_16, &dets, &[], &frames, 0.5);
        assert_eq!(p[0].x, 0); // centre 250 -> clamped
        assert!(p[6].x > p[5].x && p[6].x < 1312, "{:?}", &p[5..7]);
        let p = baseline_crop_path(src, AspectRatio::PORTRAIT_9_16, &dets, &[TimestampUs(500)], &frames, 0.5);
        assert_eq!(p[5].x, 1246); // 1550 - 304, restarted on the target at the cut
    }
}

//! Who the virtual camera frames, per analysed sample of one shot.
//!
//! - **Primary subject**: the track chosen by the user when it appears in the shot; otherwise the
//!   most prominent track, scored by [`prominence`] = persistence x size x centrality x confidence
//!   x framing, with the exponents and factors of [`ProminenceWeights`]:
//!   - persistence: share of the shot's samples where the track was detected (the evidence of a
//!     track over time, rather than one frame's score),
//!   - size: mean of `(box area / frame area)^(size_power / 2)` (power 1: a linear measure of how
//!     big the person looks; the default 1.5 leans towards area), so a large foreground person
//!     beats a small one in the background even when the detector is surer of the small, sharp
//!     one, while persistence still counts,
//!   - centrality: mean of `1 - 0.5 * |box centre x - frame centre x| / (frame width / 2)`
//!     (1 in the middle, 0.5 at an edge: the camera operator put the subject somewhere for a reason,
//!     but an edge subject can still win by size or persistence),
//!   - confidence: (mean detector score)^`score_power`; the default 0.5 keeps a weak track from
//!     winning on size alone but does not let a sharp 0.99 beat a soft 0.5 by a factor of two,
//!   - framing: mean over the samples of `edge_cut` where the box touches the left or right edge
//!     of the frame (within [`EDGE_TOUCH`] of its width), else 1: a person cut by a side edge is
//!     usually a foreground element (the shoulder or back of the head in an over-the-shoulder
//!     shot, a passer-by), rarely the subject,
//!   - face: `1 + face x` the share of the samples where the track's face was found (someone
//!     turned towards the camera is more likely the subject than the back of a head).
//! - **Long absences**: where the primary is missing before its first sighting, after its last,
//!   or for longer than `bridge` between two sightings (so not a short occlusion), the most
//!   prominent *other* track over that stretch is framed instead (someone else took over the
//!   scene), if seen on three samples or more spanning at least [`MIN_TAKEOVER_US`]. Not done for
//!   a user-chosen track: it is followed, or nobody is.
//! - **Groups**: at each sample, other people join the framing, most prominent first, when
//!   - they are of a similar size (box height >= 60% of the subject's), of some importance in the
//!     shot (prominence >= 25% of the subject's), and not a duplicate of the subject (IoU < 0.5);
//!   - the union of their boxes is at most [`GROUP_JOIN`] of the crop width and fits its height
//!     with the safe margin on each side.
//!
//!   A missed detection of a group member is filled in with the box interpolated over a gap of at
//!   most `group_gap`, so that one miss does not break the group up. Hysteresis: a person in the
//!   group at the previous sample stays while the union fits with half the margin on each side,
//!   so the framing does not flip at the threshold, and joining never forces the camera to an
//!   extreme position.

use crate::track::{Face, PersonBox, Track};
use crate::units::{PixelSize, TimestampUs};

/// Someone takes over a long absence of the primary only if seen over at least this long.
pub const MIN_TAKEOVER_US: i64 = 1_000_000;

/// A person joins the group when the group's width stays within this share of the crop width.
pub const GROUP_JOIN: f64 = 0.8;

/// A box whose left or right side is within this share of the frame width of the frame's edge is
/// cut by that edge (see [`ProminenceWeights::edge_cut`]).
pub const EDGE_TOUCH: f64 = 0.01;

/// The exponents and factors of [`prominence`] (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProminenceWeights {
    pub size_power: f64,
    pub score_power: f64,
    pub edge_cut: f64,
    /// A track whose face is seen on every sample scores `1 + face` times as much.
    pub face: f64,
}

impl Default for ProminenceWeights {
    /// Measured on the hand-truth clips of `eval_camera --truth` (see `detect/examples/eval_clips`).
    fn default() -> Self {
        ProminenceWeights { size_power: 1.5, score_power: 0.5, edge_cut: 0.3, face: 0.5 }
    }
}

/// An axis-aligned box in source display pixels, `f64` for planning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Region {
    pub fn from_box(b: &PersonBox) -> Region {
        Region { x0: b.x as f64, y0: b.y as f64, x1: b.right() as f64, y1: b.bottom() as f64 }
    }
    pub fn union(&self, o: &Region) -> Region {
        Region { x0: self.x0.min(o.x0), y0: self.y0.min(o.y0), x1: self.x1.max(o.x1), y1: self.y1.max(o.y1) }
    }
    pub fn width(&self) -> f64 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> f64 {
        self.y1 - self.y0
    }
    /// The region clipped to a frame of `size`.
    pub fn clipped(&self, size: PixelSize) -> Region {
        let (w, h) = (size.width as f64, size.height as f64);
        Region {
            x0: self.x0.clamp(0.0, w),
            y0: self.y0.clamp(0.0, h),
            x1: self.x1.clamp(0.0, w),
            y1: self.y1.clamp(0.0, h),
        }
    }
}

/// A framed person's face: its box and the height of the eyes, source display pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceRegion {
    pub region: Region,
    pub eye_y: f64,
}

impl FaceRegion {
    pub fn from_face(f: &Face) -> FaceRegion {
        let region = Region { x0: f.x as f64, y0: f.y as f64, x1: (f.x + f.width) as f64, y1: (f.y + f.height) as f64 };
        FaceRegion { region, eye_y: f.eye_y as f64 }
    }
}

/// What the camera must show at one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Framing {
    /// The union of the boxes of everyone framed (subject and group), clipped to the frame.
    pub region: Region,
    /// The subject's face, when it was found at this sample: the crop must not cut it.
    pub face: Option<FaceRegion>,
    /// The subject's track id.
    pub track_id: u32,
    /// Ids of the other people framed with the subject.
    pub group: Vec<u32>,
}

/// The framing decision for every sample of one shot.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectPlan {
    /// The shot's primary subject, if anyone was tracked.
    pub primary: Option<u32>,
    /// One entry per sample: who to frame, or `None` when nobody is to be framed there.
    pub framings: Vec<Option<Framing>>,
}

/// Tuning of subject choice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubjectConfig {
    /// Safe margin on each side of the framed region, pixels along x and y.
    pub margin_x: f64,
    pub margin_y: f64,
    /// Absences of the primary longer than this (microseconds) let someone else be framed.
    pub bridge_us: i64,
    /// A group member's missed detection is filled in over gaps up to this long (microseconds).
    pub group_gap_us: i64,
    /// Follow this track when it appears in the shot.
    pub user_track: Option<u32>,
    /// How the most prominent track is scored.
    pub weights: ProminenceWeights,
}

/// The track's box at `t`: the detected one, or, when `t` falls in a gap of at most `max_gap_us`
/// between two detections, the box interpolated linearly between them, or, with `extend_ends`,
/// within half that gap of the track's first or last detection, that detection's box.
pub fn box_near(track: &Track, t: TimestampUs, max_gap_us: i64, extend_ends: bool) -> Option<PersonBox> {
    let i = track.samples.partition_point(|s| s.timestamp_us < t);
    let after = track.samples.get(i);
    let before = i.checked_sub(1).and_then(|b| track.samples.get(b));
    let (before, after) = match (before, after) {
        (_, Some(a)) if a.timestamp_us == t => return Some(a.bbox),
        (Some(b), Some(a)) => (b, a),
        // At either end of the track: the nearest box, within half the gap, if allowed.
        (Some(s), None) | (None, Some(s)) => {
            return (extend_ends && (s.timestamp_us.0 - t.0).abs() <= max_gap_us / 2).then_some(s.bbox);
        }
        (None, None) => return None,
    };
    let gap = after.timestamp_us.since(before.timestamp_us).0;
    if gap > max_gap_us || gap <= 0 {
        return None;
    }
    let a = t.since(before.timestamp_us).0 as f32 / gap as f32;
    let (p, q) = (before.bbox, after.bbox);
    let lerp = |u: f32, v: f32| u + (v - u) * a;
    Some(PersonBox::new(
        lerp(p.x, q.x),
        lerp(p.y, q.y),
        lerp(p.width, q.width),
        lerp(p.height, q.height),
        lerp(p.score, q.score),
    ))
}

/// Whether box `b` touches the left or right edge of a frame of `source` size (within [`EDGE_TOUCH`]
/// of its width).
pub fn cut_by_side_edge(b: &PersonBox, source: PixelSize) -> bool {
    let w = source.width as f64;
    let touch = EDGE_TOUCH * w;
    (b.x as f64) <= touch || b.right() as f64 >= w - touch
}

/// How much a track dominates the samples `samples` of a frame of `source` size (see module docs).
pub fn prominence(track: &Track, samples: &[TimestampUs], source: PixelSize, w: &ProminenceWeights) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let frame_area = source.area().max(1) as f64;
    let frame_w = source.width as f64;
    let half_w = (frame_w / 2.0).max(1.0);
    let (mut n, mut size, mut central, mut conf, mut framing, mut faces) = (0usize, 0.0, 0.0, 0.0, 0.0, 0usize);
    for &t in samples {
        if let Some(s) = track.sample_at(t) {
            let b = s.bbox;
            n += 1;
            faces += s.face.is_some() as usize;
            size += (b.area() as f64 / frame_area).powf(w.size_power / 2.0);
            let off = ((b.centre_x() as f64 - half_w).abs() / half_w).min(1.0);
            central += 1.0 - 0.5 * off;
            conf += b.score as f64;
            framing += if cut_by_side_edge(&b, source) { w.edge_cut } else { 1.0 };
        }
    }
    if n == 0 {
        return 0.0;
    }
    let nf = n as f64;
    let face = 1.0 + w.face * faces as f64 / nf;
    (nf / samples.len() as f64) * (size / nf) * (central / nf) * (conf / nf).powf(w.score_power) * (framing / nf) * face
}

/// Frames someone else where nobody is framed at the start or end of the shot, or for longer than
/// `bridge_us` between two sightings: in each such stretch,
/// the most prominent track (other than `primary`) seen there on at least three samples spanning
/// [`MIN_TAKEOVER_US`]. Returns whether anything changed.
fn fill_long_absences(
    samples: &[TimestampUs],
    tracks: &[Track],
    primary: usize,
    source: PixelSize,
    config: &SubjectConfig,
    subject: &mut [Option<usize>],
) -> bool {
    let (bridge_us, weights) = (config.bridge_us, &config.weights);
    let n = samples.len();
    let mut changed = false;
    let mut i = 0;
    while i < n {
        if subject[i].is_some() {
            i += 1;
            continue;
        }
        let a = i;
        while i < n && subject[i].is_none() {
            i += 1;
        }
        let b = i; // nobody on a..b
                   // From the last framed sample (or the shot's first) to the next (or the last).
        let t_prev = if a > 0 { samples[a - 1] } else { samples[0] };
        let t_next = if b < n { samples[b] } else { samples[n - 1] };
        if a > 0 && b < n && t_next.since(t_prev).0 <= bridge_us {
            continue; // a short absence between two sightings: the camera bridges it
        }
        let stretch = &samples[a..b];
        let lasting = |k: usize| {
            let seen: Vec<TimestampUs> = stretch.iter().copied().filter(|&t| tracks[k].box_at(t).is_some()).collect();
            seen.len() >= 3 && seen[seen.len() - 1].since(seen[0]).0 >= MIN_TAKEOVER_US
        };
        let mut best: Option<(usize, f64)> = None;
        for k in (0..tracks.len()).filter(|&k| k != primary && lasting(k)) {
            let s = prominence(&tracks[k], stretch, source, weights);
            if s > 0.0 && best.is_none_or(|(_, bs)| s > bs) {
                best = Some((k, s));
            }
        }
        if let Some((other, _)) = best {
            for k in a..b {
                if tracks[other].box_at(samples[k]).is_some() {
                    subject[k] = Some(other);
                    changed = true;
                }
            }
        }
    }
    changed
}

/// Chooses who to frame at each of `samples` (the analysed frames of one shot, sorted), from the
/// shot's `tracks`.
pub fn choose_subjects(
    samples: &[TimestampUs],
    tracks: &[Track],
    source: PixelSize,
    crop: PixelSize,
    config: &SubjectConfig,
) -> SubjectPlan {
    let n = samples.len();
    let weights = &config.weights;
    let scores: Vec<f64> = tracks.iter().map(|t| prominence(t, samples, source, weights)).collect();
    let best_of = |candidates: &mut dyn Iterator<Item = usize>, sub: &[TimestampUs]| -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for i in candidates {
            let s = prominence(&tracks[i], sub, source, weights);
            if s > 0.0 && best.is_none_or(|(_, bs)| s > bs) {
                best = Some((i, s));
            }
        }
        best.map(|b| b.0)
    };

    let user = config.user_track.and_then(|id| tracks.iter().position(|t| t.id == id));
    let primary = user.or_else(|| best_of(&mut (0..tracks.len()), samples));
    let Some(primary) = primary else {
        return SubjectPlan { primary: None, framings: vec![None; n] };
    };

    // Who is the subject at each sample (index into `tracks`).
    let mut subject: Vec<Option<usize>> = samples.iter().map(|&t| tracks[primary].box_at(t).map(|_| primary)).collect();
    if user.is_none() {
        // Fill long absences of the primary with the most prominent other person there; repeat
        // on what remains absent (each round fills with one more track, so it ends).
        for _ in 0..tracks.len() {
            if !fill_long_absences(samples, tracks, primary, source, config, &mut subject) {
                break;
            }
        }
    }

    let cw = crop.width as f64;
    let ch = crop.height as f64;
    let mut framings = Vec::with_capacity(n);
    let mut prev_group: Vec<u32> = Vec::new();
    for (k, &t) in samples.iter().enumerate() {
        let Some(si) = subject[k] else {
            framings.push(None);
            prev_group.clear();
            continue;
        };
        let Some(sb) = tracks[si].box_at(t) else {
            framings.push(None);
            prev_group.clear();
            continue;
        };
        let mut region = Region::from_box(&sb).clipped(source);
        let mut group = Vec::new();
        if user.is_none() {
            // Candidates: present now, similar size, of some importance, not a duplicate of the
            // subject (a stale fragment of the same person); most prominent first. A missed
            // detection is filled in between two detections, and held at a track's ends only
            // near the shot's ends (where the track may simply continue unseen).
            let near_end = t.since(samples[0]).0 <= config.group_gap_us / 2
                || samples[n - 1].since(t).0 <= config.group_gap_us / 2;
            let member = |o: usize| box_near(&tracks[o], t, config.group_gap_us, near_end);
            let mut cands: Vec<usize> = (0..tracks.len())
                .filter(|&o| o != si && scores[o] >= 0.25 * scores[si])
                .filter(|&o| member(o).is_some_and(|b| b.height >= 0.6 * sb.height && b.iou(&sb) < 0.5))
                .collect();
            cands.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
            for o in cands {
                let Some(ob) = member(o) else { continue };
                let u = region.union(&Region::from_box(&ob).clipped(source));
                // Joining needs room to spare (so the camera is not forced to an extreme position
                // at the moment someone joins); staying only needs the union to fit.
                let stays = prev_group.contains(&tracks[o].id);
                let max_w =
                    if stays { cw - config.margin_x } else { (GROUP_JOIN * cw).min(cw - 2.0 * config.margin_x) };
                let max_h = if stays { ch - config.margin_y } else { ch - 2.0 * config.margin_y };
                if u.width() <= max_w && u.height() <= max_h {
                    region = u;
                    group.push(tracks[o].id);
                }
            }
        }
        prev_group = group.clone();
        let face = tracks[si].face_at(t).map(|f| FaceRegion::from_face(&f));
        framings.push(Some(Framing { region, face, track_id: tracks[si].id, group }));
    }
    SubjectPlan { primary: Some(tracks[primary].id), framings }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::TrackSample;
    use crate::units::FrameIndex;

    fn track(id: u32, times: &[i64], x: f32, w: f32, h: f32) -> Track {
        Track {
            id,
            samples: times
                .iter()
                .map(|&t| TrackSample {
                    timestamp_us: TimestampUs(t),
                    frame: FrameIndex(0),
                    bbox: PersonBox::new(x, 200.0, w, h, 0.9),
                    face: None,
                })
                .collect(),
        }
    }

    fn config() -> SubjectConfig {
        SubjectConfig {
            margin_x: 30.0,
            margin_y: 30.0,
            bridge_us: 1_500_000,
            group_gap_us: 1_500_000,
            user_track: None,
            weights: ProminenceWeights::default(),
        }
    }

    const SRC: PixelSize = PixelSize { width: 1920, height: 1080 };
    const CROP: PixelSize = PixelSize { width: 608, height: 1080 };

    #[test]
    fn the_bigger_more_persistent_person_is_primary() {
        let times: Vec<i64> = (0..20).map(|i| i * 200_000).collect();
        let ts: Vec<TimestampUs> = times.iter().map(|&t| TimestampUs(t)).collect();
        let big = track(1, &times, 300.0, 150.0, 450.0);
        let small = track(2, &times, 900.0, 60.0, 180.0);
        let brief = track(3, &times[..3], 1000.0, 200.0, 600.0);
        let plan = choose_subjects(&ts, &[small, big, brief], SRC, CROP, &config());
        assert_eq!(plan.primary, Some(1));
        // The small person is far and small: not grouped.
        assert!(plan.framings.iter().all(|f| f.as_ref().is_some_and(|f| f.track_id == 1 && f.group.is_empty())));
    }

    fn scored(id: u32, times: &[i64], x: f32, w: f32, h: f32, score: f32) -> Track {
        let mut t = track(id, times, x, w, h);
        for s in &mut t.samples {
            s.bbox.score = score;
        }
        t
    }

    #[test]
    fn a_large_soft_foreground_person_beats_a_small_sharp_one_behind() {
        // Shot/reverse-shot: the speaker in the foreground, detected at 0.35, and a small, sharp
        // person in the background at 0.99.
        let times: Vec<i64> = (0..20).map(|i| i * 200_000).collect();
        let ts: Vec<TimestampUs> = times.iter().map(|&t| TimestampUs(t)).collect();
        let front = scored(1, &times, 550.0, 400.0, 800.0, 0.35);
        let back = scored(2, &times, 1300.0, 180.0, 330.0, 0.99);
        let plan = choose_subjects(&ts, &[back.clone(), front.clone()], SRC, CROP, &config());
        assert_eq!(plan.primary, Some(1));
        // With the raw score and a linear size (the weights before), the background person won.
        let before = ProminenceWeights { size_power: 1.0, score_power: 1.0, edge_cut: 1.0, face: 0.0 };
        let old = SubjectConfig { weights: before, ..config() };
        assert_eq!(choose_subjects(&ts, &[back, front], SRC, CROP, &old).primary, Some(2));
    }

    #[test]
    fn someone_cut_by_the_side_edge_is_not_the_subject() {
        // Over the shoulder: a big shoulder and back of a head against the right edge, the person
        // facing the camera smaller, left of centre.
        let times: Vec<i64> = (0..20).map(|i| i * 200_000).collect();
        let ts: Vec<TimestampUs> = times.iter().map(|&t| TimestampUs(t)).collect();
        let shoulder = track(1, &times, 1300.0, 620.0, 1080.0);
        let facing = track(2, &times, 300.0, 400.0, 900.0);
        let plan = choose_subjects(&ts, &[shoulder.clone(), facing.clone()], SRC, CROP, &config());
        assert_eq!(plan.primary, Some(2));
        let no_edge = SubjectConfig { weights: ProminenceWeights { edge_cut: 1.0, ..Default::default() }, ..config() };
        assert_eq!(choose_subjects(&ts, &[shoulder, facing], SRC, CROP, &no_edge).primary, Some(1));
    }

    #[test]
    fn people_who_fit_together_are_framed_together() {
        let times: Vec<i64> = (0..10).map(|i| i * 200_000).collect();
        let ts: Vec<TimestampUs> = times.iter().map(|&t| TimestampUs(t)).collect();
        let a = track(1, &times, 700.0, 150.0, 450.0);
        let near = track(2, &times, 950.0, 120.0, 400.0);
        let plan = choose_subjects(&ts, &[a.clone(), near], SRC, CROP, &config());
        let f = plan.framings[0].as_ref().unwrap();
        assert_eq!(f.group, vec![2]);
        assert_eq!(f.region.x0, 700.0);
        assert_eq!(f.region.x1, 1070.0);
        // Too far apart: not grouped.
        let far = track(2, &times, 1500.0, 140.0, 430.0);
        let plan = choose_subjects(&ts, &[a, far], SRC, CROP, &config());
        assert!(plan.framings[0].as_ref().unwrap().group.is_empty());
    }

    #[test]
    fn a_missed_detection_does_not_break_a_group() {
        let times: Vec<i64> = (0..10).map(|i| i * 200_000).collect();
        let ts: Vec<TimestampUs> = times.iter().map(|&t| TimestampUs(t)).collect();
        let a = track(1, &times, 700.0, 150.0, 450.0);
        let mut gappy: Vec<i64> = times.clone();
        gappy.remove(4);
        let near = track(2, &gappy, 950.0, 120.0, 400.0);
        assert_eq!(box_near(&near, ts[4], 1_000_000, false).map(|b| b.x), Some(950.0));
        assert_eq!(box_near(&near, ts[4], 100_000, false), None);
        assert_eq!(box_near(&near, TimestampUs(2_000_000), 1_000_000, false), None);
        assert_eq!(box_near(&near, TimestampUs(2_000_000), 1_000_000, true).map(|b| b.x), Some(950.0));
        let plan = choose_subjects(&ts, &[a, near], SRC, CROP, &config());
        assert!(plan.framings.iter().all(|f| f.as_ref().unwrap().group == vec![2]));
    }

    #[test]
    fn user_choice_wins_and_long_absences_pass_to_someone_else() {
        let times: Vec<i64> = (0..40).map(|i| i * 200_000).collect();
        let ts: Vec<TimestampUs> = times.iter().map(|&t| TimestampUs(t)).collect();
        let a = track(1, &times[..15], 300.0, 150.0, 450.0); // leaves after 3 s
        let b = track(2, &times[10..], 1400.0, 100.0, 300.0);
        let plan = choose_subjects(&ts, &[a.clone(), b.clone()], SRC, CROP, &config());
        assert_eq!(plan.primary, Some(2), "B is there for 30 of 40 samples");
        let cfg = SubjectConfig { user_track: Some(1), ..config() };
        let plan = choose_subjects(&ts, &[a.clone(), b.clone()], SRC, CROP, &cfg);
        assert_eq!(plan.primary, Some(1));
        assert!(plan.framings[20].is_none(), "a user-chosen subject is not replaced");
        // Automatic: B is primary; before B appears, A (present then) is framed.
        let plan = choose_subjects(&ts, &[a, b], SRC, CROP, &config());
        assert_eq!(plan.framings[2].as_ref().unwrap().track_id, 1);
        assert_eq!(plan.framings[30].as_ref().unwrap().track_id, 2);
    }
}

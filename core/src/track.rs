//! Multi-person tracking over sampled frames, in the style of ByteTrack (Zhang et al., ECCV 2022).
//!
//! Input: one [`Detection`] per analysed (sampled) frame, holding the people the detector found, in
//! source display pixels. Output: [`Track`]s, each a stable id with the boxes it was seen with.
//!
//! Per update, with the tracks' boxes first moved forward by their constant velocity to the new
//! timestamp (prediction), detections are associated in three passes:
//! 1. high-score detections (`score >= high_score`) with every live track, by IoU;
//! 2. low-score detections (`low_score <= score < high_score`: usually occluded or blurred people)
//!    with the tracks that were seen at the previous update and are still unmatched, by IoU with a
//!    stricter threshold (this is ByteTrack's key idea: low scores extend tracks, never start them);
//! 3. remaining high-score detections with remaining tracks seen recently (`buffer_max_unseen`) by
//!    *buffered* IoU (both boxes enlarged by `buffer` of their size on each side, as in C-BIoU,
//!    Yang et al. 2023; sizes within a factor 1.5, or 1.25 for a tentative track), which catches
//!    fast motion between sparse samples (e.g. a runner at 5 analysed frames per second, whose box
//!    moves more than its width between samples).
//!
//! Each pass is a **greedy** assignment: all (track, detection) pairs above the threshold sorted by
//! IoU, best first, each track and detection used at most once. With people rarely overlapping
//! heavily, greedy matches Hungarian assignment in practice and is simpler and deterministic.
//!
//! Unmatched high-score detections (`score >= new_track_score`) start tentative tracks; a tentative
//! track is confirmed after `confirm_hits` matches (tracks born at the first update of a shot are
//! confirmed at once), and dropped if unseen for `tentative_timeout` before that (ByteTrack drops
//! it at the first miss; sparse sampling with a noisy detector needs a little patience). Tracks
//! seen only once are not reported. A confirmed track that is not matched keeps predicting
//! ("lost") and is finished once it has been unseen for `lost_timeout` (microseconds, so the
//! timeout does not depend on the analysis rate). At a cut, every track ends.
//!
//! Finally [`stitch_tracks`] joins fragments of one person that the tracker could not associate
//! (a long occlusion, a run of missed detections): a track starting shortly after another ended,
//! near it and of a similar size, continues it under the earlier id.

use crate::units::{DurationUs, FrameIndex, TimestampUs};
use serde::{Deserialize, Serialize};

/// One person found by the detector on one frame: a box in source display pixels and a confidence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PersonBox {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
    /// Detector confidence in [0, 1].
    pub score: f32,
}

impl PersonBox {
    pub fn new(x: f32, y: f32, width: f32, height: f32, score: f32) -> Self {
        PersonBox { x, y, width, height, score }
    }
    pub fn right(&self) -> f32 {
        self.x + self.width
    }
    pub fn bottom(&self) -> f32 {
        self.y + self.height
    }
    pub fn centre_x(&self) -> f32 {
        self.x + self.width / 2.0
    }
    pub fn centre_y(&self) -> f32 {
        self.y + self.height / 2.0
    }
    pub fn area(&self) -> f32 {
        self.width.max(0.0) * self.height.max(0.0)
    }

    /// Intersection over union of two boxes (0 when either is empty).
    pub fn iou(&self, other: &PersonBox) -> f32 {
        let ix = (self.right().min(other.right()) - self.x.max(other.x)).max(0.0);
        let iy = (self.bottom().min(other.bottom()) - self.y.max(other.y)).max(0.0);
        let inter = ix * iy;
        let union = self.area() + other.area() - inter;
        if union <= 0.0 {
            0.0
        } else {
            inter / union
        }
    }

    /// The box grown by `fraction` of its width and height on each side (same centre).
    pub fn expanded(&self, fraction: f32) -> PersonBox {
        let dx = self.width * fraction;
        let dy = self.height * fraction;
        PersonBox::new(self.x - dx, self.y - dy, self.width + 2.0 * dx, self.height + 2.0 * dy, self.score)
    }
}

/// What the detector found on one analysed frame (possibly nobody).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub timestamp_us: TimestampUs,
    pub frame: FrameIndex,
    pub boxes: Vec<PersonBox>,
    /// The faces found on the frame (none in analyses made before faces were detected). Always
    /// written: the binary records (postcard) cannot skip fields.
    #[serde(default)]
    pub faces: Vec<Face>,
}

/// A face found on an analysed frame, in source display pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Face {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
    /// Detector confidence in [0, 1].
    pub score: f32,
    /// Height of the eyes (the mean of the two eye keypoints), pixels from the frame's top.
    pub eye_y: f32,
}

impl Face {
    pub fn centre_x(&self) -> f32 {
        self.x + self.width / 2.0
    }
    pub fn centre_y(&self) -> f32 {
        self.y + self.height / 2.0
    }
}

/// One observation of a tracked person.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackSample {
    pub timestamp_us: TimestampUs,
    pub frame: FrameIndex,
    /// The detection box that was associated with the track at this sample.
    pub bbox: PersonBox,
    /// The person's face at this sample, when one was found in the box ([`attach_faces`]).
    #[serde(default)]
    pub face: Option<Face>,
}

/// A person followed over time: a stable id and the samples where they were detected (sorted by
/// time; samples where the person was missed are absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Track {
    pub id: u32,
    pub samples: Vec<TrackSample>,
}

impl Track {
    pub fn first_us(&self) -> Option<TimestampUs> {
        self.samples.first().map(|s| s.timestamp_us)
    }
    pub fn last_us(&self) -> Option<TimestampUs> {
        self.samples.last().map(|s| s.timestamp_us)
    }
    /// Index of the sample at exactly `t`, if the track was seen then.
    pub fn sample_index(&self, t: TimestampUs) -> Option<usize> {
        self.samples.binary_search_by(|s| s.timestamp_us.cmp(&t)).ok()
    }
    /// The sample at exactly `t`, if any.
    pub fn sample_at(&self, t: TimestampUs) -> Option<&TrackSample> {
        self.sample_index(t).map(|i| &self.samples[i])
    }
    /// The face seen at exactly `t`, if any.
    pub fn face_at(&self, t: TimestampUs) -> Option<Face> {
        self.sample_at(t).and_then(|s| s.face)
    }
    /// The box seen at exactly `t`, if any.
    pub fn box_at(&self, t: TimestampUs) -> Option<PersonBox> {
        self.sample_at(t).map(|s| s.bbox)
    }
}

/// Tuning of the tracker. The defaults suit a detector whose scores are calibrated like YOLO's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackerConfig {
    /// Detections at or above this score take part in the first (and third) pass.
    pub high_score: f32,
    /// Detections below this score are ignored.
    pub low_score: f32,
    /// Unmatched detections at or above this score start a new track.
    pub new_track_score: f32,
    /// Minimum IoU to associate a high-score detection (passes 1 and 3).
    pub match_iou: f32,
    /// Minimum IoU to associate a low-score detection (pass 2).
    pub low_match_iou: f32,
    /// Enlargement of each side, as a fraction of the box size, for the buffered IoU of pass 3
    /// (1.0: each box three times as wide and tall). Pass 3 also requires widths and heights
    /// within a factor 1.5 of each other (1.25 for a tentative track).
    pub buffer: f32,
    /// Matches needed before a tentative track is confirmed.
    pub confirm_hits: u32,
    /// A lost track ends after this long unseen.
    pub lost_timeout: DurationUs,
    /// A tentative track is dropped after this long unseen.
    pub tentative_timeout: DurationUs,
    /// Weight of the newest measured velocity in the velocity estimate (0..1).
    pub velocity_gain: f32,
    /// Pass 3 (buffered IoU) only considers tracks unseen for at most this long: a lost track's
    /// prediction is too uncertain for such a loose match, a false positive near it would
    /// hijack it.
    pub buffer_max_unseen: DurationUs,
    /// After tracking, a track that starts at most this long after another ended, near where
    /// it ended and with a similar size, is joined to it (see [`stitch_tracks`]).
    pub stitch_gap: DurationUs,
}

impl TrackerConfig {
    /// The tuning for a detector's scores. Each detector reports boxes down to
    /// `reframe_detect::ANALYSIS_MIN_SCORE` (0.1); what counts as a sure detection differs: SSDLite
    /// gives true people of a tenth to a third of the frame height 0.3-0.7, CenterNet 0.1-0.5
    /// (measured on the hand-truth clips of `eval_camera --truth`), where the YOLO-style defaults
    /// (0.5 / 0.6) dropped most of them. Tracks start from 0.3 (SSDLite) or 0.2 (CenterNet), and
    /// a tentative track still needs `confirm_hits` matches, so a single false alarm starts none.
    pub fn for_detector(model: crate::settings::DetectorModel) -> TrackerConfig {
        use crate::settings::DetectorModel;
        let (high_score, new_track_score) = match model {
            DetectorModel::Fast => (0.25, 0.3),
            DetectorModel::Quality => (0.15, 0.2),
        };
        TrackerConfig { high_score, new_track_score, ..TrackerConfig::default() }
    }

    /// The same, for detections up to `gap` apart (`SamplingRule::max_gap`): a tentative track
    /// must live until its next detection, and the buffered match must reach it, so both
    /// timeouts cover the gap with a fifth to spare.
    pub fn covering_gap(self, gap: DurationUs) -> TrackerConfig {
        let cover = DurationUs(gap.0 + gap.0 / 5);
        TrackerConfig {
            tentative_timeout: self.tentative_timeout.max(cover),
            buffer_max_unseen: self.buffer_max_unseen.max(cover),
            ..self
        }
    }
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            high_score: 0.5,
            low_score: 0.1,
            new_track_score: 0.6,
            match_iou: 0.2,
            low_match_iou: 0.4,
            buffer: 1.0,
            confirm_hits: 2,
            lost_timeout: DurationUs(1_500_000),
            tentative_timeout: DurationUs(500_000),
            velocity_gain: 0.6,
            buffer_max_unseen: DurationUs(500_000),
            stitch_gap: DurationUs(2_000_000),
        }
    }
}

/// A track while the tracker runs.
#[derive(Debug, Clone)]
struct LiveTrack {
    id: u32,
    /// Last associated box.
    bbox: PersonBox,
    /// Velocity of the box centre, pixels per second.
    vx: f32,
    vy: f32,
    last_seen: TimestampUs,
    hits: u32,
    confirmed: bool,
    /// Whether the track was matched at the previous update.
    seen_last_update: bool,
    samples: Vec<TrackSample>,
}

impl LiveTrack {
    /// The box moved forward by the constant velocity to time `t`.
    fn predict(&self, t: TimestampUs) -> PersonBox {
        let dt = t.since(self.last_seen).seconds() as f32;
        let mut b = self.bbox;
        b.x += self.vx * dt;
        b.y += self.vy * dt;
        b
    }

    fn observe(&mut self, t: TimestampUs, frame: FrameIndex, det: PersonBox, gain: f32) {
        let dt = t.since(self.last_seen).seconds() as f32;
        if dt > 0.0 {
            let mvx = (det.centre_x() - self.bbox.centre_x()) / dt;
            let mvy = (det.centre_y() - self.bbox.centre_y()) / dt;
            if self.hits <= 1 {
                self.vx = mvx;
                self.vy = mvy;
            } else {
                self.vx = (1.0 - gain) * self.vx + gain * mvx;
                self.vy = (1.0 - gain) * self.vy + gain * mvy;
            }
            // A person does not cross more than ~3 body heights per second; clamp the estimate so
            // that one bad association cannot throw the prediction across the frame.
            let limit = 3.0 * det.height.max(1.0);
            self.vx = self.vx.clamp(-limit, limit);
            self.vy = self.vy.clamp(-limit, limit);
        }
        self.bbox = det;
        self.last_seen = t;
        self.hits += 1;
        self.seen_last_update = true;
        self.samples.push(TrackSample { timestamp_us: t, frame, bbox: det, face: None });
    }
}

/// The ByteTrack-style tracker. Feed it [`Detection`]s in time order with [`Tracker::update`],
/// call [`Tracker::cut`] at each shot boundary, and collect the tracks with [`Tracker::finish`].
#[derive(Debug, Clone)]
pub struct Tracker {
    config: TrackerConfig,
    next_id: u32,
    live: Vec<LiveTrack>,
    finished: Vec<Track>,
    /// True until the first update after construction or a cut.
    shot_start: bool,
    last_time: Option<TimestampUs>,
}

impl Tracker {
    pub fn new(config: TrackerConfig) -> Self {
        Tracker { config, next_id: 1, live: Vec::new(), finished: Vec::new(), shot_start: true, last_time: None }
    }

    /// Ends every track (a shot boundary: identities do not carry across cuts).
    pub fn cut(&mut self) {
        let live = std::mem::take(&mut self.live);
        for t in live {
            self.retire(t);
        }
        self.shot_start = true;
    }

    /// Associates one analysed frame's detections. Detections older than the previous update are
    /// ignored (the input must be in time order).
    pub fn update(&mut self, det: &Detection) {
        let t = det.timestamp_us;
        if let Some(last) = self.last_time {
            if t <= last {
                return;
            }
        }
        self.last_time = Some(t);
        let cfg = self.config;

        let high: Vec<usize> = (0..det.boxes.len()).filter(|&i| det.boxes[i].score >= cfg.high_score).collect();
        let low: Vec<usize> = (0..det.boxes.len())
            .filter(|&i| det.boxes[i].score >= cfg.low_score && det.boxes[i].score < cfg.high_score)
            .collect();
        let predicted: Vec<PersonBox> = self.live.iter().map(|tr| tr.predict(t)).collect();
        let mut track_used = vec![false; self.live.len()];
        let mut det_used = vec![false; det.boxes.len()];
        let mut matches: Vec<(usize, usize)> = Vec::new();

        // Pass 1: high-score detections, all live tracks.
        let all_tracks: Vec<usize> = (0..self.live.len()).collect();
        // Size agreement for the buffered pass: looser for confirmed tracks than for tentative
        // ones (two false positives of similar size next to each other are rare).
        let max_ratio: Vec<f32> = self.live.iter().map(|t| if t.confirmed { 1.5 } else { 1.25 }).collect();
        let r = &max_ratio;
        greedy_match(
            &predicted,
            &det.boxes,
            &all_tracks,
            &high,
            cfg.match_iou,
            0.0,
            r,
            &mut track_used,
            &mut det_used,
            &mut matches,
        );
        // Pass 2: low-score detections, tracks seen at the previous update.
        let recent: Vec<usize> = (0..self.live.len()).filter(|&i| self.live[i].seen_last_update).collect();
        greedy_match(
            &predicted,
            &det.boxes,
            &recent,
            &low,
            cfg.low_match_iou,
            0.0,
            r,
            &mut track_used,
            &mut det_used,
            &mut matches,
        );
        // Pass 3: remaining high-score detections, remaining tracks seen recently, buffered IoU.
        let fresh: Vec<usize> =
            (0..self.live.len()).filter(|&i| t.since(self.live[i].last_seen) <= cfg.buffer_max_unseen).collect();
        greedy_match(
            &predicted,
            &det.boxes,
            &fresh,
            &high,
            cfg.match_iou,
            cfg.buffer,
            r,
            &mut track_used,
            &mut det_used,
            &mut matches,
        );

        for tr in &mut self.live {
            tr.seen_last_update = false;
        }
        for &(ti, di) in &matches {
            let tr = &mut self.live[ti];
            tr.observe(t, det.frame, det.boxes[di], cfg.velocity_gain);
            if tr.hits >= cfg.confirm_hits {
                tr.confirmed = true;
            }
        }

        // Unmatched tracks wait until their timeout (tentative: short; confirmed: "lost").
        let live = std::mem::take(&mut self.live);
        for (i, tr) in live.into_iter().enumerate() {
            let matched = track_used[i];
            let timeout = if tr.confirmed { cfg.lost_timeout } else { cfg.tentative_timeout };
            if matched || t.since(tr.last_seen) <= timeout {
                self.live.push(tr);
            } else {
                self.retire(tr);
            }
        }

        // New tracks from unmatched confident detections.
        for &di in &high {
            if det_used[di] || det.boxes[di].score < cfg.new_track_score {
                continue;
            }
            let id = self.next_id;
            self.next_id += 1;
            let mut tr = LiveTrack {
                id,
                bbox: det.boxes[di],
                vx: 0.0,
                vy: 0.0,
                last_seen: t,
                hits: 0,
                confirmed: self.shot_start,
                seen_last_update: true,
                samples: Vec::new(),
            };
            tr.observe(t, det.frame, det.boxes[di], cfg.velocity_gain);
            self.live.push(tr);
        }
        self.shot_start = false;
    }

    fn retire(&mut self, tr: LiveTrack) {
        // A track seen once (even if confirmed at a shot's first frame) is more likely a false
        // positive than a person: it is not reported.
        if tr.confirmed && tr.samples.len() >= 2 {
            self.finished.push(Track { id: tr.id, samples: tr.samples });
        }
    }

    /// Ends all tracks and returns every confirmed track seen at least twice, sorted by id.
    pub fn finish(mut self) -> Vec<Track> {
        self.cut();
        let mut out = self.finished;
        out.sort_by_key(|t| t.id);
        out
    }
}

/// Whether two boxes' widths and heights are within a factor `max_ratio` of each other.
fn similar_size(a: &PersonBox, b: &PersonBox, max_ratio: f32) -> bool {
    let ok = |p: f32, q: f32| {
        let (p, q) = (p.max(1.0), q.max(1.0));
        p / q <= max_ratio && q / p <= max_ratio
    };
    ok(a.width, b.width) && ok(a.height, b.height)
}

/// Greedy IoU assignment between `tracks` (indices into `predicted`) and `dets` (indices into
/// `boxes`): pairs with IoU >= `min_iou` (after enlarging both boxes by `buffer`), best first.
/// With a buffer, the boxes' sizes must also agree within `max_ratio[track]`.
#[allow(clippy::too_many_arguments)]
fn greedy_match(
    predicted: &[PersonBox],
    boxes: &[PersonBox],
    tracks: &[usize],
    dets: &[usize],
    min_iou: f32,
    buffer: f32,
    max_ratio: &[f32],
    track_used: &mut [bool],
    det_used: &mut [bool],
    matches: &mut Vec<(usize, usize)>,
) {
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for &ti in tracks {
        if track_used[ti] {
            continue;
        }
        for &di in dets {
            if det_used[di] {
                continue;
            }
            let (a, b) = if buffer > 0.0 {
                (predicted[ti].expanded(buffer), boxes[di].expanded(buffer))
            } else {
                (predicted[ti], boxes[di])
            };
            let iou = a.iou(&b);
            let similar = buffer == 0.0 || similar_size(&predicted[ti], &boxes[di], max_ratio[ti]);
            if iou >= min_iou && similar {
                pairs.push((iou, ti, di));
            }
        }
    }
    // Best IoU first; ties broken by indices so that the result is deterministic.
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    for (_, ti, di) in pairs {
        if !track_used[ti] && !det_used[di] {
            track_used[ti] = true;
            det_used[di] = true;
            matches.push((ti, di));
        }
    }
}

/// Gives each track sample the face that belongs to its box, from the faces of the detection at
/// the same time: a face whose centre lies in the box horizontally and in its upper 60%, at most
/// 1.1 times as wide as the box. Each face goes to one person and each person gets one face;
/// larger faces are placed first, each into the box it sits best in (its centre nearest the
/// box's centre line, relative to the box width), so that of two overlapping people the face
/// goes to the one it is in front of.
pub fn attach_faces(tracks: &mut [Track], detections: &[Detection]) {
    for d in detections.iter().filter(|d| !d.faces.is_empty()) {
        let t = d.timestamp_us;
        // (track, sample) of every track seen at t.
        let mut seen: Vec<(usize, usize)> = Vec::new();
        for (k, tr) in tracks.iter().enumerate() {
            if let Some(i) = tr.sample_index(t) {
                seen.push((k, i));
            }
        }
        let mut faces = d.faces.clone();
        faces.sort_by(|a, b| (b.width * b.height).total_cmp(&(a.width * a.height)));
        let mut taken = vec![false; seen.len()];
        for f in faces {
            let fits = |b: &PersonBox| {
                let (cx, cy) = (f.centre_x(), f.centre_y());
                cx >= b.x && cx <= b.right() && cy >= b.y && cy <= b.y + 0.6 * b.height && f.width <= 1.1 * b.width
            };
            let best = (0..seen.len())
                .filter(|&j| !taken[j])
                .filter(|&j| fits(&tracks[seen[j].0].samples[seen[j].1].bbox))
                .min_by(|&a, &b| {
                    let off = |j: usize| {
                        let b = tracks[seen[j].0].samples[seen[j].1].bbox;
                        (f.centre_x() - b.centre_x()).abs() / b.width.max(1.0)
                    };
                    off(a).total_cmp(&off(b))
                });
            if let Some(j) = best {
                taken[j] = true;
                tracks[seen[j].0].samples[seen[j].1].face = Some(f);
            }
        }
    }
}

/// Runs the tracker over all detections (sorted by time), ending every track at each cut, then
/// stitches fragments within each shot, and attaches the faces ([`attach_faces`]).
pub fn track_people(detections: &[Detection], cuts: &[TimestampUs], config: TrackerConfig) -> Vec<Track> {
    let mut tracker = Tracker::new(config);
    let mut shot = None;
    for det in detections {
        let s = cuts.partition_point(|c| *c <= det.timestamp_us);
        if shot.is_some_and(|prev| prev != s) {
            tracker.cut();
        }
        shot = Some(s);
        tracker.update(det);
    }
    let mut tracks = stitch_tracks(tracker.finish(), cuts, config.stitch_gap);
    attach_faces(&mut tracks, detections);
    tracks
}

/// Joins track fragments: a track `q` that starts at most `max_gap` after a track `p` ended (in
/// the same shot), whose first box is within `0.5 + 2 x gap in seconds` body heights of `p`'s last
/// box and whose height is within a factor 1.5 of it, continues `p` (keeping `p`'s id). Tracks are
/// considered in order of their start; each `p` is continued at most once, by the nearest
/// candidate. The result is sorted by id.
pub fn stitch_tracks(tracks: Vec<Track>, cuts: &[TimestampUs], max_gap: DurationUs) -> Vec<Track> {
    let mut tracks: Vec<Track> = tracks.into_iter().filter(|t| !t.samples.is_empty()).collect();
    tracks.sort_by_key(|t| t.first_us());
    let shot = |t: TimestampUs| cuts.partition_point(|c| *c <= t);
    let mut out: Vec<Track> = Vec::new();
    for q in tracks {
        let (Some(qs), Some(q_first)) = (q.first_us(), q.samples.first().map(|s| s.bbox)) else {
            continue;
        };
        let mut best: Option<(usize, f32)> = None;
        for (i, p) in out.iter().enumerate() {
            let (Some(pe), Some(p_last)) = (p.last_us(), p.samples.last().map(|s| s.bbox)) else {
                continue;
            };
            let gap = qs.since(pe);
            if gap.0 <= 0 || gap > max_gap || shot(pe) != shot(qs) {
                continue;
            }
            let h = p_last.height.max(1.0);
            let ratio = q_first.height.max(1.0) / h;
            let dist = ((q_first.centre_x() - p_last.centre_x()).powi(2)
                + (q_first.centre_y() - p_last.centre_y()).powi(2))
            .sqrt();
            let reach = h * (0.5 + 2.0 * gap.seconds() as f32);
            if (1.0 / 1.5..=1.5).contains(&ratio) && dist <= reach && best.is_none_or(|(_, d)| dist / reach < d) {
                best = Some((i, dist / reach));
            }
        }
        match best {
            Some((i, _)) => out[i].samples.extend(q.samples),
            None => out.push(q),
        }
    }
    out.sort_by_key(|t| t.id);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::settings::DetectorModel;

    fn det(t_ms: i64, boxes: Vec<PersonBox>) -> Detection {
        Detection {
            timestamp_us: TimestampUs(t_ms * 1000),
            frame: FrameIndex((t_ms / 33) as u64),
            boxes,
            faces: vec![],
        }
    }

    fn person(x: f32, score: f32) -> PersonBox {
        PersonBox::new(x, 300.0, 120.0, 360.0, score)
    }

    #[test]
    fn iou_basics() {
        let a = PersonBox::new(0.0, 0.0, 10.0, 10.0, 1.0);
        assert!((a.iou(&a) - 1.0).abs() < 1e-6);
        let b = PersonBox::new(5.0, 0.0, 10.0, 10.0, 1.0);
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(a.iou(&PersonBox::new(20.0, 0.0, 10.0, 10.0, 1.0)), 0.0);
    }

    #[test]
    fn two_people_crossing_keep_their_ids() {
        // A walks right, B walks left; they pass each other at t = 2 s (B partly hidden, low score).
        let mut dets = Vec::new();
        for i in 0..=40 {
            let t = i * 100;
            let xa = 200.0 + 100.0 * i as f32 * 0.1 * 2.0; // 200 px/s
            let xb = 1000.0 - 100.0 * i as f32 * 0.1 * 2.0;
            let occluded = (18..=22).contains(&i);
            let mut boxes = vec![person(xa, 0.9)];
            if occluded {
                boxes.push(PersonBox::new(xb, 310.0, 120.0, 350.0, 0.3));
            } else {
                boxes.push(person(xb, 0.85));
            }
            dets.push(det(t, boxes));
        }
        let tracks = track_people(&dets, &[], TrackerConfig::default());
        assert_eq!(tracks.len(), 2, "{tracks:?}");
        for tr in &tracks {
            let first = tr.samples[0].bbox.x;
            let last = tr.samples[tr.samples.len() - 1].bbox.x;
            // Each track kept moving in one direction: no id swap at the crossing.
            let dir = (last - first).signum();
            for w in tr.samples.windows(2) {
                assert_eq!((w[1].bbox.x - w[0].bbox.x).signum(), dir, "track {} swapped", tr.id);
            }
        }
        // The low-score detections during the overlap were associated (pass 2): B was seen at
        // most samples.
        assert!(
            tracks.iter().all(|t| t.samples.len() >= 39),
            "{:?}",
            tracks.iter().map(|t| t.samples.len()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn occlusion_shorter_than_timeout_keeps_the_id() {
        let mut dets = Vec::new();
        for i in 0..50 {
            let x = 100.0 + 30.0 * i as f32;
            let boxes = if (20..28).contains(&i) { vec![] } else { vec![person(x, 0.9)] };
            dets.push(det(i * 100, boxes)); // 10 samples per second; gap 0.8 s
        }
        let tracks = track_people(&dets, &[], TrackerConfig::default());
        assert_eq!(tracks.len(), 1, "{tracks:?}");
        assert_eq!(tracks[0].samples.len(), 42);
    }

    #[test]
    fn occlusion_longer_than_timeout_starts_a_new_track() {
        let mut dets = Vec::new();
        for i in 0..60 {
            let boxes = if (10..40).contains(&i) { vec![] } else { vec![person(500.0, 0.9)] };
            dets.push(det(i * 100, boxes)); // gap of 3 s > 1.5 s timeout
        }
        let tracks = track_people(&dets, &[], TrackerConfig::default());
        assert_eq!(tracks.len(), 2);
        assert_ne!(tracks[0].id, tracks[1].id);
    }

    #[test]
    fn fast_runner_at_sparse_samples_stays_one_track() {
        // 900 px/s sampled at 5 per second: 180 px between samples, more than the box width.
        let dets: Vec<Detection> = (0..12).map(|i| det(i * 200, vec![person(100.0 + 180.0 * i as f32, 0.9)])).collect();
        let tracks = track_people(&dets, &[], TrackerConfig::default());
        assert_eq!(tracks.len(), 1, "{tracks:?}");
        assert_eq!(tracks[0].samples.len(), 12);
    }

    #[test]
    fn single_false_positives_do_not_become_tracks() {
        let mut dets = Vec::new();
        for i in 0..30 {
            let mut boxes = vec![person(500.0, 0.9)];
            if i % 7 == 3 {
                boxes.push(PersonBox::new(100.0 + 50.0 * i as f32, 50.0, 40.0, 80.0, 0.7));
            }
            dets.push(det(i * 200, boxes));
        }
        let tracks = track_people(&dets, &[], TrackerConfig::default());
        assert_eq!(tracks.len(), 1, "{tracks:?}");
        // Nor with the detectors' own, lower thresholds.
        for model in [DetectorModel::Fast, DetectorModel::Quality] {
            let tracks = track_people(&dets, &[], TrackerConfig::for_detector(model));
            assert_eq!(tracks.len(), 1, "{model:?}: {tracks:?}");
        }
    }

    #[test]
    fn a_person_the_detector_is_unsure_of_is_tracked_with_its_calibration() {
        // A soft-focus or small person the detector finds at 0.25-0.45 on every sample.
        let dets: Vec<Detection> =
            (0..20).map(|i| det(i * 200, vec![person(300.0 + 5.0 * i as f32, 0.25 + 0.2 * (i % 2) as f32)])).collect();
        assert!(track_people(&dets, &[], TrackerConfig::default()).is_empty(), "the YOLO-style defaults drop them");
        let quality = track_people(&dets, &[], TrackerConfig::for_detector(DetectorModel::Quality));
        assert_eq!(quality.len(), 1);
        assert_eq!(quality[0].samples.len(), 20);
        // SSDLite's calibration starts from 0.3: the 0.45 samples start the track, the 0.25 ones extend it.
        let fast = track_people(&dets, &[], TrackerConfig::for_detector(DetectorModel::Fast));
        assert_eq!(fast.len(), 1);
        assert!(fast[0].samples.len() >= 18, "{}", fast[0].samples.len());
    }

    #[test]
    fn fragments_are_stitched_but_not_across_cuts_or_far_away() {
        let piece = |id: u32, from: i64, to: i64, x: f32| Track {
            id,
            samples: (from..to)
                .map(|i| TrackSample {
                    timestamp_us: TimestampUs(i * 200_000),
                    frame: FrameIndex(0),
                    bbox: person(x + 10.0 * i as f32, 0.9),
                    face: None,
                })
                .collect(),
        };
        // 1 ends at sample 9 (1.8 s), 2 starts at sample 14 (2.8 s) 50 px further: one person.
        let out = stitch_tracks(vec![piece(1, 0, 10, 100.0), piece(2, 14, 20, 100.0)], &[], DurationUs(2_000_000));
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].id, out[0].samples.len()), (1, 16));
        // Too far away for the gap: two people.
        let out = stitch_tracks(vec![piece(1, 0, 10, 100.0), piece(2, 14, 20, 1500.0)], &[], DurationUs(2_000_000));
        assert_eq!(out.len(), 2);
        // A cut in between: two shots, two tracks.
        let out = stitch_tracks(
            vec![piece(1, 0, 10, 100.0), piece(2, 14, 20, 100.0)],
            &[TimestampUs(2_500_000)],
            DurationUs(2_000_000),
        );
        assert_eq!(out.len(), 2);
        // Overlapping in time: two people.
        let out = stitch_tracks(vec![piece(1, 0, 10, 100.0), piece(2, 5, 20, 100.0)], &[], DurationUs(2_000_000));
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn cuts_end_tracks() {
        let dets: Vec<Detection> = (0..20).map(|i| det(i * 100, vec![person(500.0, 0.9)])).collect();
        let tracks = track_people(&dets, &[TimestampUs(1_000_000)], TrackerConfig::default());
        assert_eq!(tracks.len(), 2);
        assert!(tracks[0].last_us().unwrap() < TimestampUs(1_000_000));
        assert!(tracks[1].first_us().unwrap() >= TimestampUs(1_000_000));
    }
}

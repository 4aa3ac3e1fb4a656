//! The virtual camera: an offline crop path per shot, from tracks and cuts.
//!
//! For each shot (the stretch between two cuts) the planner sees the whole shot at once, like an
//! editor, and works in four steps:
//!
//! 1. **Who** ([`crate::subject`]): at each analysed sample, the region to frame (the primary
//!    subject, joined by people who fit in the crop with them), or nobody.
//! 2. **Where the crop may be** (per axis, in crop top-left coordinates, pixels):
//!    - the *safe band*: positions that keep the region inside the crop with a safe margin
//!      ([`MARGIN`] of the crop size on each side) and, vertically, headroom above the subject's
//!      head ([`HEADROOM`] of the crop height); when the region is too big for that, the margin is
//!      dropped, and when it is bigger than the crop, the crop stays inside the region (vertically:
//!      the head stays in the upper half);
//!    - the *target*: the region centred (vertically: centred, raised if needed to give headroom);
//!    - the *dead zone*: the target +- the smoothness's dead zone, intersected with the safe band.
//!      The camera may rest anywhere in it: small movements of the subject do not move the camera.
//!    - samples without anybody to frame: an absence of at most [`BRIDGE_S`] between two sightings
//!      is left free, so the camera glides straight through an occlusion; a longer one, or one
//!      that lasts to the end of the shot, **holds the last framing** (first moved on with the
//!      subject's last velocity for [`COAST_S`], so someone walking out is followed to the edge)
//!      for the hold time, then is free for the return time, then pins the crop to the frame's
//!      centre (the camera **eases back to the centre**); just before someone comes back (return
//!      time) the band is free again so the camera can travel to them in time.
//!      Before the first sighting in a shot, the camera holds the first framing (the subject is
//!      probably there undetected, or enters there). A shot with nobody in it is framed at the
//!      centre.
//!    - **still stretches**: where the target stays within +-[`STILL_TOLERANCE`] of the crop size
//!      for at least [`STILL_MIN_S`] (the subject stands, give or take detector jitter and sway),
//!      the path is constrained to be constant over those samples, at the position the optimal path
//!      chooses within all their bands (see `string_with_stills`: usually where the camera arrives,
//!      if that framing is within the dead zone for the whole stretch, so it does not reframe for
//!      nothing). So the camera is exactly still while the subject is, instead of drifting through
//!      the stop in a slow pan, and moves between stills as pans.
//! 3. **Path** ([`crate::taut_string`]): the taut string through the dead-zone bands: exactly still
//!    where a still camera fits, otherwise straight constant-velocity pans bending only where
//!    forced; it is the L1/L2-optimal path through the corridor (cf. Grundmann, Kwatra & Essa,
//!    CVPR 2011, whose LP minimises |velocity|, |acceleration| and |jerk| under the same kind of
//!    constraints: the taut string solves the velocity term exactly, in closed form, and the jerk
//!    is handled by step 4). Vertex positions are rounded to even pixels so that still parts snap
//!    to one even position exactly.
//! 4. **Easing**: the path is averaged over a sliding window of the smoothness's ease time (a box
//!    filter, see [`crate::taut_string::eased_at`]): each change of velocity becomes a constant
//!    acceleration over that time (ease-out, ease-in), pans and still parts are unchanged. Easing
//!    can move a corner by `|dv| * ease / 8`. So the planner checks the eased path against the
//!    safe band with half the margin at every framed (or coasting) sample, and halfway between two
//!    samples framing the same people against both their bands; where it leaves them, it tightens
//!    the dead-zone bands of the samples under that easing window (widened when none can move) by
//!    the overshoot and plans again (at most [`MAX_TIGHTENING`] rounds).
//!
//! Vertical and horizontal positions are planned the same way, independently; an axis along
//! which the crop spans the whole frame (e.g. 9:16 from 16:9 vertically) stays at 0.
//!
//! Shots are planned independently and each frame is looked up in its own shot's path (see
//! [`crate::frame_path`]), so the camera never pans across a cut: it restarts.

use crate::crop::{output_size, SplitLayout};
use crate::layout::{layout_spans, TwoPeople};
use crate::shots::shot_index;
use crate::subject::{choose_subjects, FaceRegion, Framing, ProminenceWeights, Region, SubjectConfig};
use crate::taut_string::{eased_at, polyline_at, taut_string};
use crate::track::Track;
use crate::units::{AspectRatio, PixelSize, TimestampUs};
use serde::{Deserialize, Serialize};

/// Safe margin kept between the framed people and the crop's edges, as a fraction of the crop's
/// width (horizontally) or height (vertically).
pub const MARGIN: f64 = 0.05;
/// Room kept around the framed person's face, as a fraction of the face's size: the crop never
/// cuts a face (when the face fits in the crop at all).
pub const FACE_MARGIN: f64 = 0.1;
/// Room kept above the subject's head, as a fraction of the crop height.
pub const HEADROOM: f64 = 0.08;
/// A subject counts as standing still while its target position stays within +- this fraction of
/// the crop size...
pub const STILL_TOLERANCE: f64 = 0.04;
/// ...for at least this long (seconds); the camera is then pinned (exactly still) for that stretch.
pub const STILL_MIN_S: f64 = 1.0;
/// Absences of the subject up to this long (seconds) between two sightings are bridged by a
/// straight camera move (occlusions, missed detections, a track that broke and restarted).
pub const BRIDGE_S: f64 = 4.0;
/// After the last sighting before a longer absence, the framing keeps moving with the subject's
/// last velocity for this long (seconds) before it is held (a person walking out of the frame is
/// followed to the edge).
pub const COAST_S: f64 = 0.5;
/// Rounds of band tightening when easing pushes the path out of the safe band.
pub const MAX_TIGHTENING: usize = 12;

/// How eagerly the camera follows, as a user chooses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Smoothness {
    /// A tripod operator: the subject may drift far from the centre before the camera moves, and
    /// moves start and stop slowly. Best for talks, interviews, slow scenes.
    Calm,
    /// The default: still when the subject stays roughly in place, smooth pans when they walk.
    #[default]
    Balanced,
    /// A handheld operator keeping the subject near the centre, with quick eases. Best for sport
    /// and dance.
    Responsive,
}

/// What a [`Smoothness`] means in numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmoothnessParams {
    /// How far the subject's centre may drift from the crop's centre before the camera moves, as
    /// a fraction of the crop size, on each side.
    pub dead_zone: f64,
    /// Duration of the ease-in/ease-out at each change of camera speed, seconds.
    pub ease_s: f64,
    /// How long the last framing is held when the subject disappears for good or for longer than
    /// [`BRIDGE_S`], seconds.
    pub hold_s: f64,
    /// How long the camera takes to return to the centre after a hold (and to reach a subject
    /// who reappears), seconds.
    pub return_s: f64,
}

impl Smoothness {
    pub fn params(self) -> SmoothnessParams {
        match self {
            Smoothness::Calm => SmoothnessParams { dead_zone: 0.20, ease_s: 1.2, hold_s: 2.0, return_s: 2.0 },
            Smoothness::Balanced => SmoothnessParams { dead_zone: 0.12, ease_s: 0.8, hold_s: 1.5, return_s: 1.5 },
            Smoothness::Responsive => SmoothnessParams { dead_zone: 0.06, ease_s: 0.4, hold_s: 1.0, return_s: 1.0 },
        }
    }

    /// Parses "calm", "balanced" or "responsive" (any case).
    pub fn parse(text: &str) -> Option<Smoothness> {
        match text.trim().to_ascii_lowercase().as_str() {
            "calm" => Some(Smoothness::Calm),
            "balanced" => Some(Smoothness::Balanced),
            "responsive" => Some(Smoothness::Responsive),
            _ => None,
        }
    }
}

/// Everything the user chose that shapes the camera path.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CameraSettings {
    pub ratio: AspectRatio,
    pub smoothness: Smoothness,
    /// Follow this track (from the analysis) in the shots where it appears.
    #[serde(default)]
    pub subject_track: Option<u32>,
    /// One crop or a split screen when two people do not fit together ([`crate::layout`]).
    #[serde(default)]
    pub two_people: TwoPeople,
    /// How the most prominent person is chosen (tuning, not a user setting: not stored).
    #[serde(skip)]
    pub prominence: ProminenceWeights,
}

impl CameraSettings {
    pub fn new(ratio: AspectRatio, smoothness: Smoothness) -> Self {
        CameraSettings {
            ratio,
            smoothness,
            subject_track: None,
            two_people: TwoPeople::default(),
            prominence: ProminenceWeights::default(),
        }
    }
}

/// How the planner chooses the subject for a crop of size `crop` (also used by the evaluation
/// command, so that it judges the subject the planner framed).
pub fn subject_config(crop: PixelSize, settings: &CameraSettings) -> SubjectConfig {
    SubjectConfig {
        margin_x: MARGIN * crop.width as f64,
        margin_y: MARGIN * crop.height as f64,
        bridge_us: (BRIDGE_S * 1e6) as i64,
        group_gap_us: (settings.smoothness.params().hold_s * 1e6) as i64,
        user_track: settings.subject_track,
        weights: settings.prominence,
    }
}

/// Frames within this long of a pin's time show exactly the pinned framing (microseconds).
pub const PIN_EXACT_US: i64 = 100_000;

/// A framing the user fixed: at `t_us` the crop window's top-left is at (`x`, `y`), display
/// pixels of the source (on a split-screen part: the first half's window). The planner holds the
/// pinned framing still from half an ease time plus [`PIN_EXACT_US`] before `t_us` to as long
/// after; after easing, every frame within [`PIN_EXACT_US`] of `t_us` (the pinned frame: the
/// first at or after `t_us`, at 10 frames a second or more) is exactly there (on even pixels,
/// clamped to the frame, like every crop), and the camera glides there and away with its usual
/// eases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    pub t_us: TimestampUs,
    pub x: u32,
    pub y: u32,
}

impl Pin {
    /// Parses "T:X,Y" (T in seconds, X,Y the window's top-left in display pixels), e.g. "2.5:640,0".
    pub fn parse(text: &str) -> Option<Pin> {
        let (t, xy) = text.trim().split_once(':')?;
        let (x, y) = xy.split_once(',')?;
        let t: f64 = t.trim().parse().ok()?;
        if !t.is_finite() || !(0.0..=360_000.0).contains(&t) {
            return None;
        }
        Some(Pin { t_us: TimestampUs((t * 1e6).round() as i64), x: x.trim().parse().ok()?, y: y.trim().parse().ok()? })
    }
}

/// A vertex of a planned axis path.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PathKey {
    pub t_us: TimestampUs,
    /// Crop position (left or top edge), pixels.
    pub pos: f64,
}

/// The planned crop position along one axis over one shot: a polyline through `keys` (constant
/// before the first and after the last) smoothed by a box filter `ease_us` wide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxisPath {
    pub keys: Vec<PathKey>,
    pub ease_us: i64,
}

impl AxisPath {
    fn constant(t: TimestampUs, pos: f64) -> AxisPath {
        AxisPath { keys: vec![PathKey { t_us: t, pos }], ease_us: 0 }
    }

    /// The eased position at `t`.
    pub fn at(&self, t: TimestampUs) -> f64 {
        if self.keys.is_empty() {
            return 0.0;
        }
        // Only the keys around the window matter; times become f64 microseconds relative to `t`
        // (exact integers) for the filter.
        let half = self.ease_us.max(0) / 2 + 1;
        let lo = self.keys.partition_point(|k| k.t_us.0 < t.0 - half).saturating_sub(1);
        let hi = (self.keys.partition_point(|k| k.t_us.0 <= t.0 + half) + 1).min(self.keys.len()).max(lo);
        let keys: Vec<(f64, f64)> = self.keys[lo..hi].iter().map(|k| ((k.t_us.0 - t.0) as f64, k.pos)).collect();
        eased_at(&keys, self.ease_us as f64, 0.0)
    }
}

/// The camera plan of one shot, or of the part of a shot with one layout: one crop, or the first
/// (top or left) half of a split screen and its `second`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShotPath {
    /// First timestamp of the part (the cut or layout change before it), `None` for the first.
    pub start_us: Option<TimestampUs>,
    /// The part's primary subject (the first half's person, on a split screen).
    pub subject_track: Option<u32>,
    pub x: AxisPath,
    pub y: AxisPath,
    /// The bottom (or right) half of a split screen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second: Option<HalfPath>,
}

/// The crop path of the second half of a split screen, following its own person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HalfPath {
    pub subject_track: Option<u32>,
    pub x: AxisPath,
    pub y: AxisPath,
}

/// The camera plan of a whole video: one [`ShotPath`] per part, where a part is a shot or the
/// stretch of a shot with one layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedPath {
    pub source: PixelSize,
    /// The single crop window's size (constant).
    pub crop: PixelSize,
    pub settings: CameraSettings,
    /// Where the path restarts: every cut, and every change between one crop and a split screen.
    pub cuts_us: Vec<TimestampUs>,
    /// `cuts_us.len() + 1` parts, in order.
    pub shots: Vec<ShotPath>,
    /// The output layout when some parts are split screens (their halves are `split.half` in size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitLayout>,
    /// The user's pinned framings the path was planned through, sorted by time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pins: Vec<Pin>,
}

/// The (unsnapped) crop top-left of one window.
pub type Position = (f64, f64);

impl PlannedPath {
    /// The part that contains `t`.
    pub fn part_at(&self, t: TimestampUs) -> Option<&ShotPath> {
        let s = crate::shots::shot_index(&self.cuts_us, t).min(self.shots.len().saturating_sub(1));
        self.shots.get(s)
    }

    /// The crop top-left at `t`, from the part that contains `t`: the single crop's, or the first
    /// half's and the second half's on a split screen.
    pub fn positions_at(&self, t: TimestampUs) -> (Position, Option<Position>) {
        match self.part_at(t) {
            Some(p) => ((p.x.at(t), p.y.at(t)), p.second.as_ref().map(|h| (h.x.at(t), h.y.at(t)))),
            None => ((self.max_x() / 2.0, self.max_y() / 2.0), None),
        }
    }

    /// The first window's position at `t` (see [`PlannedPath::positions_at`]).
    pub fn position_at(&self, t: TimestampUs) -> Position {
        self.positions_at(t).0
    }

    /// The window size of the part at `t`: the single crop's, or a half's.
    pub fn window_at(&self, t: TimestampUs) -> PixelSize {
        match (self.part_at(t).and_then(|p| p.second.as_ref()), self.split) {
            (Some(_), Some(l)) => l.half,
            _ => self.crop,
        }
    }

    /// Largest crop left edge.
    pub fn max_x(&self) -> f64 {
        self.source.width.saturating_sub(self.crop.width) as f64
    }
    /// Largest crop top edge.
    pub fn max_y(&self) -> f64 {
        self.source.height.saturating_sub(self.crop.height) as f64
    }
}

/// Plans the crop path of a video of `source` size (display orientation) analysed at
/// `sample_times` (sorted), with the tracked people, the cuts and the user's `pins`.
pub fn plan_camera_path(
    source: PixelSize,
    sample_times: &[TimestampUs],
    tracks: &[Track],
    cuts: &[TimestampUs],
    settings: &CameraSettings,
    pins: &[Pin],
) -> PlannedPath {
    let mut pins = pins.to_vec();
    pins.sort_by_key(|p| p.t_us);
    pins.dedup_by_key(|p| p.t_us);
    let crop = output_size(source, settings.ratio);
    let mut cuts: Vec<TimestampUs> = cuts.to_vec();
    cuts.sort();
    cuts.dedup();
    let mut samples: Vec<TimestampUs> = sample_times.to_vec();
    samples.sort();
    samples.dedup();

    // The layout of each shot's stretches: the parts of the path, each starting at a cut or at a
    // change of layout.
    let config = subject_config(crop, settings);
    let mut parts: Vec<(Option<TimestampUs>, Option<[u32; 2]>)> = Vec::with_capacity(cuts.len() + 1);
    for s in 0..=cuts.len() {
        // Tracks restricted to the shot (the tracker already ends tracks at cuts; this makes the
        // planner independent of that).
        let (shot_samples, shot_tracks) = shot_part(&cuts, s, &samples, tracks);
        let spans = layout_spans(&shot_samples, &shot_tracks, source, crop, &config, settings.two_people);
        for (i, span) in spans.iter().enumerate() {
            let start = match i {
                0 => (s > 0).then(|| cuts[s - 1]),
                _ => Some(shot_samples[span.samples.start]),
            };
            parts.push((start, span.split));
        }
    }
    let restarts: Vec<TimestampUs> = parts.iter().filter_map(|p| p.0).collect();
    let layout = SplitLayout::for_output(source, settings.ratio).filter(|_| parts.iter().any(|p| p.1.is_some()));
    let mut shots = Vec::with_capacity(parts.len());
    for (k, &(start, split)) in parts.iter().enumerate() {
        let (part_samples, part_tracks) = shot_part(&restarts, k, &samples, tracks);
        let part_pins: Vec<Pin> = pins.iter().copied().filter(|p| shot_index(&restarts, p.t_us) == k).collect();
        let start_t = start.unwrap_or(TimestampUs(0));
        let plan = |crop: PixelSize, settings: &CameraSettings, pins: &[Pin]| {
            plan_shot(source, crop, start, start_t, &part_samples, &part_tracks, settings, pins)
        };
        shots.push(match (split, layout) {
            (Some([first, second]), Some(l)) => {
                let follow = |id: u32| CameraSettings { subject_track: Some(id), ..*settings };
                let b = plan(l.half, &follow(second), &[]);
                ShotPath {
                    second: Some(HalfPath { subject_track: b.subject_track, x: b.x, y: b.y }),
                    ..plan(l.half, &follow(first), &part_pins)
                }
            }
            _ => plan(crop, settings, &part_pins),
        });
    }
    PlannedPath { source, crop, settings: *settings, cuts_us: restarts, shots, split: layout, pins }
}

/// The sample times and tracks of shot `shot` (shots are numbered from 0 and split by the sorted
/// `cuts`; a cut belongs to the shot it starts): tracks are cut to the shot, empty ones dropped.
pub fn shot_part(
    cuts: &[TimestampUs],
    shot: usize,
    samples: &[TimestampUs],
    tracks: &[Track],
) -> (Vec<TimestampUs>, Vec<Track>) {
    // The shot is [cuts[shot - 1], cuts[shot]); samples and track samples are sorted by time.
    let from = shot.checked_sub(1).and_then(|k| cuts.get(k)).copied().unwrap_or(TimestampUs(i64::MIN));
    let to = cuts.get(shot).copied().unwrap_or(TimestampUs(i64::MAX));
    let (a, b) = (samples.partition_point(|t| *t < from), samples.partition_point(|t| *t < to));
    let shot_samples = samples[a..b.max(a)].to_vec();
    let shot_tracks = tracks
        .iter()
        .filter_map(|tr| {
            let a = tr.samples.partition_point(|x| x.timestamp_us < from);
            let b = tr.samples.partition_point(|x| x.timestamp_us < to).max(a);
            (b > a).then(|| Track { id: tr.id, samples: tr.samples[a..b].to_vec() })
        })
        .collect();
    (shot_samples, shot_tracks)
}

/// What constrains the camera at one sample (the same for both axes).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    /// Frame the sample's region.
    Frame,
    /// Anywhere: the path interpolates.
    Free,
    /// Keep the dead-zone band of the framed sample `.0`, its region moved on by the subject's
    /// velocity for `.1` microseconds.
    Hold(usize, i64),
    /// The frame's centre.
    Centre,
    /// A pinned framing: this crop top-left (x, y).
    Pin(f64, f64),
}

/// One axis's geometry, in pixels.
#[derive(Debug, Clone, Copy)]
struct Axis {
    /// Crop length along the axis.
    len: f64,
    /// Largest crop position (source length - crop length).
    max: f64,
    /// Vertical axis: apply headroom.
    vertical: bool,
    dead_zone: f64,
}

/// Where the crop may be along one axis for one framed region (crop positions, pixels).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bands {
    /// The dead zone around the target, within the safe band: where the path may go.
    soft: (f64, f64),
    /// The safe band with half the margin: what the eased path is checked against.
    check: (f64, f64),
    /// The preferred position.
    target: f64,
}

/// Intersects `[lo, hi]` with `[0, max]`; when they do not meet, the nearest end of `[0, max]`.
fn clamp_band(lo: f64, hi: f64, max: f64) -> (f64, f64) {
    let (l, h) = (lo.max(0.0), hi.min(max));
    if l <= h {
        (l, h)
    } else if hi < 0.0 {
        (0.0, 0.0)
    } else {
        (max, max)
    }
}

impl Axis {
    /// The region's extent along this axis.
    fn extent(&self, r: &Region) -> (f64, f64) {
        if self.vertical {
            (r.y0, r.y1)
        } else {
            (r.x0, r.x1)
        }
    }

    /// Crop positions keeping `[r0, r1]` inside with `margin` on each side (see module docs).
    fn safe_band(&self, r0: f64, r1: f64, margin: f64) -> (f64, f64) {
        let len = self.len;
        let top_room = if self.vertical { margin.max(HEADROOM * len) } else { margin };
        let (lo, hi) = if r1 - r0 + margin + top_room <= len {
            (r1 + margin - len, r0 - top_room)
        } else if r1 - r0 <= len {
            (r1 - len, r0)
        } else if self.vertical {
            // Taller than the crop: keep the head in the upper half, below the margin.
            (r0 - len / 2.0, r0 - margin.min(len / 2.0))
        } else {
            // Wider than the crop: the crop stays inside the region.
            (r0, r1 - len)
        };
        clamp_band(lo, hi, self.max)
    }

    /// The preferred crop position for `[r0, r1]`, inside `band`.
    fn target(&self, r0: f64, r1: f64, band: (f64, f64)) -> f64 {
        let mut t = (r0 + r1) / 2.0 - self.len / 2.0;
        if self.vertical {
            // Raise the crop so that the head has its headroom, when centring does not give it.
            t = t.min(r0 - HEADROOM * self.len);
        }
        t.clamp(band.0, band.1)
    }

    /// Crop positions that keep `[f0, f1]` inside; the centred position when it is longer than the crop.
    fn containing(&self, f0: f64, f1: f64) -> (f64, f64) {
        if f1 - f0 <= self.len {
            clamp_band(f1 - self.len, f0, self.max)
        } else {
            let c = (f0 + f1) / 2.0 - self.len / 2.0;
            clamp_band(c, c, self.max)
        }
    }

    /// The bands of a framed region, and of the subject's face in it: the face is kept inside with
    /// [`FACE_MARGIN`] (before the body's margins, when both cannot be had), and where the body does
    /// not fit in the crop the camera centres on the face (horizontally) or puts the eyes a third
    /// from the top (vertically: a close-up).
    fn bands(&self, r: &Region, face: Option<&FaceRegion>) -> Bands {
        let (r0, r1) = self.extent(r);
        let margin = MARGIN * self.len;
        let mut safe = self.safe_band(r0, r1, margin);
        let mut target = self.target(r0, r1, safe);
        let mut check = self.safe_band(r0, r1, margin / 2.0);
        if let Some(f) = face {
            let (f0, f1) = self.extent(&f.region);
            let fm = FACE_MARGIN * (f1 - f0);
            let (face_safe, face_check) = (self.containing(f0 - fm, f1 + fm), self.containing(f0, f1));
            let close_up = r1 - r0 + 2.0 * margin > self.len;
            if close_up && self.vertical {
                // The face decides, the top of the hair may leave the frame.
                (safe, check) = (face_safe, face_check);
            } else {
                safe = meet_or_second(safe, face_safe);
                check = meet_or_second(check, face_check);
            }
            if close_up {
                target = if self.vertical { f.eye_y - self.len / 3.0 } else { (f0 + f1 - self.len) / 2.0 };
            }
            target = target.clamp(safe.0, safe.1);
        }
        let dz = self.dead_zone * self.len;
        let soft = ((target - dz).max(safe.0), (target + dz).min(safe.1));
        Bands { soft, check, target }
    }
}

/// The intersection of two bands, or the second when they do not meet.
fn meet_or_second(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let (lo, hi) = (a.0.max(b.0), a.1.min(b.1));
    if lo <= hi {
        (lo, hi)
    } else {
        b
    }
}

/// Rounds to the nearest even number within `[0, max]`.
fn even_within(v: f64, max: f64) -> f64 {
    let top = (max / 2.0).floor() * 2.0;
    ((v / 2.0).round() * 2.0).clamp(0.0, top.max(0.0))
}

#[allow(clippy::too_many_arguments)]
fn plan_shot(
    source: PixelSize,
    crop: PixelSize,
    start: Option<TimestampUs>,
    start_t: TimestampUs,
    samples: &[TimestampUs],
    tracks: &[Track],
    settings: &CameraSettings,
    pins: &[Pin],
) -> ShotPath {
    let p = settings.smoothness.params();
    let axes = [
        Axis {
            len: crop.width as f64,
            max: source.width.saturating_sub(crop.width) as f64,
            vertical: false,
            dead_zone: p.dead_zone,
        },
        Axis {
            len: crop.height as f64,
            max: source.height.saturating_sub(crop.height) as f64,
            vertical: true,
            dead_zone: p.dead_zone,
        },
    ];
    let config = subject_config(crop, settings);
    let plan = choose_subjects(samples, tracks, source, crop, &config);
    let t_first = samples.first().copied().unwrap_or(start_t);
    if plan.framings.iter().all(|f| f.is_none()) && pins.is_empty() {
        return ShotPath {
            start_us: start,
            subject_track: plan.primary,
            x: AxisPath::constant(t_first, even_within(axes[0].max / 2.0, axes[0].max)),
            y: AxisPath::constant(t_first, even_within(axes[1].max / 2.0, axes[1].max)),
            second: None,
        };
    }
    let rules = absence_rules(samples, &plan.framings, &p);
    // The regions that held samples keep.
    let held: Vec<Option<Region>> = rules
        .iter()
        .map(|r| match *r {
            Rule::Hold(j, dt) => plan.framings[j].as_ref().map(|f| {
                let (vx, vy) = region_velocity(samples, &plan.framings, j);
                let (dx, dy) = (vx * dt as f64, vy * dt as f64);
                let moved =
                    Region { x0: f.region.x0 + dx, y0: f.region.y0 + dy, x1: f.region.x1 + dx, y1: f.region.y1 + dy };
                moved.clipped(source)
            }),
            _ => None,
        })
        .collect();
    // Pins so close that their holds are shorter than an ease time shorten this part's eases, so
    // that each is still met (see `with_pins`).
    let closest = pins.windows(2).map(|w| w[1].t_us.0 - w[0].t_us.0).min().unwrap_or(i64::MAX);
    let ease_fit = 2 * (closest.saturating_mul(3) / 8 - PIN_EXACT_US);
    let p = SmoothnessParams { ease_s: p.ease_s.min(ease_fit.max(0) as f64 / 1e6), ..p };
    let Pinned { samples, framings, held, rules } = with_pins(samples, plan.framings, held, rules, pins, &p);
    let paths: Vec<AxisPath> = axes.iter().map(|ax| plan_axis(ax, &samples, &framings, &held, &rules, &p)).collect();
    let mut it = paths.into_iter();
    let x = it.next().unwrap_or_else(|| AxisPath::constant(t_first, 0.0));
    let y = it.next().unwrap_or_else(|| AxisPath::constant(t_first, 0.0));
    ShotPath { start_us: start, subject_track: plan.primary, x, y, second: None }
}

/// A shot's samples with its pins merged in.
struct Pinned {
    samples: Vec<TimestampUs>,
    framings: Vec<Option<Framing>>,
    held: Vec<Option<Region>>,
    rules: Vec<Rule>,
}

/// Merges `pins` into a shot's samples: each pin holds its framing from half an ease time plus
/// [`PIN_EXACT_US`] before it to as long after (three samples with [`Rule::Pin`]; samples inside
/// that window take the pin's rule too), so the eased path (a box filter one ease time wide) is
/// exactly the pin within [`PIN_EXACT_US`] of it; for the return time on either side of the hold
/// the samples are free, so the camera glides from the subject to the pin and back instead of
/// whipping.
fn with_pins(
    samples: &[TimestampUs],
    framings: Vec<Option<Framing>>,
    held: Vec<Option<Region>>,
    rules: Vec<Rule>,
    pins: &[Pin],
    p: &SmoothnessParams,
) -> Pinned {
    let mut rows: Vec<(TimestampUs, Option<Framing>, Option<Region>, Rule)> =
        samples.iter().copied().zip(framings).zip(held).zip(rules).map(|(((t, f), h), r)| (t, f, h, r)).collect();
    let ease = (p.ease_s * 1e6).round() as i64;
    let glide = (p.return_s * 1e6).round() as i64;
    // First the glides (free), then the holds (a hold wins over a neighbour's glide).
    for pin in pins {
        let near = (pin.t_us.0 - ease - glide)..=(pin.t_us.0 + ease + glide);
        for row in rows.iter_mut().filter(|r| near.contains(&r.0 .0) && r.3 != Rule::Centre) {
            row.3 = Rule::Free;
        }
    }
    for (k, pin) in pins.iter().enumerate() {
        let rule = Rule::Pin(pin.x as f64, pin.y as f64);
        // Not into a neighbouring pin's hold (holds take at most 3/8 of the gap each side).
        let gap = |o: Option<&Pin>| o.map_or(i64::MAX, |o| (o.t_us.0 - pin.t_us.0).abs() * 3 / 8);
        let half =
            (ease / 2 + PIN_EXACT_US).min(gap(k.checked_sub(1).and_then(|j| pins.get(j)))).min(gap(pins.get(k + 1)));
        let window = (pin.t_us.0 - half)..=(pin.t_us.0 + half);
        for row in rows.iter_mut().filter(|r| window.contains(&r.0 .0)) {
            row.3 = rule;
        }
        for t in [*window.start(), pin.t_us.0, *window.end()] {
            if !rows.iter().any(|r| r.0 .0 == t) {
                rows.push((TimestampUs(t), None, None, rule));
            }
        }
    }
    rows.sort_by_key(|r| r.0);
    let mut out = Pinned { samples: Vec::new(), framings: Vec::new(), held: Vec::new(), rules: Vec::new() };
    for (t, f, h, r) in rows {
        out.samples.push(t);
        out.framings.push(f);
        out.held.push(h);
        out.rules.push(r);
    }
    out
}

/// Velocity of the framed region's centre at framed sample `j` (pixels per microsecond), from the
/// earliest sample of the same subject within the second before it; zero if there is none.
fn region_velocity(samples: &[TimestampUs], framings: &[Option<Framing>], j: usize) -> (f64, f64) {
    let Some(fj) = framings[j].as_ref() else {
        return (0.0, 0.0);
    };
    let centre = |r: &Region| ((r.x0 + r.x1) / 2.0, (r.y0 + r.y1) / 2.0);
    let earliest = (0..j).find(|&i| {
        let dt = samples[j].since(samples[i]).0;
        dt > 0 && dt <= 1_000_000 && framings[i].as_ref().is_some_and(|f| f.track_id == fj.track_id)
    });
    match earliest.and_then(|i| framings[i].as_ref().map(|f| (i, f))) {
        Some((i, fi)) => {
            let dt = samples[j].since(samples[i]).0 as f64;
            let (a, b) = (centre(&fi.region), centre(&fj.region));
            ((b.0 - a.0) / dt, (b.1 - a.1) / dt)
        }
        None => (0.0, 0.0),
    }
}

/// The rule for every sample: framed samples frame, absences follow the hold/return policy.
fn absence_rules(samples: &[TimestampUs], framings: &[Option<Framing>], p: &SmoothnessParams) -> Vec<Rule> {
    let n = samples.len();
    let hold = (p.hold_s * 1e6) as i64;
    let ret = (p.return_s * 1e6) as i64;
    let bridge = (BRIDGE_S * 1e6) as i64;
    let coast = (COAST_S * 1e6) as i64;
    let mut rules = vec![Rule::Frame; n];
    let mut i = 0;
    while i < n {
        if framings[i].is_some() {
            i += 1;
            continue;
        }
        let a = i;
        while i < n && framings[i].is_none() {
            i += 1;
        }
        let b = i; // nobody on a..b
        let prev = a.checked_sub(1);
        let next = if b < n { Some(b) } else { None };
        // Nobody at the start of the shot: the camera starts on the first framing (the subject
        // is probably there, undetected, or about to enter there).
        if let (None, Some(ni)) = (prev, next) {
            for r in &mut rules[a..b] {
                *r = Rule::Hold(ni, 0);
            }
            continue;
        }
        let short = match (prev, next) {
            (Some(pi), Some(ni)) => samples[ni].since(samples[pi]).0 <= bridge,
            _ => false,
        };
        for k in a..b {
            rules[k] = if short {
                Rule::Free
            } else {
                let since = prev.map(|pi| samples[k].since(samples[pi]).0);
                let until = next.map(|ni| samples[ni].since(samples[k]).0);
                match (since, until) {
                    (_, Some(u)) if u <= ret => Rule::Free,
                    (Some(s), _) if s <= hold => Rule::Hold(prev.unwrap_or(0), s.min(coast)),
                    (Some(s), _) if s <= hold + ret => Rule::Free,
                    _ => Rule::Centre,
                }
            };
        }
    }
    rules
}

/// Sample times in microseconds since the first sample (exact in f64).
fn t_us(samples: &[TimestampUs]) -> Vec<f64> {
    let t0 = samples.first().copied().unwrap_or_default();
    samples.iter().map(|s| s.since(t0).0 as f64).collect()
}

/// The still stretches (see the module docs) as `(first, last)` sample indices.
fn still_runs(ax: &Axis, t: &[f64], rules: &[Rule], framed: &[Option<Bands>]) -> Vec<(usize, usize)> {
    let n = t.len();
    let tol = STILL_TOLERANCE * ax.len;
    let target = |k: usize| framed[k].map(|b| b.target);
    let mut runs = Vec::new();
    let mut i = 0;
    while i < n {
        let (Rule::Frame, Some(ti)) = (rules[i], target(i)) else {
            i += 1;
            continue;
        };
        // Extend the stretch while the targets stay within +-tol; short absences (free samples)
        // do not interrupt it. `j` is the last framed sample of the stretch.
        let (mut lo, mut hi) = (ti, ti);
        let mut j = i;
        let mut k = i + 1;
        while k < n {
            match (rules[k], target(k)) {
                (Rule::Free, _) => {}
                (Rule::Frame, Some(tk)) if tk.max(hi) - tk.min(lo) <= 2.0 * tol => {
                    lo = lo.min(tk);
                    hi = hi.max(tk);
                    j = k;
                }
                _ => break,
            }
            k += 1;
        }
        if t[j] - t[i] < STILL_MIN_S * 1e6 {
            i += 1;
            continue;
        }
        runs.push((i, j));
        i = j + 1;
    }
    runs
}

/// The taut string through `soft`, constant over each still stretch of `runs`.
///
/// Each stretch is collapsed into one instant whose band is the intersection of the stretch's
/// bands (time after it is shifted back by the stretch's length), the string is pulled through
/// that corridor, and the instant is then stretched back into a flat segment. So the still
/// position is the one the optimal path chooses: where the camera arrives if that framing is
/// good enough for the whole stretch, not a fixed target it would have to reframe to.
/// A stretch whose bands have no common position is left unpinned.
fn string_with_stills(t: &[f64], soft: &[(f64, f64)], runs: &[(usize, usize)], prefer: f64) -> Vec<(f64, f64)> {
    let n = t.len();
    let (mut ct, mut lo, mut hi) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    // (compressed time of the stretch, its start, its end) for each pinned stretch.
    let mut stretches: Vec<(f64, f64, f64)> = Vec::new();
    let mut offset = 0.0;
    let mut r = 0;
    let mut k = 0;
    while k < n {
        if let Some(&(i, j)) = runs.get(r).filter(|run| run.0 == k) {
            r += 1;
            let common_lo = soft[i..=j].iter().map(|b| b.0).fold(f64::NEG_INFINITY, f64::max);
            let common_hi = soft[i..=j].iter().map(|b| b.1).fold(f64::INFINITY, f64::min);
            if common_lo <= common_hi {
                ct.push(t[i] - offset);
                lo.push(common_lo);
                hi.push(common_hi);
                stretches.push((t[i] - offset, t[i], t[j]));
                offset += t[j] - t[i];
                k = j + 1;
                continue;
            }
        }
        ct.push(t[k] - offset);
        lo.push(soft[k].0);
        hi.push(soft[k].1);
        k += 1;
    }
    let mut compressed = taut_string(&ct, &lo, &hi, prefer);
    // Every stretch needs a vertex to be stretched back, also where the string passes it
    // straight.
    for st in &stretches {
        if !compressed.iter().any(|k| k.0 == st.0) {
            let v = polyline_at(&compressed, st.0);
            let at = compressed.partition_point(|k| k.0 < st.0);
            compressed.insert(at, (st.0, v));
        }
    }
    // Back to real time.
    let mut keys = Vec::with_capacity(compressed.len() + stretches.len());
    for (tc, v) in compressed {
        let before: f64 = stretches.iter().filter(|s| s.0 < tc).map(|s| s.2 - s.1).sum();
        match stretches.iter().find(|s| s.0 == tc) {
            Some(&(_, a, b)) => {
                keys.push((a, v));
                keys.push((b, v));
            }
            None => keys.push((tc + before, v)),
        }
    }
    keys
}

/// Plans one axis of one shot (steps 2-4 of the module docs).
fn plan_axis(
    ax: &Axis,
    samples: &[TimestampUs],
    framings: &[Option<Framing>],
    held: &[Option<Region>],
    rules: &[Rule],
    p: &SmoothnessParams,
) -> AxisPath {
    let t0 = samples[0];
    if ax.max <= 0.0 {
        return AxisPath::constant(t0, 0.0);
    }
    let n = samples.len();
    let centre = even_within(ax.max / 2.0, ax.max);
    // Dead-zone bands, check bands and targets of framed samples.
    let framed: Vec<Option<Bands>> =
        framings.iter().map(|f| f.as_ref().map(|f| ax.bands(&f.region, f.face.as_ref()))).collect();
    let mut soft: Vec<(f64, f64)> = (0..n)
        .map(|k| match rules[k] {
            Rule::Frame => framed[k].map_or((0.0, ax.max), |b| b.soft),
            Rule::Free => (0.0, ax.max),
            Rule::Hold(..) => held[k].as_ref().map_or((0.0, ax.max), |r| ax.bands(r, None).soft),
            Rule::Centre => (centre, centre),
            Rule::Pin(x, y) => {
                let v = even_within(if ax.vertical { y } else { x }, ax.max);
                (v, v)
            }
        })
        .collect();
    // Preferred level if the whole shot can be still: the mean target.
    let targets: Vec<f64> = framed.iter().flatten().map(|b| b.target).collect();
    let prefer = if targets.is_empty() { centre } else { targets.iter().sum::<f64>() / targets.len() as f64 };
    let t = t_us(samples);
    let runs = still_runs(ax, &t, rules, &framed);

    // The safe bands (half margin) that the eased path must respect: at framed samples, and
    // while coasting after the last sighting (the subject is most likely where it is predicted).
    let check_band: Vec<Option<(f64, f64)>> = (0..n)
        .map(|k| match rules[k] {
            Rule::Frame => framed[k].map(|b| b.check),
            Rule::Hold(_, dt) if dt > 0 => held[k].as_ref().map(|r| ax.bands(r, None).check),
            _ => None,
        })
        .collect();
    let ease = (p.ease_s * 1e6).round();
    let mut keys = Vec::new();
    for _round in 0..=MAX_TIGHTENING {
        keys = string_with_stills(&t, &soft, &runs, prefer);
        for k in keys.iter_mut() {
            k.1 = even_within(k.1, ax.max);
        }
        // Check the eased path against the safe band (half margin) at framed samples and halfway
        // between consecutive samples framing the same people.
        let mut checks: Vec<(f64, (f64, f64))> = Vec::new();
        for k in 0..n {
            let Some(check) = check_band[k] else { continue };
            checks.push((t[k], check));
            // Halfway, when the same people are framed at both samples.
            let same = |a: &Option<Framing>, b: &Option<Framing>| match (a, b) {
                (Some(a), Some(b)) => a.track_id == b.track_id && a.group == b.group,
                _ => false,
            };
            let same_people = framings.get(k + 1).is_some_and(|next| same(&framings[k], next));
            if let (true, Some(Some(next))) = (same_people, check_band.get(k + 1)) {
                // Between two samples the subject may have moved any way from one to the other
                // (e.g. stopped): both samples' bands must hold, when they can together.
                let (lo, hi) = (check.0.max(next.0), check.1.min(next.1));
                let both = if lo <= hi { (lo, hi) } else { ((check.0 + next.0) / 2.0, (check.1 + next.1) / 2.0) };
                checks.push(((t[k] + t[k + 1]) / 2.0, both));
            }
        }
        // Overshoots: (time, amount), positive when the crop must move to higher positions.
        let overshoots: Vec<(f64, f64)> = checks
            .iter()
            .filter_map(|&(tc, (lo, hi))| {
                let v = eased_at(&keys, ease, tc);
                if v < lo - 0.5 {
                    Some((tc, lo - v))
                } else if v > hi + 0.5 {
                    Some((tc, hi - v))
                } else {
                    None
                }
            })
            .collect();
        // Tighten every constrained sample under the easing window of each overshoot: the eased
        // value there depends on the path over the whole window, and the sample itself may
        // already be pinned (e.g. at the frame's edge). When no band there can move, the window
        // widens (up to three ease times on each side): the path must turn earlier or later.
        let mut changed = false;
        for &(tc, e) in &overshoots {
            for widen in 1..=6 {
                let half = ease / 2.0 * widen as f64;
                let first = t.partition_point(|&x| x < tc - half);
                let last = t.partition_point(|&x| x <= tc + half);
                // At least the samples on both sides of the check time.
                let first = first.min(t.partition_point(|&x| x < tc).saturating_sub(1));
                let last = last.max((t.partition_point(|&x| x <= tc) + 1).min(n));
                let mut moved = false;
                for j in first..last {
                    if !matches!(rules[j], Rule::Frame | Rule::Hold(..)) {
                        continue;
                    }
                    let (lo_j, hi_j) = soft[j];
                    if e > 0.0 {
                        let nl = (lo_j + e + 2.0).min(hi_j);
                        if nl > lo_j {
                            soft[j].0 = nl;
                            moved = true;
                        }
                    } else {
                        let nh = (hi_j + e - 2.0).max(lo_j);
                        if nh < hi_j {
                            soft[j].1 = nh;
                            moved = true;
                        }
                    }
                }
                if moved {
                    changed = true;
                    break;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let keys =
        keys.into_iter().map(|(tt, v)| PathKey { t_us: TimestampUs(t0.0 + tt.round() as i64), pos: v }).collect();
    AxisPath { keys, ease_us: ease as i64 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::{Face, PersonBox, TrackSample};
    use crate::units::FrameIndex;

    fn still_track(x: f32, n: usize) -> (Vec<TimestampUs>, Track) {
        let times: Vec<TimestampUs> = (0..n as i64).map(|i| TimestampUs(i * 200_000)).collect();
        let samples = times
            .iter()
            .enumerate()
            .map(|(i, &t)| TrackSample {
                timestamp_us: t,
                frame: FrameIndex(i as u64 * 6),
                // +-4 px of detector jitter.
                bbox: PersonBox::new(x + ((i * 7) % 9) as f32 - 4.0, 300.0, 140.0, 400.0, 0.9),
                face: None,
            })
            .collect();
        (times, Track { id: 1, samples })
    }

    #[test]
    fn shot_part_splits_samples_and_tracks_at_cuts() {
        // Samples every 200 ms from 0 to 1.8 s; cuts at 0.6 s and 1.2 s (a cut starts its shot).
        let (times, tr) = still_track(500.0, 10);
        let cuts = [TimestampUs(600_000), TimestampUs(1_200_000)];
        let (s0, t0) = shot_part(&cuts, 0, &times, std::slice::from_ref(&tr));
        assert_eq!(s0, vec![TimestampUs(0), TimestampUs(200_000), TimestampUs(400_000)]);
        assert_eq!(t0[0].samples.len(), 3);
        let (s1, t1) = shot_part(&cuts, 1, &times, std::slice::from_ref(&tr));
        assert_eq!(s1.first(), Some(&TimestampUs(600_000)));
        assert_eq!(s1.len(), 3);
        assert!(t1[0].samples.iter().all(|x| x.timestamp_us >= cuts[0] && x.timestamp_us < cuts[1]));
        let (s2, _) = shot_part(&cuts, 2, &times, std::slice::from_ref(&tr));
        assert_eq!(s2.len(), 4);
        // A track seen only in shot 0 is dropped from the others.
        let early = Track { id: 2, samples: tr.samples[..2].to_vec() };
        assert!(shot_part(&cuts, 1, &times, std::slice::from_ref(&early)).1.is_empty());
        assert_eq!(shot_part(&cuts, 0, &times, &[early]).1.len(), 1);
    }

    #[test]
    fn a_still_subject_gives_one_still_even_position() {
        let (times, tr) = still_track(1200.0, 50);
        let settings = CameraSettings::new(AspectRatio::PORTRAIT_9_16, Smoothness::Balanced);
        let plan = plan_camera_path(PixelSize::new(1920, 1080), &times, &[tr], &[], &settings, &[]);
        assert_eq!(plan.crop, PixelSize::new(608, 1080));
        let x0 = plan.position_at(times[0]).0;
        for i in 0..300 {
            let (x, y) = plan.position_at(TimestampUs(i * 33_333));
            assert_eq!(x, x0);
            assert_eq!(y, 0.0);
        }
        assert_eq!(x0 % 2.0, 0.0);
        // Subject centre 1270 -> crop left ~966.
        assert!((x0 - 966.0).abs() <= 4.0, "{x0}");
    }

    #[test]
    fn nobody_means_centre() {
        let times: Vec<TimestampUs> = (0..10).map(|i| TimestampUs(i * 200_000)).collect();
        let settings = CameraSettings::new(AspectRatio::PORTRAIT_9_16, Smoothness::Calm);
        let plan = plan_camera_path(PixelSize::new(1920, 1080), &times, &[], &[], &settings, &[]);
        assert_eq!(plan.position_at(TimestampUs(500_000)), (656.0, 0.0));
    }

    #[test]
    fn vertical_axis_keeps_headroom() {
        // Portrait source, landscape crop: the camera moves vertically.
        let (times, mut tr) = still_track(300.0, 20);
        for s in tr.samples.iter_mut() {
            s.bbox = PersonBox::new(400.0, 900.0, 200.0, 500.0, 0.9);
        }
        let settings = CameraSettings::new(AspectRatio::new(16, 9).unwrap(), Smoothness::Balanced);
        let plan = plan_camera_path(PixelSize::new(1080, 1920), &times, &[tr], &[], &settings, &[]);
        assert_eq!(plan.crop, PixelSize::new(1080, 608));
        let (_, y) = plan.position_at(TimestampUs(1_000_000));
        // Person 900..1400 fits in 608 with margin and headroom: head at least 8% below the top.
        assert!(y <= 900.0 - HEADROOM * 608.0 && y + 608.0 >= 1400.0 + 0.5 * MARGIN * 608.0, "{y}");
    }

    #[test]
    fn a_close_up_keeps_the_face_whole() {
        // Close-up, 9:16 from 16:9: the shoulders (500..1400) are wider than the 608-px crop and
        // the face (900..1250) is right of the body's centre. Centred on the body, the crop
        // (646..1254) would cut the face; with the face, the crop keeps it with its margin.
        let (times, mut tr) = still_track(0.0, 20);
        for s in tr.samples.iter_mut() {
            s.bbox = PersonBox::new(500.0, 0.0, 900.0, 1080.0, 0.9);
        }
        let settings = CameraSettings::new(AspectRatio::PORTRAIT_9_16, Smoothness::Balanced);
        let src = PixelSize::new(1920, 1080);
        let x = plan_camera_path(src, &times, std::slice::from_ref(&tr), &[], &settings, &[]).position_at(times[10]).0;
        assert!(x > 900.0 - 608.0 + 350.0 || x + 608.0 < 1250.0, "without a face the body is centred: {x}");
        let face = Face { x: 900.0, y: 150.0, width: 350.0, height: 420.0, score: 0.9, eye_y: 320.0 };
        for s in tr.samples.iter_mut() {
            s.face = Some(face);
        }
        let x = plan_camera_path(src, &times, &[tr], &[], &settings, &[]).position_at(times[10]).0;
        let m = FACE_MARGIN * 350.0;
        assert!(x <= 900.0 - m && x + 608.0 >= 1250.0 + m, "the face with its margin is inside: {x}");
    }

    #[test]
    fn a_vertical_close_up_puts_the_eyes_a_third_from_the_top() {
        // Portrait source, landscape crop, the person taller than the crop.
        let (times, mut tr) = still_track(0.0, 20);
        let face = Face { x: 400.0, y: 500.0, width: 300.0, height: 360.0, score: 0.9, eye_y: 640.0 };
        for s in tr.samples.iter_mut() {
            s.bbox = PersonBox::new(200.0, 400.0, 700.0, 1500.0, 0.9);
            s.face = Some(face);
        }
        let settings = CameraSettings::new(AspectRatio::new(16, 9).unwrap(), Smoothness::Balanced);
        let y =
            plan_camera_path(PixelSize::new(1080, 1920), &times, &[tr], &[], &settings, &[]).position_at(times[10]).1;
        let eyes = (640.0 - y) / 608.0;
        assert!((eyes - 1.0 / 3.0).abs() < 0.05, "eyes at {eyes} of the crop height (y {y})");
    }

    #[test]
    fn smoothness_names_parse() {
        assert_eq!(Smoothness::parse(" Calm "), Some(Smoothness::Calm));
        assert_eq!(Smoothness::parse("responsive"), Some(Smoothness::Responsive));
        assert_eq!(Smoothness::parse("wobbly"), None);
        assert!(Smoothness::Calm.params().dead_zone > Smoothness::Responsive.params().dead_zone);
    }
}

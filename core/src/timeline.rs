//! What the editor's timeline shows over a whole video, from an analysis and its planned path:
//! for each column of the timeline, how many people are seen, what the camera does (still,
//! moving, or holding with no subject in sight), whether a shot starts there and whether a pin
//! is there. Pure and cheap, so the page redraws it on every re-plan.

use crate::analysis::{is_person, Analysis};
use crate::camera_path::PlannedPath;
use crate::units::TimestampUs;

/// What the camera does at a moment of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CameraState {
    /// The window stands still on its subject.
    Still,
    /// The window pans (faster than [`MOVING_PX_PER_S`]).
    Moving,
    /// The part's subject is not seen near this moment: the camera holds, or returns to the middle.
    NoSubject,
}

/// Below this speed (source pixels a second) the window counts as still: slower drifts are the
/// last pixels of an ease.
pub const MOVING_PX_PER_S: f64 = 20.0;

/// A subject seen within this long of a moment counts as in sight (a little more than the
/// slowest analysis rate's gap between analysed frames).
const SEEN_WITHIN_US: i64 = 400_000;

/// One column of the timeline: the time span `[start_us, end_us)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub start_us: TimestampUs,
    pub end_us: TimestampUs,
    /// The most people (tracks that [`is_person`]) seen on one
    /// analysed frame of the span; for a span narrower than the gap between analysed frames, on
    /// the analysed frame nearest its middle (within [`SEEN_WITHIN_US`]).
    pub people: u32,
    /// The camera at the middle of the span.
    pub camera: CameraState,
    /// A shot (or a stretch of another layout) starts in the span.
    pub cut: bool,
    /// A user's pin lies in the span.
    pub pin: bool,
    /// The span is a split screen (at its middle).
    pub split: bool,
}

/// The timeline of a video of `duration_us` in `columns` equal columns.
pub fn columns(analysis: &Analysis, plan: &PlannedPath, duration_us: i64, columns: usize) -> Vec<Column> {
    let n = columns.max(1);
    let duration = duration_us.max(1);
    let counts = people_counts(analysis);
    let times: Vec<TimestampUs> = analysis.detections.iter().map(|d| d.timestamp_us).collect();
    (0..n)
        .map(|c| {
            let start = TimestampUs(duration * c as i64 / n as i64);
            let end = TimestampUs(duration * (c as i64 + 1) / n as i64);
            let mid = TimestampUs((start.0 + end.0) / 2);
            let (a, b) = (times.partition_point(|t| *t < start), times.partition_point(|t| *t < end));
            let in_span = |t: &TimestampUs| *t >= start && *t < end;
            let people = match counts[a..b.max(a)].iter().copied().max() {
                Some(n) => n,
                None => nearest(&times, mid).map_or(0, |i| counts[i]),
            };
            Column {
                start_us: start,
                end_us: end,
                people,
                camera: camera_state(analysis, plan, mid),
                cut: plan.cuts_us.iter().any(in_span),
                pin: plan.pins.iter().any(|p| in_span(&p.t_us)),
                split: plan.part_at(mid).is_some_and(|p| p.second.is_some()),
            }
        })
        .collect()
}

/// The index of the time in `times` (sorted) nearest `t`, within [`SEEN_WITHIN_US`].
fn nearest(times: &[TimestampUs], t: TimestampUs) -> Option<usize> {
    let i = times.partition_point(|x| *x < t);
    [i.checked_sub(1), Some(i)]
        .into_iter()
        .flatten()
        .filter(|&k| k < times.len())
        .min_by_key(|&k| (times[k].0 - t.0).abs())
        .filter(|&k| (times[k].0 - t.0).abs() <= SEEN_WITHIN_US)
}

/// People seen on each analysed frame (in `analysis.detections` order): the tracks with a
/// sample at that frame, counting only tracks that [`is_person`].
pub fn people_counts(analysis: &Analysis) -> Vec<u32> {
    let times: Vec<TimestampUs> = analysis.detections.iter().map(|d| d.timestamp_us).collect();
    let mut counts = vec![0u32; times.len()];
    for track in analysis.tracks.iter().filter(|t| is_person(t)) {
        for s in &track.samples {
            if let Ok(i) = times.binary_search(&s.timestamp_us) {
                counts[i] += 1;
            }
        }
    }
    counts
}

/// What the camera of `plan` does at `t`.
pub fn camera_state(analysis: &Analysis, plan: &PlannedPath, t: TimestampUs) -> CameraState {
    let Some(part) = plan.part_at(t) else { return CameraState::NoSubject };
    let seen = part.subject_track.is_some_and(|id| {
        analysis.tracks.iter().filter(|tr| tr.id == id).any(|tr| {
            let i = tr.samples.partition_point(|s| s.timestamp_us.0 < t.0 - SEEN_WITHIN_US);
            tr.samples.get(i).is_some_and(|s| s.timestamp_us.0 <= t.0 + SEEN_WITHIN_US)
        })
    });
    if !seen {
        return CameraState::NoSubject;
    }
    // Speed over 0.1 s around `t`, within the part (the path restarts at a cut).
    let dt = 50_000;
    let from = TimestampUs((t.0 - dt).max(part.start_us.map_or(i64::MIN, |s| s.0)));
    let to = TimestampUs(from.0 + 2 * dt);
    let speed =
        |axis: &crate::camera_path::AxisPath| (axis.at(to) - axis.at(from)).abs() / ((to.0 - from.0) as f64 / 1e6);
    if speed(&part.x).max(speed(&part.y)) > MOVING_PX_PER_S {
        CameraState::Moving
    } else {
        CameraState::Still
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera_path::{CameraSettings, Pin, Smoothness};
    use crate::track::{Detection, PersonBox};
    use crate::units::{AspectRatio, FrameIndex, PixelSize};

    /// 10 s at 5 analysed frames a second: a person still for 4 s, walking right for 3 s, gone
    /// for the last 3 s; a second person in the first 2 s; a cut at 8 s.
    fn analysis() -> Analysis {
        let dets = (0..50)
            .map(|i| {
                let t = i * 200_000;
                let x = match t {
                    ..=4_000_000 => 300.0,
                    4_000_001..=7_000_000 => 300.0 + (t - 4_000_000) as f32 / 1e6 * 400.0,
                    _ => 0.0,
                };
                let mut boxes = Vec::new();
                if t <= 7_000_000 {
                    boxes.push(PersonBox::new(x, 300.0, 200.0, 600.0, 0.9));
                }
                if t < 2_000_000 {
                    boxes.push(PersonBox::new(1500.0, 300.0, 200.0, 600.0, 0.9));
                }
                Detection { timestamp_us: TimestampUs(t), frame: FrameIndex(i as u64 * 6), boxes, faces: vec![] }
            })
            .collect();
        Analysis::new(PixelSize::new(1920, 1080), dets, vec![TimestampUs(8_000_000)])
    }

    #[test]
    fn columns_show_people_camera_cuts_and_pins() {
        let mut a = analysis();
        let settings = CameraSettings {
            two_people: crate::layout::TwoPeople::One,
            ..CameraSettings::new(AspectRatio::PORTRAIT_9_16, Smoothness::Responsive)
        };
        let pins = [Pin { t_us: TimestampUs(3_000_000), x: 100, y: 0 }];
        let plan = a.plan(&settings, &pins).clone();
        let cols = columns(&a, &plan, 10_000_000, 20);
        assert_eq!(cols.len(), 20);
        assert_eq!(cols[0].start_us, TimestampUs(0));
        assert_eq!(cols[19].end_us, TimestampUs(10_000_000));
        assert_eq!(cols[1].people, 2, "{:?}", cols[1]);
        assert_eq!(cols[6].people, 1);
        assert_eq!(cols[18].people, 0);
        // Columns narrower than the 0.2 s between analysed frames take the nearest one's count.
        let fine = columns(&a, &plan, 10_000_000, 1000);
        assert!(fine[..190].iter().all(|c| c.people == 2), "two people in the first 2 s, in every column");
        assert!(fine[250..700].iter().all(|c| c.people == 1));
        assert!(fine[760..].iter().all(|c| c.people == 0), "nobody after 7.6 s");
        assert!(cols[16].cut && cols.iter().filter(|c| c.cut).count() == 1, "the cut at 8 s");
        assert!(cols[6].pin && cols.iter().filter(|c| c.pin).count() == 1, "the pin at 3 s");
        assert_eq!(cols[11].camera, CameraState::Moving, "walking at 5.5 s: {:?}", cols[11]);
        assert_eq!(cols[17].camera, CameraState::NoSubject, "nobody after the cut");
        assert_eq!(cols[4].camera, CameraState::Still, "still person at 2.25 s, before the glide to the pin");
        assert!(cols.iter().all(|c| !c.split));
    }

    #[test]
    fn people_counts_skip_passers_by() {
        let mut a = analysis();
        // One detection of a passer-by on one frame makes a track too short to count.
        a.detections[30].boxes.push(PersonBox::new(1700.0, 100.0, 100.0, 300.0, 0.9));
        let a = Analysis::new(a.source_size, a.detections, a.cuts_us);
        let counts = people_counts(&a);
        assert_eq!(counts.len(), 50);
        assert_eq!(counts[30], 1);
        assert_eq!(counts[0], 2);
    }
}

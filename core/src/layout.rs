//! When two people share the output: one crop, or a split screen.
//!
//! In each shot the planner may show the two main people in a **split screen**: two crops, each
//! following one person, stacked in the output ([`crate::crop::SplitLayout`]). Whether it does is
//! the user's [`TwoPeople`] choice and what the shot shows:
//!
//! - **The pair**: the shot's primary (the user's chosen person, else the most prominent track,
//!   as in [`crate::subject`]) and the most prominent other track whose prominence is at least
//!   [`AUTO_SHARE`] of the primary's ([`SPLIT_SHARE`] when the user asked for split screens), that
//!   is not cut by the frame's side edge on most of its samples (the shoulder of an
//!   over-the-shoulder shot is nobody's half) and is not a duplicate of the primary. In automatic
//!   mode there must be exactly two such people, each of them either seen with a face (on at
//!   least [`AUTO_MIN_FACES`] of their samples) or large (a mean box height of at least
//!   [`AUTO_MIN_HEIGHT`] of the frame): with a third as prominent the shot is a group or a crowd,
//!   and small people seen without faces are passers-by or a crowd from afar, not two people
//!   talking; the camera then follows the primary (joined by whoever fits).
//! - **Per sample**: the pair is split while both are seen (a missed detection is filled in over
//!   short gaps, as for groups) and cannot share one crop: a split starts when the union of their
//!   boxes no longer fits the single crop with half the margin on each side (the point where a
//!   group breaks up), and ends when they would join a group again (the union within
//!   [`crate::subject::GROUP_JOIN`] of the crop), so the layout does not flicker at the threshold.
//! - **Over time**: a single stretch shorter than [`MIN_LAYOUT_S`] next to a split one is split
//!   too (no blink back to one crop), then a split stretch shorter than that is not split.
//! - The left person of the pair (mean centre over the stretch) takes the top (or left) half.
//!
//! Where the single crop already shows the whole frame, there is nothing to split.

use crate::subject::{box_near, cut_by_side_edge, prominence, Region, SubjectConfig, GROUP_JOIN};
use crate::track::Track;
use crate::units::{PixelSize, TimestampUs};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// What the user wants when two people matter in a shot and do not fit in one crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TwoPeople {
    /// Split when the shot has two main people who do not fit together (the second at least
    /// [`AUTO_SHARE`] as prominent as the first); otherwise follow one.
    #[default]
    Auto,
    /// Always one crop, on the most prominent person (joined by whoever fits with them).
    One,
    /// Split whenever a second person of some importance ([`SPLIT_SHARE`]) does not fit.
    Split,
}

impl TwoPeople {
    /// Parses "auto", "one" or "split" (any case).
    pub fn parse(text: &str) -> Option<TwoPeople> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(TwoPeople::Auto),
            "one" => Some(TwoPeople::One),
            "split" => Some(TwoPeople::Split),
            _ => None,
        }
    }

    /// The fixed text of the choice in a job's key ("" for the default, so that jobs stored before
    /// the choice existed keep their keys).
    pub fn job_key(self) -> &'static str {
        match self {
            TwoPeople::Auto => "",
            TwoPeople::One => "one",
            TwoPeople::Split => "split",
        }
    }
}

/// In automatic mode, the second person gets a half when at least this prominent, relative to the
/// first (two people of about equal weight in the shot).
pub const AUTO_SHARE: f64 = 0.5;
/// When the user asks for split screens: the prominence a second person needs, relative to the first.
pub const SPLIT_SHARE: f64 = 0.25;
/// Shortest stretch of one layout, seconds (shorter ones take the neighbouring layout).
pub const MIN_LAYOUT_S: f64 = 2.0;
/// In automatic mode, each of the two needs a face on at least this share of their samples...
pub const AUTO_MIN_FACES: f64 = 0.3;
/// ...or a mean box height of at least this share of the frame height.
pub const AUTO_MIN_HEIGHT: f64 = 0.4;
/// A track cut by the side edge of the frame on more than this share of its samples gets no half.
pub const MAX_EDGE_SHARE: f64 = 0.5;

/// A stretch of one shot's samples with one layout.
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutSpan {
    pub samples: Range<usize>,
    /// Split screen: the track ids of the top (or left) and the bottom (or right) half.
    pub split: Option<[u32; 2]>,
}

/// Share of the track's samples among `samples` where its box touches the side edges of the frame.
fn edge_share(track: &Track, samples: &[TimestampUs], source: PixelSize) -> f64 {
    let (mut seen, mut cut) = (0usize, 0usize);
    for &t in samples {
        if let Some(b) = track.box_at(t) {
            seen += 1;
            cut += cut_by_side_edge(&b, source) as usize;
        }
    }
    if seen == 0 {
        1.0
    } else {
        cut as f64 / seen as f64
    }
}

/// The two people of the shot who could share a split screen (indices into `tracks`), if any.
fn pair(
    samples: &[TimestampUs],
    tracks: &[Track],
    source: PixelSize,
    config: &SubjectConfig,
    share: f64,
    auto: bool,
) -> Option<(usize, usize)> {
    let scores: Vec<f64> = tracks.iter().map(|t| prominence(t, samples, source, &config.weights)).collect();
    let best = |skip: Option<usize>| {
        (0..tracks.len())
            .filter(|&i| Some(i) != skip && scores[i] > 0.0)
            .max_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(b.cmp(&a)))
    };
    let user = config.user_track.and_then(|id| tracks.iter().position(|t| t.id == id));
    let first = user.or_else(|| best(None))?;
    // A stale fragment of the same person: overlapping it on most samples where both are seen.
    let duplicate = |o: usize| {
        let (mut both, mut same) = (0usize, 0usize);
        for &t in samples {
            if let (Some(a), Some(b)) = (tracks[first].box_at(t), tracks[o].box_at(t)) {
                both += 1;
                same += (a.iou(&b) >= 0.5) as usize;
            }
        }
        2 * same > both
    };
    let others: Vec<usize> = (0..tracks.len())
        .filter(|&o| o != first && scores[o] >= share * scores[first] && scores[o] > 0.0)
        .filter(|&o| edge_share(&tracks[o], samples, source) <= MAX_EDGE_SHARE && !duplicate(o))
        .collect();
    if auto && others.len() > 1 {
        return None; // a group or a crowd
    }
    let second = others.into_iter().max_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(b.cmp(&a)))?;
    let main_person = |k: usize| {
        let seen: Vec<_> = samples.iter().filter_map(|&t| tracks[k].sample_at(t)).collect();
        let n = seen.len().max(1) as f64;
        let faces = seen.iter().filter(|s| s.face.is_some()).count() as f64 / n;
        let height = seen.iter().map(|s| s.bbox.height as f64).sum::<f64>() / n / source.height.max(1) as f64;
        !seen.is_empty() && (faces >= AUTO_MIN_FACES || height >= AUTO_MIN_HEIGHT)
    };
    if auto && !(main_person(first) && main_person(second)) {
        return None;
    }
    (edge_share(&tracks[first], samples, source) <= MAX_EDGE_SHARE).then_some((first, second))
}

/// Runs of equal values of `v`, as `(value, range)`.
fn runs(v: &[bool]) -> Vec<(bool, Range<usize>)> {
    let mut out: Vec<(bool, Range<usize>)> = Vec::new();
    for (k, &x) in v.iter().enumerate() {
        match out.last_mut() {
            Some((y, r)) if *y == x => r.end = k + 1,
            _ => out.push((x, k..k + 1)),
        }
    }
    out
}

/// How long run `r` lasts: from its first sample to the next run's first (or its own last).
fn run_us(samples: &[TimestampUs], r: &Range<usize>) -> i64 {
    let end = samples.get(r.end).or(samples.get(r.end - 1)).copied().unwrap_or_default();
    end.since(samples[r.start]).0
}

/// The layout of each stretch of one shot (see the module docs): `samples` are the shot's analysed
/// frames (sorted), `tracks` its tracks, `crop` the single crop's size.
pub fn layout_spans(
    samples: &[TimestampUs],
    tracks: &[Track],
    source: PixelSize,
    crop: PixelSize,
    config: &SubjectConfig,
    choice: TwoPeople,
) -> Vec<LayoutSpan> {
    let n = samples.len();
    let single = vec![LayoutSpan { samples: 0..n, split: None }];
    let share = match choice {
        TwoPeople::One => return single,
        TwoPeople::Auto if config.user_track.is_some() => return single, // the user chose whom to follow
        TwoPeople::Auto => AUTO_SHARE,
        TwoPeople::Split => SPLIT_SHARE,
    };
    if n == 0 || (crop.width >= source.width && crop.height >= source.height) {
        return single;
    }
    let Some((a, b)) = pair(samples, tracks, source, config, share, choice == TwoPeople::Auto) else {
        return single;
    };

    let (cw, ch) = (crop.width as f64, crop.height as f64);
    let (mx, my) = (config.margin_x, config.margin_y);
    let mut want = vec![false; n];
    let mut split = false;
    for (k, &t) in samples.iter().enumerate() {
        let near_end =
            t.since(samples[0]).0 <= config.group_gap_us / 2 || samples[n - 1].since(t).0 <= config.group_gap_us / 2;
        let boxes = (
            box_near(&tracks[a], t, config.group_gap_us, near_end),
            box_near(&tracks[b], t, config.group_gap_us, near_end),
        );
        let (Some(pa), Some(pb)) = boxes else {
            split = false;
            continue;
        };
        let u = Region::from_box(&pa).union(&Region::from_box(&pb)).clipped(source);
        split = if split {
            // Back to one crop only where they would join a group.
            !(u.width() <= (GROUP_JOIN * cw).min(cw - 2.0 * mx) && u.height() <= ch - 2.0 * my)
        } else {
            u.width() > cw - mx || u.height() > ch - my
        };
        want[k] = split;
    }
    let min_us = (MIN_LAYOUT_S * 1e6) as i64;
    // Short single stretches next to a split one are split; then short split stretches are not.
    let r = runs(&want);
    for (i, (value, range)) in r.iter().enumerate() {
        let next_to_split = (i > 0 && r[i - 1].0) || r.get(i + 1).is_some_and(|x| x.0);
        if !value && next_to_split && run_us(samples, range) < min_us {
            want[range.clone()].fill(true);
        }
    }
    for (value, range) in runs(&want) {
        if value && run_us(samples, &range) < min_us && range.len() < n {
            want[range].fill(false);
        }
    }
    runs(&want)
        .into_iter()
        .map(|(value, range)| {
            let split = value.then(|| {
                let mean_x = |k: usize| {
                    let xs: Vec<f64> = samples[range.clone()]
                        .iter()
                        .filter_map(|&t| tracks[k].box_at(t))
                        .map(|b| b.centre_x() as f64)
                        .collect();
                    xs.iter().sum::<f64>() / xs.len().max(1) as f64
                };
                let (ia, ib) = if mean_x(a) <= mean_x(b) { (a, b) } else { (b, a) };
                [tracks[ia].id, tracks[ib].id]
            });
            LayoutSpan { samples: range, split }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subject::ProminenceWeights;
    use crate::track::{Face, PersonBox, TrackSample};
    use crate::units::FrameIndex;

    const SRC: PixelSize = PixelSize { width: 1920, height: 1080 };
    const CROP: PixelSize = PixelSize { width: 608, height: 1080 };

    fn config() -> SubjectConfig {
        SubjectConfig {
            margin_x: 30.0,
            margin_y: 54.0,
            bridge_us: 4_000_000,
            group_gap_us: 1_500_000,
            user_track: None,
            weights: ProminenceWeights::default(),
        }
    }

    /// A person at `x(t)` (box left edge), 200 px wide and `height` tall, seen every 200 ms over `times`.
    fn person(id: u32, times: &[i64], x: impl Fn(i64) -> f32, height: f32) -> Track {
        let samples = times
            .iter()
            .map(|&t| TrackSample {
                timestamp_us: TimestampUs(t),
                frame: FrameIndex(0),
                bbox: PersonBox::new(x(t), 200.0, 200.0, height, 0.8),
                face: Some(Face { x: x(t) + 70.0, y: 220.0, width: 60.0, height: 70.0, score: 0.9, eye_y: 245.0 }),
            })
            .collect();
        Track { id, samples }
    }

    fn times(n: i64) -> (Vec<i64>, Vec<TimestampUs>) {
        let t: Vec<i64> = (0..n).map(|i| i * 200_000).collect();
        let ts = t.iter().map(|&x| TimestampUs(x)).collect();
        (t, ts)
    }

    #[test]
    fn two_people_far_apart_share_a_split_screen_left_on_top() {
        let (t, ts) = times(50);
        let right = person(1, &t, |_| 1450.0, 700.0);
        let left = person(2, &t, |_| 150.0, 680.0);
        let spans = layout_spans(&ts, &[right, left], SRC, CROP, &config(), TwoPeople::Auto);
        assert_eq!(spans, vec![LayoutSpan { samples: 0..50, split: Some([2, 1]) }]);
    }

    #[test]
    fn people_who_fit_together_or_one_choice_stay_single() {
        let (t, ts) = times(50);
        let a = person(1, &t, |_| 700.0, 700.0);
        let b = person(2, &t, |_| 900.0, 700.0);
        assert!(layout_spans(&ts, &[a.clone(), b], SRC, CROP, &config(), TwoPeople::Split)[0].split.is_none());
        let far = person(2, &t, |_| 1500.0, 700.0);
        assert!(layout_spans(&ts, &[a.clone(), far.clone()], SRC, CROP, &config(), TwoPeople::One)[0].split.is_none());
        // Automatic mode follows the person the user picked.
        let picked = SubjectConfig { user_track: Some(1), ..config() };
        assert!(layout_spans(&ts, &[a.clone(), far.clone()], SRC, CROP, &picked, TwoPeople::Auto)[0].split.is_none());
        // A single crop that shows the whole frame needs no split.
        assert!(layout_spans(&ts, &[a, far], SRC, SRC, &config(), TwoPeople::Split)[0].split.is_none());
    }

    #[test]
    fn a_small_background_person_or_an_edge_shoulder_gets_no_half() {
        let (t, ts) = times(50);
        let main = person(1, &t, |_| 300.0, 800.0);
        let small = person(2, &t, |_| 1500.0, 250.0);
        assert!(layout_spans(&ts, &[main.clone(), small.clone()], SRC, CROP, &config(), TwoPeople::Auto)[0]
            .split
            .is_none());
        // Asked for split screens, a lesser person may have a half, but not a shoulder at the edge.
        let second = person(2, &t, |_| 1500.0, 560.0);
        assert!(layout_spans(&ts, &[main.clone(), second], SRC, CROP, &config(), TwoPeople::Split)[0].split.is_some());
        let shoulder = person(3, &t, |_| 1720.0, 880.0);
        assert!(layout_spans(&ts, &[main, shoulder], SRC, CROP, &config(), TwoPeople::Split)[0].split.is_none());
    }

    #[test]
    fn automatic_mode_splits_only_people_whose_faces_are_seen_or_who_are_large() {
        let (t, ts) = times(50);
        let faceless = |mut tr: Track| {
            tr.samples.iter_mut().for_each(|s| s.face = None);
            tr
        };
        let (a, b) = (person(1, &t, |_| 150.0, 700.0), person(2, &t, |_| 1450.0, 700.0));
        assert!(layout_spans(&ts, &[a.clone(), b.clone()], SRC, CROP, &config(), TwoPeople::Auto)[0].split.is_some());
        // Large without a face: still one of the two.
        assert!(layout_spans(&ts, &[a.clone(), faceless(b)], SRC, CROP, &config(), TwoPeople::Auto)[0].split.is_some());
        // Small (a third of the frame height), no face: a passer-by.
        let (a, walker) = (person(1, &t, |_| 150.0, 380.0), faceless(person(2, &t, |_| 1450.0, 380.0)));
        assert!(layout_spans(&ts, &[a.clone(), walker.clone()], SRC, CROP, &config(), TwoPeople::Auto)[0]
            .split
            .is_none());
        // Asked for split screens, faces are not needed.
        assert!(layout_spans(&ts, &[a, walker], SRC, CROP, &config(), TwoPeople::Split)[0].split.is_some());
    }

    #[test]
    fn three_people_of_equal_weight_are_a_group_not_a_split() {
        let (t, ts) = times(50);
        let people =
            [person(1, &t, |_| 150.0, 700.0), person(2, &t, |_| 850.0, 690.0), person(3, &t, |_| 1550.0, 700.0)];
        assert!(layout_spans(&ts, &people, SRC, CROP, &config(), TwoPeople::Auto)[0].split.is_none());
        // Asked for split screens: the two most prominent share it.
        assert!(layout_spans(&ts, &people, SRC, CROP, &config(), TwoPeople::Split)[0].split.is_some());
    }

    #[test]
    fn coming_together_goes_back_to_one_crop_without_flicker() {
        // B walks from the far right to stand next to A (over 4 s), stays 4 s, walks back.
        let (t, ts) = times(80);
        let a = person(1, &t, |_| 300.0, 700.0);
        let bx = |t: i64| {
            let s = t as f32 / 1e6;
            match s {
                s if s < 2.0 => 1500.0,
                s if s < 6.0 => 1500.0 - (s - 2.0) * 245.0, // reaches 520 at 6 s
                s if s < 10.0 => 520.0,
                s if s < 14.0 => 520.0 + (s - 10.0) * 245.0,
                _ => 1500.0,
            }
        };
        let b = person(2, &t, bx, 700.0);
        let spans = layout_spans(&ts, &[a, b], SRC, CROP, &config(), TwoPeople::Auto);
        let kinds: Vec<bool> = spans.iter().map(|s| s.split.is_some()).collect();
        assert_eq!(kinds, vec![true, false, true], "{spans:?}");
        // The single stretch covers the time they stand together.
        let single = &spans[1].samples;
        assert!(
            ts[single.start] <= TimestampUs(6_200_000) && ts[single.end - 1] >= TimestampUs(9_800_000),
            "{spans:?}"
        );
        // A brief meeting (under MIN_LAYOUT_S) does not blink to one crop.
        let brief = |t: i64| if (4_000_000..4_600_000).contains(&t) { 520.0 } else { 1500.0 };
        let spans = layout_spans(
            &ts,
            &[person(1, &t, |_| 300.0, 700.0), person(2, &t, brief, 700.0)],
            SRC,
            CROP,
            &config(),
            TwoPeople::Auto,
        );
        assert_eq!(spans.len(), 1);
        assert!(spans[0].split.is_some());
    }
}

//! From the planned camera path to one crop window per output frame.
//!
//! The plan ([`crate::camera_path::PlannedPath`]) is defined at every instant, per shot; each
//! frame's timestamp is looked up in the shot that contains it (a frame at a cut's timestamp
//! belongs to the new shot), so no frame is ever interpolated between two shots. Positions are
//! rounded to even pixels (4:2:0 chroma) inside the frame; the size is the plan's constant crop
//! size ([`crate::crop::output_size`]).

use crate::camera_path::PlannedPath;
use crate::crop::CropPathEntry;
use crate::units::{PixelRect, TimestampUs};

/// Rounds a crop position to the nearest even pixel in `[0, max]` (the largest even value not
/// above `max` when `max` is odd). NaN becomes 0.
pub fn snap_even(pos: f64, max: u32) -> u32 {
    let top = max & !1;
    if !pos.is_finite() {
        return 0;
    }
    let v = ((pos / 2.0).round() * 2.0).clamp(0.0, top as f64);
    v as u32
}

/// One crop window per frame, for the frames at `frame_timestamps` (in presentation order; the
/// order of the output follows the input).
/// A split-screen frame has two windows, each of the plan's half size.
pub fn crop_path_for_frames(plan: &PlannedPath, frame_timestamps: &[TimestampUs]) -> Vec<CropPathEntry> {
    frame_timestamps
        .iter()
        .map(|&t| {
            let size = plan.window_at(t);
            let rect = |(x, y): (f64, f64)| {
                let max_x = plan.source.width.saturating_sub(size.width);
                let max_y = plan.source.height.saturating_sub(size.height);
                PixelRect::new(snap_even(x, max_x), snap_even(y, max_y), size.width, size.height)
            };
            match plan.positions_at(t) {
                (first, None) => CropPathEntry::new(t, rect(first)),
                (first, Some(second)) => CropPathEntry::split(t, rect(first), rect(second)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera_path::{AxisPath, CameraSettings, PathKey, ShotPath, Smoothness};
    use crate::units::{AspectRatio, PixelSize};

    #[test]
    fn snapping() {
        assert_eq!(snap_even(10.9, 100), 10);
        assert_eq!(snap_even(11.1, 100), 12);
        assert_eq!(snap_even(-5.0, 100), 0);
        assert_eq!(snap_even(500.0, 101), 100);
        assert_eq!(snap_even(f64::NAN, 100), 0);
    }

    #[test]
    fn frames_follow_their_own_shot() {
        let key = |t: i64, pos: f64| PathKey { t_us: TimestampUs(t), pos };
        let shot = |start: Option<i64>, keys: Vec<PathKey>| ShotPath {
            start_us: start.map(TimestampUs),
            subject_track: None,
            x: AxisPath { keys, ease_us: 400_000 },
            y: AxisPath { keys: vec![key(0, 0.0)], ease_us: 0 },
            second: None,
        };
        // Shot 0 pans 0 -> 600 until 1 s; shot 1 (from 1 s) is still at 1000.
        let plan = PlannedPath {
            source: PixelSize::new(1920, 1080),
            crop: PixelSize::new(608, 1080),
            settings: CameraSettings::new(AspectRatio::PORTRAIT_9_16, Smoothness::Balanced),
            cuts_us: vec![TimestampUs(1_000_000)],
            shots: vec![
                shot(None, vec![key(0, 0.0), key(1_000_000, 600.0)]),
                shot(Some(1_000_000), vec![key(1_000_000, 1000.0)]),
            ],
            split: None,
            pins: vec![],
        };
        let frames: Vec<TimestampUs> = (0..60).map(|i| TimestampUs(i * 33_333)).collect();
        let path = crop_path_for_frames(&plan, &frames);
        assert_eq!(path.len(), 60);
        for e in &path {
            assert_eq!((e.width, e.height, e.y), (608, 1080, 0));
            assert_eq!(e.x % 2, 0);
            if e.timestamp_us >= TimestampUs(1_000_000) {
                assert_eq!(e.x, 1000);
            } else {
                assert!(e.x <= 600);
            }
        }
        // The last frame before the cut is still on shot 0's path (eased near its end).
        assert!(path[29].x < 600 && path[29].x > 500, "{:?}", path[29]);
    }
}

//! The editor's model: a stored analysis, the camera settings of the panel and the user's edits
//! (whom to follow, pinned framings), the path planned from them, and undo/redo. Every change
//! re-plans at once from the stored tracks (no detection), so the page's overlay, cropped preview
//! and timeline follow each edit. The page (`app/src/editor.rs`) only draws it and turns pointer
//! and key events into calls here.

use crate::analysis::{is_person, Analysis, Edits};
use crate::camera_path::{CameraSettings, Pin, PlannedPath};
use crate::crop::CropPathEntry;
use crate::frame_path::{crop_path_for_frames, snap_even};
use crate::shots::shot_index;
use crate::track::PersonBox;
use crate::units::TimestampUs;

/// People boxes are shown from the nearest analysed frame within this long of the moment shown.
pub const BOXES_WITHIN_US: i64 = 300_000;

/// Edits kept for undo.
const MAX_UNDO: usize = 200;

pub struct Editor {
    analysis: Analysis,
    camera: CameraSettings,
    edits: Edits,
    undo: Vec<Edits>,
    redo: Vec<Edits>,
}

impl Editor {
    /// An editor over `analysis` for the panel's `camera` settings, starting from `edits`.
    pub fn new(mut analysis: Analysis, camera: CameraSettings, edits: Edits) -> Editor {
        let planned = CameraSettings { subject_track: edits.subject_track, ..camera };
        analysis.plan(&planned, &edits.pins);
        Editor { analysis, camera, edits, undo: Vec::new(), redo: Vec::new() }
    }

    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    /// The path planned for the current settings and edits.
    pub fn plan(&self) -> &PlannedPath {
        self.analysis.path.as_ref().expect("planned when made and on every change")
    }

    pub fn edits(&self) -> &Edits {
        &self.edits
    }

    pub fn camera(&self) -> CameraSettings {
        self.camera
    }

    fn replan(&mut self) {
        let planned = CameraSettings { subject_track: self.edits.subject_track, ..self.camera };
        self.analysis.plan(&planned, &self.edits.pins);
    }

    /// New panel settings (ratio, camera style, two people): re-plans; the edits stay.
    pub fn set_camera(&mut self, camera: CameraSettings) {
        if camera != self.camera {
            self.camera = camera;
            self.replan();
        }
    }

    /// Applies `edits` as one undoable step; false (and nothing changes) when they are the same.
    pub fn edit(&mut self, edits: Edits) -> bool {
        if edits == self.edits {
            return false;
        }
        self.undo.push(std::mem::replace(&mut self.edits, edits));
        if self.undo.len() > MAX_UNDO {
            self.undo.remove(0);
        }
        self.redo.clear();
        self.replan();
        true
    }

    /// Pins the (first) window's top-left at (`x`, `y`) at `t`: clamped into the frame and
    /// rounded to even pixels as every crop is, so the pin is what the frame will show.
    pub fn pin(&mut self, t: TimestampUs, x: f64, y: f64) -> bool {
        let plan = self.plan();
        let size = plan.window_at(t);
        let max_x = plan.source.width.saturating_sub(size.width);
        let max_y = plan.source.height.saturating_sub(size.height);
        let pin = Pin { t_us: t, x: snap_even(x, max_x), y: snap_even(y, max_y) };
        let edits = self.edits.with_pin(pin);
        self.edit(edits)
    }

    /// Follows `subject` (a track id; `None`: the most prominent person of each shot).
    pub fn follow(&mut self, subject: Option<u32>) -> bool {
        let edits = Edits { subject_track: subject, ..self.edits.clone() };
        self.edit(edits)
    }

    /// Removes the pins of the shot that contains `t`.
    pub fn reset_shot(&mut self, t: TimestampUs) -> bool {
        let (from, to) = self.shot_at(t);
        let edits = self.edits.without_pins_in(from, to.unwrap_or(TimestampUs(i64::MAX)));
        self.edit(edits)
    }

    pub fn undo(&mut self) -> bool {
        let Some(previous) = self.undo.pop() else { return false };
        self.redo.push(std::mem::replace(&mut self.edits, previous));
        self.replan();
        true
    }

    pub fn redo(&mut self) -> bool {
        let Some(next) = self.redo.pop() else { return false };
        self.undo.push(std::mem::replace(&mut self.edits, next));
        self.replan();
        true
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// The shot (cut to cut, not layout parts) that contains `t`: its start and the next cut.
    pub fn shot_at(&self, t: TimestampUs) -> (TimestampUs, Option<TimestampUs>) {
        let cuts = &self.analysis.cuts_us;
        let s = shot_index(cuts, t);
        let from = s.checked_sub(1).map(|k| cuts[k]).unwrap_or(TimestampUs(0));
        (from, cuts.get(s).copied())
    }

    /// The window(s) a frame at `t` gets, exactly as the export crops it.
    pub fn windows_at(&self, t: TimestampUs) -> CropPathEntry {
        crop_path_for_frames(self.plan(), &[t])[0]
    }

    /// The tracked people at `t` (tracks that [`is_person`]): each one's box on the nearest
    /// analysed frame within [`BOXES_WITHIN_US`], with its track id.
    pub fn people_at(&self, t: TimestampUs) -> Vec<(u32, PersonBox)> {
        let times = &self.analysis.detections;
        let i = times.partition_point(|d| d.timestamp_us < t);
        let nearest = [i.checked_sub(1), Some(i)]
            .into_iter()
            .flatten()
            .filter_map(|k| times.get(k))
            .min_by_key(|d| (d.timestamp_us.0 - t.0).abs())
            .filter(|d| (d.timestamp_us.0 - t.0).abs() <= BOXES_WITHIN_US);
        let Some(frame) = nearest.map(|d| d.timestamp_us) else { return Vec::new() };
        self.analysis
            .tracks
            .iter()
            .filter(|tr| is_person(tr))
            .filter_map(|tr| {
                let k = tr.samples.binary_search_by_key(&frame, |s| s.timestamp_us).ok()?;
                Some((tr.id, tr.samples[k].bbox))
            })
            .collect()
    }

    /// The person under the point (`x`, `y`) (source display pixels) at `t`: of the boxes that
    /// hold the point, the smallest (the one in front, usually).
    pub fn person_at(&self, t: TimestampUs, x: f64, y: f64) -> Option<u32> {
        let inside = |b: &PersonBox| {
            let (x, y) = (x as f32, y as f32);
            x >= b.x && x <= b.x + b.width && y >= b.y && y <= b.y + b.height
        };
        self.people_at(t)
            .into_iter()
            .filter(|(_, b)| inside(b))
            .min_by(|a, b| a.1.area().total_cmp(&b.1.area()))
            .map(|(id, _)| id)
    }

    /// The analysis with the current edits, for storing and export.
    pub fn analysis_with_edits(&self) -> Analysis {
        Analysis { edits: self.edits.clone(), ..self.analysis.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera_path::Smoothness;
    use crate::layout::TwoPeople;
    use crate::track::Detection;
    use crate::units::{AspectRatio, FrameIndex, PixelSize};

    /// 8 s of two people standing apart (left one larger), a cut at 4 s.
    fn editor() -> Editor {
        let dets = (0..40)
            .map(|i| Detection {
                timestamp_us: TimestampUs(i * 200_000),
                frame: FrameIndex(i as u64 * 6),
                boxes: vec![
                    PersonBox::new(200.0, 200.0, 300.0, 800.0, 0.9),
                    PersonBox::new(1500.0, 400.0, 150.0, 400.0, 0.9),
                ],
                faces: vec![],
            })
            .collect();
        let a = Analysis::new(PixelSize::new(1920, 1080), dets, vec![TimestampUs(4_000_000)]);
        let camera = CameraSettings {
            two_people: TwoPeople::One,
            ..CameraSettings::new(AspectRatio::PORTRAIT_9_16, Smoothness::Balanced)
        };
        Editor::new(a, camera, Edits::default())
    }

    #[test]
    fn clicking_a_person_follows_them_and_undo_goes_back() {
        let mut e = editor();
        let t = TimestampUs(1_000_000);
        let left = e.windows_at(t).x;
        assert!(left < 400, "the large left person is framed: {left}");
        let small = e.person_at(t, 1575.0, 600.0).expect("the right person is under the point");
        assert_eq!(e.person_at(t, 1000.0, 100.0), None, "nobody there");
        assert!(e.follow(Some(small)));
        assert!(e.windows_at(t).x > 1100, "now the right person: {:?}", e.windows_at(t));
        assert_eq!(e.plan().shots[0].subject_track, Some(small));
        assert!(!e.follow(Some(small)), "the same edit again is no step");
        assert!(e.undo());
        assert_eq!(e.windows_at(t).x, left);
        assert!(!e.can_undo() && e.can_redo());
        assert!(e.redo());
        assert!(e.windows_at(t).x > 1100);
    }

    #[test]
    fn a_pin_is_met_exactly_and_reset_shot_removes_only_its_shot() {
        let mut e = editor();
        let (t1, t2) = (TimestampUs(2_000_000), TimestampUs(6_000_000));
        assert!(e.pin(t1, 701.0, 40.0));
        assert!(e.pin(t2, 5000.0, 0.0), "clamped into the frame");
        let w = e.windows_at(t1);
        assert_eq!((w.x, w.y), (702, 0), "even pixels; a full-height window has no room to move down");
        assert_eq!(e.windows_at(t2).x, 1920 - 608);
        assert_eq!(e.edits().pins.len(), 2);
        assert_eq!(e.shot_at(t2), (TimestampUs(4_000_000), None));
        assert!(e.reset_shot(TimestampUs(5_000_000)));
        assert_eq!(e.edits().pins.len(), 1);
        assert_eq!(e.edits().pins[0].t_us, t1);
        assert!(!e.reset_shot(TimestampUs(5_000_000)), "nothing left to reset there");
        assert_eq!(e.analysis_with_edits().edits, *e.edits());
    }

    #[test]
    fn new_settings_re_plan_and_keep_the_edits() {
        let mut e = editor();
        e.pin(TimestampUs(2_000_000), 700.0, 0.0);
        let square = CameraSettings { ratio: AspectRatio::new(1, 1).unwrap(), ..e.camera() };
        e.set_camera(square);
        assert_eq!(e.windows_at(TimestampUs(2_000_000)).width, 1080);
        assert_eq!(e.windows_at(TimestampUs(2_000_000)).x, 700);
        assert_eq!(e.edits().pins.len(), 1);
        assert!(!e.can_redo());
        let people = e.people_at(TimestampUs(2_050_000));
        assert_eq!(people.len(), 2);
        assert!(e.people_at(TimestampUs(60_000_000)).is_empty(), "no analysed frame near");
    }
}

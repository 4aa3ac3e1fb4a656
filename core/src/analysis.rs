//! The stored analysis of a video: detections, tracks, shots (cuts) and the planned path, as a
//! versioned JSON file, so that a later export with another aspect ratio, smoothness or subject
//! reuses it without detecting again.
//!
//! The file is one JSON object with a `version` field ([`ANALYSIS_VERSION`]). Reading checks the
//! version first: a file from a newer Reframe is refused with a clear message instead of being
//! misread; a missing or zero version is refused as not an analysis file.

use crate::camera_path::{plan_camera_path, CameraSettings, Pin, PlannedPath};
use crate::crop::CropPathEntry;
use crate::frame_path::crop_path_for_frames;
use crate::track::{track_people, Detection, Track, TrackerConfig};
use crate::units::{PixelSize, TimestampUs};
use serde::{Deserialize, Serialize};

/// The analysis file format this code writes and reads (2: the user's [`Edits`]; format 1 files,
/// without them, still read).
pub const ANALYSIS_VERSION: u32 = 2;

/// Why an analysis file could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalysisError {
    #[error("this is not a Reframe analysis file ({0})")]
    NotAnalysis(String),
    #[error(
        "this analysis file was written by a newer version of Reframe (format {found}); this version reads format {supported} or older. Update Reframe or analyse the video again"
    )]
    TooNew { found: u64, supported: u32 },
    #[error("the analysis file is damaged: {0}")]
    Corrupt(String),
}

impl From<AnalysisError> for crate::error::ReframeError {
    fn from(e: AnalysisError) -> Self {
        crate::error::ReframeError::Read(e.to_string())
    }
}

/// Tracks seen on fewer analysed frames (with a box of at least [`SHOWN_MIN_SCORE`]) are not
/// offered as subjects (passers-by, false alarms).
pub const MIN_PERSON_SAMPLES: usize = 3;

/// Boxes below this detector score are not shown to the user (the analysis keeps boxes down to
/// 0.1 for the tracker to confirm; shown, they clutter a crowd with cones and shadows).
pub const SHOWN_MIN_SCORE: f32 = 0.3;

/// Whether a track is a person to show and offer: seen on [`MIN_PERSON_SAMPLES`] analysed frames
/// with a box of [`SHOWN_MIN_SCORE`] or more.
pub fn is_person(track: &Track) -> bool {
    track.samples.iter().filter(|s| s.bbox.score >= SHOWN_MIN_SCORE).count() >= MIN_PERSON_SAMPLES
}

/// A person the user can choose to follow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonSummary {
    pub track_id: u32,
    pub first_us: TimestampUs,
    pub last_us: TimestampUs,
    /// Analysed frames on which they were found.
    pub samples: u32,
    /// Where they are seen largest (to show them to the user).
    pub best_us: TimestampUs,
    pub best_box: crate::track::PersonBox,
}

/// What the user changed in the editor, kept with the analysis so that a reload, or an exported
/// and imported analysis file, keeps it: whom to follow and the pinned framings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Edits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_track: Option<u32>,
    /// Sorted by time, one per time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pins: Vec<Pin>,
}

impl Edits {
    pub fn is_empty(&self) -> bool {
        self.subject_track.is_none() && self.pins.is_empty()
    }

    /// These edits with `pin` added (replacing a pin at the same time).
    pub fn with_pin(&self, pin: Pin) -> Edits {
        let mut pins: Vec<Pin> = self.pins.iter().copied().filter(|p| p.t_us != pin.t_us).collect();
        let at = pins.partition_point(|p| p.t_us < pin.t_us);
        pins.insert(at, pin);
        Edits { pins, ..self.clone() }
    }

    /// These edits without the pins in `[from, to)`.
    pub fn without_pins_in(&self, from: TimestampUs, to: TimestampUs) -> Edits {
        let pins = self.pins.iter().copied().filter(|p| p.t_us < from || p.t_us >= to).collect();
        Edits { pins, ..self.clone() }
    }
}

/// Everything the analysis learnt about one video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Format version, [`ANALYSIS_VERSION`] when written by this code.
    pub version: u32,
    /// The video's size as displayed (all boxes and paths are in these pixels).
    pub source_size: PixelSize,
    /// One entry per analysed frame, sorted by time.
    pub detections: Vec<Detection>,
    pub tracks: Vec<Track>,
    /// First timestamp of each new shot, sorted.
    pub cuts_us: Vec<TimestampUs>,
    /// The last planned path, if any.
    #[serde(default)]
    pub path: Option<PlannedPath>,
    /// The video this analysis is of (added in Reframe's resume work; absent in older files).
    #[serde(default)]
    pub source_file: Option<crate::fingerprint::FileFingerprint>,
    /// The user's edits (format 2; none in older files).
    #[serde(default, skip_serializing_if = "Edits::is_empty")]
    pub edits: Edits,
}

impl Analysis {
    /// Tracks people through `detections` (ending tracks at `cuts`) and keeps everything.
    pub fn new(source_size: PixelSize, detections: Vec<Detection>, cuts_us: Vec<TimestampUs>) -> Analysis {
        Analysis::with_tracker(source_size, detections, cuts_us, TrackerConfig::default())
    }

    /// [`Analysis::new`] with a given tracker tuning.
    pub fn with_tracker(
        source_size: PixelSize,
        mut detections: Vec<Detection>,
        mut cuts_us: Vec<TimestampUs>,
        tracker: TrackerConfig,
    ) -> Analysis {
        detections.sort_by_key(|d| d.timestamp_us);
        cuts_us.sort();
        cuts_us.dedup();
        let tracks = track_people(&detections, &cuts_us, tracker);
        Analysis {
            version: ANALYSIS_VERSION,
            source_size,
            detections,
            tracks,
            cuts_us,
            path: None,
            source_file: None,
            edits: Edits::default(),
        }
    }

    /// The analysed frames' timestamps.
    pub fn sample_times(&self) -> Vec<TimestampUs> {
        self.detections.iter().map(|d| d.timestamp_us).collect()
    }

    /// Plans the camera path for `settings` and the user's `pins` from the stored tracks and cuts,
    /// and keeps it.
    pub fn plan(&mut self, settings: &CameraSettings, pins: &[Pin]) -> &PlannedPath {
        let times = self.sample_times();
        let plan = plan_camera_path(self.source_size, &times, &self.tracks, &self.cuts_us, settings, pins);
        self.path.insert(plan)
    }

    /// Plans for `settings` and `pins` and returns one crop window per frame of `frame_timestamps`.
    pub fn crop_path(
        &mut self,
        settings: &CameraSettings,
        pins: &[Pin],
        frame_timestamps: &[TimestampUs],
    ) -> Vec<CropPathEntry> {
        let plan = self.plan(settings, pins);
        crop_path_for_frames(plan, frame_timestamps)
    }

    /// The people found, for the page to offer as subjects: every track that [`is_person`], most
    /// seen first, with the box where they are largest.
    pub fn people(&self) -> Vec<PersonSummary> {
        let mut people: Vec<PersonSummary> = self
            .tracks
            .iter()
            .filter(|t| is_person(t))
            .filter_map(|t| {
                let best = t.samples.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))?;
                Some(PersonSummary {
                    track_id: t.id,
                    first_us: t.first_us()?,
                    last_us: t.last_us()?,
                    samples: t.samples.len() as u32,
                    best_us: best.timestamp_us,
                    best_box: best.bbox,
                })
            })
            .collect();
        people.sort_by(|a, b| b.samples.cmp(&a.samples).then(a.track_id.cmp(&b.track_id)));
        people
    }

    /// Why this analysis is not of the video `file` (shown `size`), or `None` when it may be:
    /// the frame size must match, and the recorded file's size and sampled content when present
    /// (its name may differ: files get renamed).
    pub fn mismatch(&self, file: &crate::fingerprint::FileFingerprint, size: PixelSize) -> Option<String> {
        if self.source_size != size {
            return Some(format!(
                "it is of a {}x{} video, this one is {}x{}",
                self.source_size.width, self.source_size.height, size.width, size.height
            ));
        }
        match &self.source_file {
            Some(f) if f.size != file.size || f.content_hash != file.content_hash => {
                Some(format!("it was made from \"{}\", a different file", f.name))
            }
            _ => None,
        }
    }

    /// The analysis as compact JSON.
    pub fn to_json(&self) -> Result<String, AnalysisError> {
        serde_json::to_string(self).map_err(|e| AnalysisError::Corrupt(e.to_string()))
    }

    /// Reads an analysis file, checking its version first.
    pub fn from_json(text: &str) -> Result<Analysis, AnalysisError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| AnalysisError::NotAnalysis(format!("not JSON: {e}")))?;
        let version = match value.get("version") {
            Some(v) => v.as_u64().ok_or_else(|| AnalysisError::NotAnalysis("its version is not a number".into()))?,
            None => return Err(AnalysisError::NotAnalysis("no version field".into())),
        };
        if version == 0 {
            return Err(AnalysisError::NotAnalysis("version 0".into()));
        }
        if version > ANALYSIS_VERSION as u64 {
            return Err(AnalysisError::TooNew { found: version, supported: ANALYSIS_VERSION });
        }
        let mut a: Analysis = serde_json::from_value(value).map_err(|e| AnalysisError::Corrupt(e.to_string()))?;
        // Everything downstream expects time order; a hand-edited file may not keep it.
        a.detections.sort_by_key(|d| d.timestamp_us);
        a.cuts_us.sort();
        a.cuts_us.dedup();
        for t in &mut a.tracks {
            t.samples.sort_by_key(|s| s.timestamp_us);
        }
        a.edits.pins.sort_by_key(|p| p.t_us);
        a.edits.pins.dedup_by_key(|p| p.t_us);
        // Written again, the file is of this version.
        a.version = ANALYSIS_VERSION;
        if let Some(p) = &mut a.path {
            for shot in &mut p.shots {
                shot.x.keys.sort_by_key(|k| k.t_us);
                shot.y.keys.sort_by_key(|k| k.t_us);
            }
        }
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera_path::Smoothness;
    use crate::track::PersonBox;
    use crate::units::{AspectRatio, FrameIndex};

    fn sample() -> Analysis {
        let dets = (0..20)
            .map(|i| Detection {
                timestamp_us: TimestampUs(i * 200_000),
                frame: FrameIndex(i as u64 * 6),
                boxes: vec![PersonBox::new(300.0 + 20.0 * i as f32, 400.0, 140.0, 420.0, 0.9)],
                faces: vec![],
            })
            .collect();
        Analysis::new(PixelSize::new(1920, 1080), dets, vec![TimestampUs(2_000_000)])
    }

    #[test]
    fn people_lists_tracks_seen_often_enough_most_seen_first() {
        let mut dets: Vec<Detection> = (0..20)
            .map(|i| Detection {
                timestamp_us: TimestampUs(i * 200_000),
                frame: FrameIndex(i as u64 * 6),
                boxes: vec![PersonBox::new(300.0 + 5.0 * i as f32, 400.0, 140.0 + i as f32, 420.0, 0.9)],
                faces: vec![],
            })
            .collect();
        // A second person on 5 frames, a passer-by on 1.
        for d in dets.iter_mut().take(5) {
            d.boxes.push(PersonBox::new(1500.0, 380.0, 150.0, 450.0, 0.8));
        }
        dets[10].boxes.push(PersonBox::new(900.0, 100.0, 60.0, 150.0, 0.6));
        // A cone the detector believed in on two frames and half believed in on six more:
        // tracked (the strong boxes start a track, the weak ones extend it), not a person.
        for (k, d) in dets.iter_mut().skip(10).take(8).enumerate() {
            d.boxes.push(PersonBox::new(50.0, 900.0, 40.0, 80.0, if k < 2 { 0.65 } else { 0.2 }));
        }
        let a = Analysis::new(PixelSize::new(1920, 1080), dets, vec![]);
        let weak = a.tracks.iter().find(|t| t.samples.iter().filter(|s| s.bbox.score < 0.3).count() >= 5);
        assert!(
            weak.is_some_and(|t| t.samples.len() >= MIN_PERSON_SAMPLES),
            "the weak boxes are a track: {:?}",
            a.tracks
        );
        let people = a.people();
        assert_eq!(people.len(), 2, "{people:?}");
        assert_eq!(people[0].samples, 20);
        assert_eq!(people[1].samples, 5);
        assert_eq!(people[0].best_us, TimestampUs(19 * 200_000), "largest box is the last");
        assert_eq!(people[1].first_us, TimestampUs(0));
        assert_eq!(people[1].last_us, TimestampUs(800_000));
        assert_ne!(people[0].track_id, people[1].track_id);
    }

    #[test]
    fn an_imported_analysis_must_be_of_the_same_video() {
        use crate::fingerprint::FileFingerprint;
        let fp = |name: &str, size: u64, hash: &str| FileFingerprint {
            name: name.into(),
            size,
            last_modified_ms: 0.0,
            content_hash: hash.into(),
        };
        let mut a = sample();
        let size = PixelSize::new(1920, 1080);
        assert_eq!(a.mismatch(&fp("x.mp4", 10, "aa"), size), None, "old files without a source pass on size");
        assert!(a.mismatch(&fp("x.mp4", 10, "aa"), PixelSize::new(1280, 720)).unwrap().contains("1920x1080"));
        a.source_file = Some(fp("v.mp4", 10, "aa"));
        assert_eq!(a.mismatch(&fp("renamed.mp4", 10, "aa"), size), None);
        assert!(a.mismatch(&fp("v.mp4", 11, "aa"), size).unwrap().contains("different file"));
        assert!(a.mismatch(&fp("v.mp4", 10, "bb"), size).is_some());
        let back = Analysis::from_json(&a.to_json().unwrap()).unwrap();
        assert_eq!(back.source_file, a.source_file);
    }

    #[test]
    fn round_trip() {
        let mut a = sample();
        a.plan(&CameraSettings::new(AspectRatio::PORTRAIT_9_16, Smoothness::Calm), &[]);
        assert_eq!(a.tracks.len(), 2, "the cut ends the first track");
        let text = a.to_json().unwrap();
        assert!(text.contains("\"version\":2"));
        assert!(!text.contains("edits"), "no edits, no field");
        let b = Analysis::from_json(&text).unwrap();
        assert_eq!(a, b);
        a.edits = Edits::default().with_pin(Pin { t_us: TimestampUs(2_000_000), x: 40, y: 0 });
        a.edits.subject_track = Some(1);
        let b = Analysis::from_json(&a.to_json().unwrap()).unwrap();
        assert_eq!(b.edits, a.edits);
    }

    #[test]
    fn format_1_files_still_read() {
        let mut a = sample();
        a.version = 1;
        let text = a.to_json().unwrap();
        assert!(text.contains("\"version\":1"));
        let b = Analysis::from_json(&text).unwrap();
        assert_eq!(b.version, ANALYSIS_VERSION);
        assert_eq!(b.edits, Edits::default());
        assert_eq!(b.tracks, a.tracks);
    }

    #[test]
    fn edits_keep_one_pin_per_time_in_order() {
        let pin = |t: i64, x: u32| Pin { t_us: TimestampUs(t), x, y: 0 };
        let e = Edits::default().with_pin(pin(3, 30)).with_pin(pin(1, 10)).with_pin(pin(2, 20)).with_pin(pin(1, 11));
        assert_eq!(e.pins, vec![pin(1, 11), pin(2, 20), pin(3, 30)]);
        assert_eq!(e.without_pins_in(TimestampUs(2), TimestampUs(3)).pins, vec![pin(1, 11), pin(3, 30)]);
        assert!(!e.is_empty());
        assert!(Edits::default().is_empty());
    }

    #[test]
    fn re_export_with_another_ratio_reuses_the_analysis() {
        let mut a = Analysis::from_json(&sample().to_json().unwrap()).unwrap();
        let frames: Vec<TimestampUs> = (0..120).map(|i| TimestampUs(i * 33_333)).collect();
        let portrait =
            a.crop_path(&CameraSettings::new(AspectRatio::PORTRAIT_9_16, Smoothness::Balanced), &[], &frames);
        let square =
            a.crop_path(&CameraSettings::new(AspectRatio::new(1, 1).unwrap(), Smoothness::Responsive), &[], &frames);
        assert_eq!(portrait.len(), 120);
        assert_eq!((portrait[0].width, portrait[0].height), (608, 1080));
        assert_eq!((square[0].width, square[0].height), (1080, 1080));
        assert_eq!(a.path.as_ref().unwrap().settings.smoothness, Smoothness::Responsive);
    }

    #[test]
    fn future_versions_and_garbage_are_refused() {
        let text = sample().to_json().unwrap().replace("\"version\":2", "\"version\":7");
        let err = Analysis::from_json(&text).unwrap_err();
        assert_eq!(err, AnalysisError::TooNew { found: 7, supported: ANALYSIS_VERSION });
        assert!(err.to_string().contains("newer version of Reframe (format 7)"), "{err}");
        assert!(matches!(Analysis::from_json("{}"), Err(AnalysisError::NotAnalysis(_))));
        assert!(matches!(Analysis::from_json("not json"), Err(AnalysisError::NotAnalysis(_))));
        assert!(matches!(Analysis::from_json("{\"version\": 2}"), Err(AnalysisError::Corrupt(_))));
        let user: crate::error::ReframeError = err.into();
        assert_eq!(user.code(), "read");
    }
}

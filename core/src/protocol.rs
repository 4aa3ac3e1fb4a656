//! Messages between the page (main thread) and the pipeline worker.
//!
//! Both sides serialise these with `serde-wasm-bindgen`. The input `File` cannot be serialised, so
//! the page posts `[ToWorker, File]` for `Start` (see ARCHITECTURE.md).

use crate::units::{AspectRatio, DurationUs, PixelRect, PixelSize, TimestampUs};
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

/// Speed/quality trade-off of the analysis (detection rate and model size).
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
}

/// Where the person detector should run. `Auto` picks WebGPU on a hardware adapter and the CPU
/// otherwise (a software WebGPU adapter such as SwiftShader is slower than the CPU backend).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DetectorBackend {
    #[default]
    Auto,
    Webgpu,
    Cpu,
}

/// Where sampled frames are scaled to the detector's input (`?preprocess=cpu|gpu` in the page
/// URL; tests and benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Preprocess {
    /// On the detector's device when that is a hardware GPU, else on the CPU.
    #[default]
    Auto,
    /// In Rust on the CPU, from the frame's copied planes (`frame_scale`).
    Cpu,
    /// As tensor ops on the detector's device from the frame's planes (`reframe_detect::planes`),
    /// whatever that device is.
    Gpu,
}

/// Which person detector the analysis runs (both ship in `models/`).
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

/// Everything the user chose that affects the output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSettings {
    pub ratio: AspectRatio,
    pub mode: CropMode,
    pub position: CropPosition,
    pub profile: Profile,
    /// Auto mode: how eagerly the camera follows.
    #[serde(default)]
    pub smoothness: crate::camera_path::Smoothness,
    /// Auto mode: which person detector finds the people.
    #[serde(default)]
    pub model: DetectorModel,
    /// Where the detector runs (`?detector=webgpu|cpu` in the page URL; tests and benchmarks).
    #[serde(default)]
    pub detector: DetectorBackend,
    /// Benchmark aid: decode every frame and stop (no crop, encode or output).
    #[serde(default)]
    pub decode_only: bool,
    /// Auto mode: the person to follow (a track id from the analysis's `people`); `None` lets
    /// Reframe choose the most prominent person in each shot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_track: Option<u32>,
    /// Test aid: seconds of video per stored chunk (`?chunk_s=` in the page URL); default
    /// `resume::CHUNK_DURATION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_seconds: Option<f64>,
    /// Benchmark aid: frames per detector run (`?detect_batch=N` in the page URL); `None`
    /// measures the sizes on this machine and keeps the fastest (`batch_tuner`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detect_batch: Option<u32>,
    /// Benchmark aid: how many helper workers run the CPU detector side by side
    /// (`?detect_workers=N` in the page URL); `Some(0)` runs it in the pipeline worker itself;
    /// `None` picks from the machine's cores (`detector_workers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detect_workers: Option<u32>,
    /// Test aid: the helper worker that gets this detection request (0-based, counted over the
    /// analysis) crashes while running it (`?crash_detector_worker_at=N` in the page URL), to
    /// check that the analysis restarts the helper and still finds every frame's people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash_detector_worker_at: Option<u32>,
    /// Where sampled frames are scaled for the detector.
    #[serde(default)]
    pub preprocess: Preprocess,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            ratio: AspectRatio::PORTRAIT_9_16,
            mode: CropMode::Fixed,
            position: CropPosition::default(),
            profile: Profile::Balanced,
            smoothness: Default::default(),
            model: DetectorModel::Fast,
            detector: DetectorBackend::Auto,
            decode_only: false,
            chunk_seconds: None,
            subject_track: None,
            detect_batch: None,
            detect_workers: None,
            crash_detector_worker_at: None,
            preprocess: Preprocess::Auto,
        }
    }
}

/// Page -> worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    /// Process the file posted next to this message. A stored unfinished job for the same file and
    /// settings is resumed; a finished one is returned as is. With `resume`, the file must be the
    /// one of that stored job (else the job fails with `wrong_file`).
    Start {
        settings: JobSettings,
        file_name: String,
        #[serde(default)]
        resume: Option<String>,
        /// The user's cache limit: finished videos beyond it are deleted, least recently used first.
        #[serde(default)]
        keep_finished_bytes: Option<u64>,
        /// An analysis file exported earlier (auto mode): used instead of analysing the video, when
        /// it matches the video.
        #[serde(default)]
        import_analysis: Option<String>,
    },
    /// Send the analysis of a stored job (answer: `AnalysisFile`).
    ExportAnalysis { job_id: String },
    /// List the stored jobs (answer: `Jobs`).
    ListJobs,
    /// Delete a stored job and its files (answer: `Jobs`).
    DeleteJob { id: String },
    /// Delete every stored job, output, analysis and the cached model (answer: `Jobs`).
    DeleteAll,
    /// Stop the running job; the worker answers `Cancelled`.
    Cancel,
}

/// How many helper workers run the CPU detector when the settings leave it open: one per core
/// the browser reports, at most 4, and none on a single core, where the pipeline worker runs it
/// itself. Each helper holds its own copy of the model and its working memory (measured: about
/// 90 MB with FAST, 145 MB with QUALITY), so a device that reports little memory
/// (`navigator.deviceMemory`, GB, rounded down by the browser; Chromium only) gets one helper
/// per 2 GB.
pub fn detector_workers(hardware_concurrency: u32, device_memory_gb: Option<f64>) -> u32 {
    if hardware_concurrency <= 1 {
        return 0;
    }
    let by_memory =
        device_memory_gb.filter(|gb| gb.is_finite() && *gb > 0.0).map_or(u32::MAX, |gb| (gb / 2.0).floor() as u32);
    hardware_concurrency.min(4).min(by_memory)
}

/// Pipeline worker -> detector helper worker (posted as `[message, ArrayBuffer]`, the buffer
/// transferred): the CPU detector runs in helper workers so that several frames are detected at
/// once on a multi-core machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToDetectorHelper {
    /// Build the detector from the weights in the buffer (already checked by their sha256).
    Load { model: DetectorModel },
    /// Detect people in `frames` RGBA images of `width` x `height` pixels, one after the other
    /// in the buffer. `crash`: test aid, the helper crashes (panics) instead of answering, as a
    /// helper that runs out of memory would (see `JobSettings::crash_detector_worker_at`).
    Detect {
        width: u32,
        height: u32,
        frames: u32,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        crash: bool,
    },
}

/// Detector helper worker -> pipeline worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromDetectorHelper {
    /// The helper's wasm is loaded and it accepts requests (sent once, unasked).
    Ready,
    Loaded,
    /// One list per frame of the `Detect` request: `[x, y, width, height, score]` in pixels of
    /// the sent images.
    Boxes {
        boxes: Vec<Vec<[f32; 5]>>,
    },
    Failed {
        message: String,
    },
}

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

/// What the worker learnt about the input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub file_name: String,
    pub file_bytes: u64,
    pub video_codec: String,
    /// Size of the decoded frames (before rotation).
    pub coded_size: PixelSize,
    /// Size as shown, after the rotation metadata.
    pub display_size: PixelSize,
    pub rotation_degrees: u32,
    pub frames: u64,
    pub duration_us: i64,
    pub audio_codec: Option<String>,
}

/// Progress of the running job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub stage: Stage,
    pub frames_done: u64,
    pub frames_total: u64,
    /// Frames per second over the stage so far.
    pub fps: f64,
    /// Estimated seconds left, when it can be estimated.
    pub eta_s: Option<f64>,
    /// A detail for the user (e.g. the model download, or where the detector runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The crop window of one output frame, in display-orientation pixels of the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CropPathEntry {
    pub timestamp_us: TimestampUs,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl CropPathEntry {
    pub fn new(timestamp_us: TimestampUs, r: PixelRect) -> Self {
        CropPathEntry { timestamp_us, x: r.x, y: r.y, width: r.width, height: r.height }
    }
}

/// Seconds spent in one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTime {
    pub stage: Stage,
    pub seconds: f64,
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
    /// Whether the decoder ran with hardware acceleration preferred.
    pub hardware_decode: bool,
    pub crop_path: Vec<CropPathEntry>,
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
    pub detections: Vec<crate::track::Detection>,
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
    pub batch_trials: Vec<crate::batch_tuner::BatchTrial>,
    /// The people the user can choose to follow.
    #[serde(default)]
    pub people: Vec<crate::analysis::PersonSummary>,
    /// The person followed when the user chose one.
    #[serde(default)]
    pub subject_track: Option<u32>,
}

/// Worker -> page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker's wasm is loaded and it accepts `Start`.
    Ready,
    Probed {
        source: SourceInfo,
    },
    /// The job's key, and what was reused from storage when it was resumed.
    Started {
        job_id: String,
        resumed: Option<ResumeInfo>,
    },
    Progress {
        progress: Progress,
    },
    Done {
        summary: JobSummary,
    },
    Failed {
        error: crate::error::UserError,
    },
    Cancelled,
    /// Something the user should know that does not stop a job (e.g. a delete was refused).
    Notice {
        message: String,
    },
    /// A job's analysis as a versioned JSON file, for the user to keep.
    AnalysisFile {
        file_name: String,
        json: String,
    },
    /// The stored jobs, most recent first.
    Jobs {
        jobs: Vec<crate::job::JobListEntry>,
    },
}

/// Where a resumed job picks up its work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResumeInfo {
    /// First frame the analysis does again (`None`: the analysis was complete and is reused).
    pub analysis_from_frame: Option<u64>,
    /// First frame encoded again (`frames_total` when every segment was stored).
    pub encode_from_frame: u64,
    /// Stored chunks found damaged and redone.
    pub damaged_chunks: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detector_workers_one_per_core_up_to_four_none_on_one_core() {
        let got: Vec<u32> = [0, 1, 2, 3, 4, 8, 64].iter().map(|&cores| detector_workers(cores, None)).collect();
        assert_eq!(got, vec![0, 0, 2, 3, 4, 4, 4]);
        // Little memory: one per 2 GB (the browser reports 0.25 to 8).
        let got: Vec<u32> = [0.25, 1.0, 2.0, 4.0, 8.0].iter().map(|&gb| detector_workers(8, Some(gb))).collect();
        assert_eq!(got, vec![0, 0, 1, 2, 4]);
        assert_eq!(detector_workers(2, Some(8.0)), 2, "the cores still limit");
        assert_eq!(detector_workers(4, Some(f64::NAN)), 4, "an unreadable figure is ignored");
    }

    #[test]
    fn detector_helper_messages_are_tagged_json() {
        let load = ToDetectorHelper::Load { model: DetectorModel::Quality };
        let json = serde_json::to_string(&load).unwrap();
        assert_eq!(json, r#"{"type":"load","model":"quality"}"#);
        assert_eq!(serde_json::from_str::<ToDetectorHelper>(&json).unwrap(), load);
        let boxes = FromDetectorHelper::Boxes { boxes: vec![vec![[1.0, 2.0, 3.0, 4.0, 0.5]], vec![]] };
        let json = serde_json::to_string(&boxes).unwrap();
        assert_eq!(json, r#"{"type":"boxes","boxes":[[[1.0,2.0,3.0,4.0,0.5]],[]]}"#);
        assert_eq!(serde_json::from_str::<FromDetectorHelper>(&json).unwrap(), boxes);
        // The test aid travels only when set.
        let detect = ToDetectorHelper::Detect { width: 300, height: 300, frames: 2, crash: false };
        let json = serde_json::to_string(&detect).unwrap();
        assert_eq!(json, r#"{"type":"detect","width":300,"height":300,"frames":2}"#);
        assert_eq!(serde_json::from_str::<ToDetectorHelper>(&json).unwrap(), detect);
        let crash = ToDetectorHelper::Detect { width: 300, height: 300, frames: 2, crash: true };
        let json = serde_json::to_string(&crash).unwrap();
        assert_eq!(json, r#"{"type":"detect","width":300,"height":300,"frames":2,"crash":true}"#);
        assert_eq!(serde_json::from_str::<ToDetectorHelper>(&json).unwrap(), crash);
    }
}

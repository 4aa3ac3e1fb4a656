//! The messages: page <-> pipeline worker, and pipeline worker <-> detector workers.
//!
//! Only the envelope lives here; what the messages carry has its own home below this module
//! ([`crate::settings`], [`crate::test_aids`], [`crate::summary`], [`crate::job`]). Both sides
//! serialise these with `serde-wasm-bindgen`. The input `File` cannot be serialised, so the page
//! posts `[ToWorker, File, handle?]` for `Start` (see ARCHITECTURE.md).

use crate::analysis::Edits;
use crate::error::UserError;
use crate::frame_scale::{PixelLayout, Plane, YuvColor};
use crate::job::JobListEntry;
use crate::settings::{DetectorModel, JobSettings};
use crate::summary::{JobSummary, Stage};
use crate::test_aids::{DetectorBackend, Preprocess, TestAids};
use crate::track::{Face, PersonBox};
use crate::units::{AspectRatio, PixelSize, Rotation};
use serde::{Deserialize, Serialize};

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
        /// More outputs of the same export, one per ratio (each its own stored job, with these
        /// settings for that ratio: `JobSettings::for_ratio`), from one decode of the source.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        more_ratios: Vec<AspectRatio>,
        /// Test and benchmark switches from the page's URL query (not part of the job's key).
        #[serde(default)]
        test_aids: TestAids,
    },
    /// Look up the stored analysis of the file posted next to this message, for these settings'
    /// profile and model (answer: `Probed`, then `Analysed` when there is one; nothing on failure).
    Open { settings: JobSettings, file_name: String },
    /// Send the analysis of a stored job (answer: `AnalysisFile`).
    ExportAnalysis { job_id: String },
    /// Keep the editor's edits with a stored analysis (no answer; a failure is a `Notice`).
    SaveEdits { analysis_id: String, edits: Edits },
    /// List the stored jobs (answer: `Jobs`).
    ListJobs,
    /// Delete a stored job and its files (answer: `Jobs`).
    DeleteJob { id: String },
    /// Delete every stored job, output, analysis and the cached model (answer: `Jobs`).
    DeleteAll,
    /// Stop the running job; the worker answers `Cancelled`.
    Cancel,
}

/// Pipeline worker -> detector worker (posted as `[message, ArrayBuffer]`, the buffer
/// transferred). The detectors (burn) live in their own worker and wasm, started only when a job
/// needs people found; on the CPU several run side by side, one frame batch each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToDetector {
    /// Build the person detector from the buffer's first `person_bytes` and the face detector
    /// from the rest (both already checked by their sha256), on the device `backend` asks for
    /// (WebGPU is probed in the detector worker). `coded`, `display` and `rotation` describe the
    /// job's frames: answers are in `display` pixels. Answer: `Loaded`.
    Load {
        model: DetectorModel,
        person_bytes: u32,
        backend: DetectorBackend,
        preprocess: Preprocess,
        coded: PixelSize,
        display: PixelSize,
        rotation: Rotation,
    },
    /// People and faces on sampled frames. The buffer holds each frame's person-detector input
    /// (as `inputs` describes), then each frame's face image (upright RGBA at the `Loaded`
    /// `face_input` size). `crash`: test aid, the worker crashes (panics) instead of answering,
    /// as one that runs out of memory would (see `TestAids::crash_detector_worker_at`).
    /// Answer: `Found`.
    Detect {
        inputs: Vec<DetectorInputShape>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        crash: bool,
    },
}

/// How one sampled frame's person-detector input lies in a `Detect` buffer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum DetectorInputShape {
    /// Upright RGBA at the detector's input size (`Loaded::input_size`), scaled by the pipeline
    /// worker.
    Rgba,
    /// The decoded frame's planes as `VideoFrame.copyTo` laid them out (`bytes` long), to be
    /// scaled on the detector's device.
    Planes { layout: PixelLayout, size: PixelSize, planes: Vec<Plane>, color: YuvColor, bytes: u32 },
}

/// Where a detector worker's device computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorDevice {
    Cpu,
    /// A WebGPU adapter that emulates a GPU on the CPU (SwiftShader), asked for explicitly.
    SoftwareGpu,
    HardwareGpu,
}

/// What a detector worker built, in its `Loaded` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorInfo {
    /// Where the person detector runs, for the user and the report: "webgpu (…adapter…)" or
    /// "cpu (…why…)".
    pub backend: String,
    pub device: DetectorDevice,
    /// Whether sampled frames should come as their planes (`DetectorInputShape::Planes`).
    pub planes_on_device: bool,
    /// Where sampled frames are scaled, for the user and the report.
    pub preprocess: String,
    /// The person detector's input size (RGBA inputs come at this size).
    pub input_size: PixelSize,
    /// The face detector's upright input size for the job's frames.
    pub face_input: PixelSize,
    /// The most frames of the job's size that can go to the device as planes in one request.
    pub device_batch: u32,
}

/// Detector worker -> pipeline worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromDetector {
    /// The worker's wasm is loaded and it accepts requests (sent once, unasked).
    Ready,
    /// The detectors are built.
    Loaded(DetectorInfo),
    /// One entry per frame of the `Detect` request, in display pixels.
    Found {
        people: Vec<Vec<PersonBox>>,
        faces: Vec<Vec<Face>>,
        /// Frames of the request scaled on the detector's device (the rest on the CPU).
        scaled_on_device: u32,
    },
    /// The request failed (unreadable, weights that do not build a model, detection failed).
    Failed { message: String },
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
    /// The container's common name ("MP4", "fragmented MP4", "WebM", "Matroska").
    #[serde(default)]
    pub container: String,
    /// What the user should know about how the file is read (a silent output, a file cut
    /// short, damaged parts skipped), in plain sentences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
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
    /// Bytes of the pipeline worker's wasm memory (it only grows: its peak so far), for the
    /// memory benchmarks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_memory_bytes: Option<u64>,
}

impl Progress {
    /// How far the whole job is, 0..1: in auto mode the analysis is the first half and the
    /// encoding the second; `None` while nothing is counted yet (reading, loading the model).
    pub fn overall(&self, auto: bool) -> Option<f64> {
        let f = if self.frames_total > 0 { (self.frames_done as f64 / self.frames_total as f64).min(1.0) } else { 0.0 };
        match (self.stage, auto) {
            (Stage::Finishing, _) => Some(1.0),
            (Stage::Analysing, true) => Some(0.5 * f),
            (Stage::Processing, true) => Some(0.5 + 0.5 * f),
            (Stage::Processing, false) => Some(f),
            _ => None,
        }
    }
}

/// Worker -> page.
// `Done` carries the whole summary; a message is made, serialised and dropped, never stored in
// bulk, so its size does not matter.
#[allow(clippy::large_enum_variant)]
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
    /// The export is finished: `summary` is its first ratio's output, `more` the other ratios'
    /// (`ToWorker::Start::more_ratios`), in the order asked.
    Done {
        summary: JobSummary,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        more: Vec<JobSummary>,
    },
    Failed {
        error: UserError,
    },
    Cancelled,
    /// Something the user should know that does not stop a job (e.g. a delete was refused).
    Notice {
        message: String,
    },
    /// The running job's analysis, as soon as it exists (before the encode; at once when it was
    /// stored or imported), as the analysis JSON: the page's editor plans from it.
    Analysed {
        job_id: String,
        analysis_id: String,
        json: String,
    },
    /// A job's analysis as a versioned JSON file, for the user to keep.
    AnalysisFile {
        file_name: String,
        json: String,
    },
    /// The stored jobs, most recent first.
    Jobs {
        jobs: Vec<JobListEntry>,
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
    fn overall_progress_gives_auto_modes_analysis_the_first_half() {
        let p = |stage, done| Progress {
            stage,
            frames_done: done,
            frames_total: 200,
            fps: 0.0,
            eta_s: None,
            detail: None,
            worker_memory_bytes: None,
        };
        assert_eq!(p(Stage::Analysing, 100).overall(true), Some(0.25));
        assert_eq!(p(Stage::Processing, 100).overall(true), Some(0.75));
        assert_eq!(p(Stage::Processing, 100).overall(false), Some(0.5));
        assert_eq!(p(Stage::Finishing, 0).overall(false), Some(1.0));
        assert_eq!(p(Stage::LoadingModel, 0).overall(true), None);
        assert_eq!(p(Stage::Reading, 0).overall(false), None);
    }

    #[test]
    fn detector_messages_are_tagged_json() {
        let load = ToDetector::Load {
            model: DetectorModel::Quality,
            person_bytes: 10,
            backend: DetectorBackend::Auto,
            preprocess: Preprocess::Auto,
            coded: PixelSize::new(1920, 1080),
            display: PixelSize::new(1920, 1080),
            rotation: Rotation::R0,
        };
        let json = serde_json::to_string(&load).unwrap();
        assert!(json.starts_with(r#"{"type":"load","model":"quality","person_bytes":10,"backend":"auto""#), "{json}");
        assert_eq!(serde_json::from_str::<ToDetector>(&json).unwrap(), load);
        // The test aid travels only when set.
        let planes = DetectorInputShape::Planes {
            layout: PixelLayout::Nv12,
            size: PixelSize::new(4, 2),
            planes: vec![Plane { offset: 0, stride: 4 }, Plane { offset: 8, stride: 4 }],
            color: YuvColor::BT709,
            bytes: 12,
        };
        let detect = ToDetector::Detect { inputs: vec![DetectorInputShape::Rgba, planes], crash: false };
        let json = serde_json::to_string(&detect).unwrap();
        assert!(json.starts_with(r#"{"type":"detect","inputs":[{"form":"rgba"},{"form":"planes","layout":"nv12""#));
        assert!(!json.contains("crash"), "{json}");
        assert_eq!(serde_json::from_str::<ToDetector>(&json).unwrap(), detect);
        let crash = ToDetector::Detect { inputs: vec![], crash: true };
        let json = serde_json::to_string(&crash).unwrap();
        assert_eq!(json, r#"{"type":"detect","inputs":[],"crash":true}"#);
        let found = FromDetector::Found {
            people: vec![vec![PersonBox::new(1.0, 2.0, 3.0, 4.0, 0.5)], vec![]],
            faces: vec![vec![], vec![]],
            scaled_on_device: 0,
        };
        let json = serde_json::to_string(&found).unwrap();
        assert_eq!(serde_json::from_str::<FromDetector>(&json).unwrap(), found);
        let failed = FromDetector::Failed { message: "bad bytes".into() };
        let json = serde_json::to_string(&failed).unwrap();
        assert_eq!(json, r#"{"type":"failed","message":"bad bytes"}"#);
    }
}

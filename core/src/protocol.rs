//! The messages: page <-> pipeline worker, and pipeline worker <-> detector helper workers.
//!
//! Only the envelope lives here; what the messages carry has its own home below this module
//! ([`crate::settings`], [`crate::test_aids`], [`crate::summary`], [`crate::job`]). Both sides
//! serialise these with `serde-wasm-bindgen`. The input `File` cannot be serialised, so the page
//! posts `[ToWorker, File, handle?]` for `Start` (see ARCHITECTURE.md).

use crate::analysis::Edits;
use crate::error::UserError;
use crate::job::JobListEntry;
use crate::settings::{DetectorModel, JobSettings};
use crate::summary::{JobSummary, Stage};
use crate::test_aids::TestAids;
use crate::units::{AspectRatio, PixelSize};
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
    /// helper that runs out of memory would (see `TestAids::crash_detector_worker_at`).
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

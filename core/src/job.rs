//! A job as stored (IndexedDB store `jobs`): which file, which settings, how far it got, and where
//! its output is. The storage schema is described in ARCHITECTURE.md; [`JOB_SCHEMA`] versions it.

use crate::fingerprint::FileFingerprint;
use crate::settings::{CropMode, JobSettings};
use crate::summary::JobSummary;
use serde::{Deserialize, Serialize};

/// Version of the job record. A record with a higher schema is from a newer Reframe and is left
/// alone (listed, not resumed); older ones are migrated when read (none yet: this is the first).
pub const JOB_SCHEMA: u32 = 1;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStage {
    /// Finding people (auto mode); chunks of the analysis are stored as they complete.
    Analysing,
    /// Cropping and encoding; output segments are stored as they complete.
    Encoding,
    /// Assembling the MP4 from the segments.
    Finishing,
    /// The MP4 is in OPFS at `output_path`.
    Done,
}

/// One job, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub schema: u32,
    pub id: String,
    /// The analysis this job uses (auto mode), shared with other jobs on the same file.
    pub analysis_id: Option<String>,
    pub file: FileFingerprint,
    pub settings: JobSettings,
    pub stage: JobStage,
    pub frames_total: u64,
    /// Frames per chunk (analysis chunk and output segment).
    pub chunk_frames: u64,
    pub chunks: u64,
    /// Analysis chunks stored (auto mode).
    pub analysis_chunks_done: u64,
    /// Output segments stored.
    pub segments_done: u64,
    /// Bytes of the segments and output in OPFS.
    pub stored_bytes: u64,
    /// Path of the finished MP4 in OPFS.
    pub output_path: Option<String>,
    pub download_name: String,
    pub created_ms: f64,
    pub updated_ms: f64,
    /// The finished job's summary, without the per-frame lists (kept in their own records).
    pub summary: Option<JobSummary>,
}

impl JobRecord {
    /// Share of the work done, 0..1 (auto mode: the analysis is the first half).
    pub fn progress(&self) -> f64 {
        if self.stage == JobStage::Done {
            return 1.0;
        }
        let chunks = self.chunks.max(1) as f64;
        let encoded = self.segments_done as f64 / chunks;
        match self.settings.mode {
            CropMode::Fixed => encoded,
            CropMode::Auto => {
                let analysed =
                    if self.stage == JobStage::Analysing { self.analysis_chunks_done as f64 / chunks } else { 1.0 };
                0.5 * analysed + 0.5 * encoded
            }
        }
    }

    /// The entry the page lists.
    pub fn list_entry(&self) -> JobListEntry {
        JobListEntry {
            id: self.id.clone(),
            file_name: self.file.name.clone(),
            file_bytes: self.file.size,
            settings: self.settings.clone(),
            stage: self.stage,
            progress: self.progress(),
            stored_bytes: self.stored_bytes,
            output_path: self.output_path.clone(),
            download_name: self.download_name.clone(),
            updated_ms: self.updated_ms,
            resumable: self.schema <= JOB_SCHEMA,
        }
    }
}

/// A job as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobListEntry {
    pub id: String,
    pub file_name: String,
    pub file_bytes: u64,
    pub settings: JobSettings,
    pub stage: JobStage,
    pub progress: f64,
    pub stored_bytes: u64,
    pub output_path: Option<String>,
    pub download_name: String,
    pub updated_ms: f64,
    /// False for a job stored by a newer Reframe.
    pub resumable: bool,
}

/// The finished jobs to delete, least recently used first, so that finished outputs take at most
/// `keep_bytes` (the user's cache limit). Unfinished jobs and `except` are never chosen.
pub fn evictions(jobs: &[JobRecord], keep_bytes: u64, except: &str) -> Vec<String> {
    let mut done: Vec<&JobRecord> = jobs.iter().filter(|j| j.stage == JobStage::Done && j.id != except).collect();
    done.sort_by(|a, b| a.updated_ms.total_cmp(&b.updated_ms));
    let mut total: u64 = done.iter().map(|j| j.stored_bytes).sum();
    let mut out = Vec::new();
    for j in done {
        if total <= keep_bytes {
            break;
        }
        total -= j.stored_bytes;
        out.push(j.id.clone());
    }
    out
}

/// A job record for tests: 1000 frames in 10 chunks of 100.
#[cfg(test)]
pub(crate) fn test_record(mode: CropMode, stage: JobStage, analysed: u64, segments: u64) -> JobRecord {
    JobRecord {
        schema: JOB_SCHEMA,
        id: "job-1".into(),
        analysis_id: None,
        file: FileFingerprint { name: "a.mp4".into(), size: 10, last_modified_ms: 0.0, content_hash: "0".into() },
        settings: JobSettings { mode, ..JobSettings::default() },
        stage,
        frames_total: 1000,
        chunk_frames: 100,
        chunks: 10,
        analysis_chunks_done: analysed,
        segments_done: segments,
        stored_bytes: 0,
        output_path: None,
        download_name: "a-9x16.mp4".into(),
        created_ms: 0.0,
        updated_ms: 0.0,
        summary: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(mode: CropMode, stage: JobStage, analysed: u64, segments: u64) -> JobRecord {
        test_record(mode, stage, analysed, segments)
    }

    #[test]
    fn progress_counts_both_passes_in_auto_mode() {
        assert_eq!(record(CropMode::Fixed, JobStage::Encoding, 0, 5).progress(), 0.5);
        assert_eq!(record(CropMode::Auto, JobStage::Analysing, 5, 0).progress(), 0.25);
        assert_eq!(record(CropMode::Auto, JobStage::Encoding, 10, 5).progress(), 0.75);
        assert_eq!(record(CropMode::Auto, JobStage::Done, 10, 10).progress(), 1.0);
    }

    #[test]
    fn the_least_recently_used_finished_jobs_go_first() {
        let mk = |id: &str, stage, bytes, t| JobRecord {
            id: id.into(),
            stored_bytes: bytes,
            updated_ms: t,
            ..record(CropMode::Fixed, stage, 0, 0)
        };
        let jobs = vec![
            mk("old", JobStage::Done, 500, 1.0),
            mk("new", JobStage::Done, 500, 3.0),
            mk("mid", JobStage::Done, 500, 2.0),
            mk("running", JobStage::Encoding, 5000, 0.0),
        ];
        assert_eq!(evictions(&jobs, 1500, ""), Vec::<String>::new());
        assert_eq!(evictions(&jobs, 1000, ""), vec!["old"]);
        assert_eq!(evictions(&jobs, 600, ""), vec!["old", "mid"]);
        assert_eq!(evictions(&jobs, 0, "new"), vec!["old", "mid"]);
    }

    #[test]
    fn records_survive_json_and_newer_schemas_are_not_resumable() {
        let r = record(CropMode::Auto, JobStage::Encoding, 10, 3);
        let back: JobRecord = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        assert!(r.list_entry().resumable);
        let newer = JobRecord { schema: JOB_SCHEMA + 1, ..r };
        assert!(!newer.list_entry().resumable);
    }
}

//! Splitting a job into chunks that can be done, stored and redone independently.
//!
//! A video of `frames` shown frames is cut into chunks of [`ChunkLayout::chunk_frames`] frames
//! (about [`CHUNK_DURATION`] of video). The analysis stores one record per chunk, the encoder writes
//! one output segment per chunk (each starting on a keyframe, from a fresh encoder, so a segment
//! encoded after a reload is the same as one encoded in a single run). After a reload only the
//! chunks without a sound record are done again: [`runs_to_do`] groups them into runs, and
//! [`samples_for_frames`] says which samples to feed the decoder for a run (from the keyframe
//! before it, so that every frame of the run decodes exactly as in a single run).
//!
//! Which frames the detector sees depends only on their timestamps ([`is_analysed`]) and on the
//! frames of their own chunk (`crate::sampling`), so a resumed analysis samples the same frames
//! as an uninterrupted one.
//!
//! What is stored is checked here before it is reused: [`resumable`] (the job record),
//! [`EncodeResume`] (output segments and their files), [`AnalysisResume`] (analysis chunks).
//! Anything that does not fit the layout is counted as damaged and done again.

use crate::demux::VideoTrack;
use crate::job::{JobRecord, JobStage, JOB_SCHEMA};
use crate::records::{AnalysisChunk, SegmentIndex};
use crate::units::{DurationUs, TimestampUs};
use std::collections::BTreeMap;
use std::ops::Range;

/// Video per chunk: a reload loses at most this much work (per pass).
pub const CHUNK_DURATION: DurationUs = DurationUs(10_000_000);

/// How a video's frames are cut into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLayout {
    pub chunk_frames: u64,
    pub frames: u64,
}

impl ChunkLayout {
    /// Chunks of about `chunk` of video, for `frames` frames lasting `duration`.
    pub fn new(frames: u64, duration: DurationUs, chunk: DurationUs) -> ChunkLayout {
        let fps = frames as f64 / duration.seconds().max(1e-3);
        let chunk_frames = (fps * chunk.seconds()).round().max(1.0) as u64;
        ChunkLayout { chunk_frames, frames }
    }

    pub fn count(&self) -> u64 {
        self.frames.div_ceil(self.chunk_frames)
    }

    pub fn chunk_of(&self, frame: u64) -> u64 {
        frame / self.chunk_frames
    }

    /// Frames of chunk `chunk`.
    pub fn range(&self, chunk: u64) -> Range<u64> {
        let start = chunk * self.chunk_frames;
        start.min(self.frames)..(start + self.chunk_frames).min(self.frames)
    }

    /// Frames of the chunks `chunks`.
    pub fn frames_of(&self, chunks: &Range<u64>) -> Range<u64> {
        self.range(chunks.start).start..self.range(chunks.end.saturating_sub(1)).end
    }
}

/// Runs of consecutive chunks still to do (`done[i]`: chunk `i` is stored and sound).
pub fn runs_to_do(done: &[bool]) -> Vec<Range<u64>> {
    let mut runs: Vec<Range<u64>> = Vec::new();
    for (i, _) in done.iter().enumerate().filter(|(_, d)| !**d) {
        let i = i as u64;
        match runs.last_mut() {
            Some(r) if r.end == i => r.end = i + 1,
            _ => runs.push(i..i + 1),
        }
    }
    runs
}

/// The runs of chunks any of several outputs still has to do (each output's runs as
/// [`runs_to_do`] gives them): one export decodes each run once for all its outputs.
pub fn union_of_runs(outputs: &[Vec<Range<u64>>]) -> Vec<Range<u64>> {
    let mut all: Vec<Range<u64>> = outputs.iter().flatten().filter(|&r| !r.is_empty()).cloned().collect();
    all.sort_by_key(|r| r.start);
    let mut runs: Vec<Range<u64>> = Vec::new();
    for r in all {
        match runs.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => runs.push(r),
        }
    }
    runs
}

/// The presentation index (position among the shown frames) of each sample, in decode order;
/// `None` for samples outside the edit list.
pub fn presentation_indices(track: &VideoTrack, shown: &[TimestampUs]) -> Vec<Option<u64>> {
    track
        .samples
        .iter()
        .map(|s| {
            if !track.is_shown(s) {
                return None;
            }
            shown.binary_search(&track.presentation_time(s)).ok().map(|i| i as u64)
        })
        .collect()
}

/// The samples (decode order) to feed so that shown frames `frames` all come out of the decoder
/// exactly as in a run from the start: from a keyframe at or before the first sample they need,
/// one keyframe earlier when that keyframe has leading pictures (open GOP), to the last sample
/// showing one of them. Empty when no sample shows a frame of `frames`.
pub fn samples_for_frames(track: &VideoTrack, pres: &[Option<u64>], frames: Range<u64>) -> Range<usize> {
    let needed = pres.iter().enumerate().filter(|(_, p)| p.is_some_and(|p| frames.contains(&p))).map(|(i, _)| i);
    let (mut first, mut last) = (usize::MAX, 0usize);
    for i in needed {
        first = first.min(i);
        last = last.max(i);
    }
    if first == usize::MAX {
        return 0..0;
    }
    let s = &track.samples;
    let keys: Vec<usize> = (0..=first).filter(|&i| s[i].keyframe).collect();
    let Some(&key) = keys.last() else { return 0..last + 1 };
    let next_key = (key + 1..s.len()).find(|&i| s[i].keyframe).unwrap_or(s.len());
    let has_leading = (key + 1..next_key).any(|i| s[i].cts < s[key].cts);
    let start = if has_leading && keys.len() >= 2 { keys[keys.len() - 2] } else { key };
    start..last + 1
}

/// Whether shown frame `i` goes to the detector: the first frame of each `interval` of the
/// timeline (so the choice depends on timestamps only, and a resumed analysis picks the same).
pub fn is_analysed(shown: &[TimestampUs], i: usize, interval: DurationUs) -> bool {
    let step = interval.0.max(1);
    i == 0 || shown[i].0.div_euclid(step) != shown[i - 1].0.div_euclid(step)
}

/// Whether a stored job record can be resumed for a video of `layout`: written by this version
/// or an older one, cut into the same chunks, and not finished.
pub fn resumable(record: &JobRecord, layout: ChunkLayout) -> bool {
    record.schema <= JOB_SCHEMA
        && record.frames_total == layout.frames
        && record.chunk_frames == layout.chunk_frames
        && record.stage != JobStage::Done
}

/// Whether a stored job's crop path is to be read back: an auto job whose analysis finished
/// (a fixed crop is recomputed; an analysing job has none yet).
pub fn crop_path_stored(record: &JobRecord) -> bool {
    record.analysis_id.is_some() && record.stage != JobStage::Analysing
}

/// What is left of the encoding pass, from the output segments found stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodeResume {
    /// The sound segments, kept.
    pub segments: Vec<SegmentIndex>,
    /// Runs of chunks whose segments are still to encode.
    pub runs: Vec<Range<u64>>,
    /// Stored segments that were unsound (and are encoded again).
    pub damaged: u64,
}

impl EncodeResume {
    /// Sorts the stored segments into sound ones and the rest. Each comes with the size of its
    /// file (`None`: the file is missing). A segment is sound when it is cut as `layout` cuts,
    /// has one sample per frame, and its file holds exactly its samples' bytes.
    pub fn new(layout: ChunkLayout, stored: Vec<(SegmentIndex, Option<u64>)>) -> EncodeResume {
        let mut segments: Vec<SegmentIndex> = Vec::new();
        let mut damaged = 0;
        for (s, file_bytes) in stored {
            let sound = s.index < layout.count()
                && layout.range(s.index) == (s.first_frame..s.end_frame)
                && s.samples.len() as u64 == s.end_frame - s.first_frame
                && file_bytes == Some(s.file_bytes())
                && !segments.iter().any(|k| k.index == s.index);
            if sound {
                segments.push(s);
            } else {
                damaged += 1;
            }
        }
        let done: Vec<bool> = (0..layout.count()).map(|c| segments.iter().any(|s| s.index == c)).collect();
        EncodeResume { runs: runs_to_do(&done), segments, damaged }
    }

    /// The first frame encoded again (`layout.frames` when every segment is stored).
    pub fn first_frame(&self, layout: ChunkLayout) -> u64 {
        self.runs.first().map(|r| layout.range(r.start).start).unwrap_or(layout.frames)
    }

    /// Frames already in sound segments.
    pub fn frames_done(&self) -> u64 {
        self.segments.iter().map(|s| s.end_frame - s.first_frame).sum()
    }

    /// Bytes of the sound segments' files.
    pub fn stored_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.file_bytes()).sum()
    }
}

/// What is left of the analysis pass, from the analysis chunks found stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AnalysisResume {
    /// The sound chunks, by chunk index.
    pub chunks: BTreeMap<u64, AnalysisChunk>,
    /// Stored chunks that were unsound (or cut for another chunk size) and are redone.
    pub damaged: u64,
}

impl AnalysisResume {
    /// Keeps the chunks cut as `layout` cuts with one shot record per frame.
    pub fn new(layout: ChunkLayout, stored: Vec<AnalysisChunk>) -> AnalysisResume {
        let mut chunks = BTreeMap::new();
        let mut damaged = 0;
        for c in stored {
            let sound = c.index < layout.count()
                && layout.range(c.index) == (c.first_frame..c.end_frame)
                && c.shots.len() as u64 == c.end_frame - c.first_frame
                && !chunks.contains_key(&c.index);
            if sound {
                chunks.insert(c.index, c);
            } else {
                damaged += 1;
            }
        }
        AnalysisResume { chunks, damaged }
    }

    /// Runs of chunks still to analyse.
    pub fn runs(&self, layout: ChunkLayout) -> Vec<Range<u64>> {
        let done: Vec<bool> = (0..layout.count()).map(|c| self.chunks.contains_key(&c)).collect();
        runs_to_do(&done)
    }

    /// The first frame of the first chunk not stored (`None` when all are).
    pub fn first_missing(&self, layout: ChunkLayout) -> Option<u64> {
        (0..layout.count()).find(|c| !self.chunks.contains_key(c)).map(|c| layout.range(c).start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::single_range_in_vec_init)] // runs of chunks: a list of ranges, one or more
    fn outputs_share_the_decode_of_every_chunk_any_of_them_needs() {
        assert_eq!(union_of_runs(&[]), Vec::<Range<u64>>::new());
        assert_eq!(union_of_runs(&[vec![0..3], vec![]]), vec![0..3]);
        assert_eq!(union_of_runs(&[vec![0..2, 5..6], vec![1..3], vec![3..4, 8..9]]), vec![0..4, 5..6, 8..9]);
        assert_eq!(union_of_runs(&[vec![4..6], vec![0..1, 2..5]]), vec![0..1, 2..6]);
    }
    use crate::demux::{EditWindow, Sample, VideoCodecConfig};
    use crate::mux::VideoEncoding;
    use crate::records::SegmentSample;
    use crate::settings::CropMode;
    use crate::shots::FrameRecord;
    use crate::units::{PixelSize, Rotation};

    /// A track whose samples have the given (cts, keyframe), decode order, 1 tick = 1 ms.
    fn track(samples: &[(i64, bool)]) -> VideoTrack {
        VideoTrack {
            track_id: 1,
            timescale: 1000,
            config: VideoCodecConfig { codec: "avc1.64001f".into(), description: None },
            coded_size: PixelSize::new(64, 64),
            rotation: Rotation::R0,
            edit: EditWindow { media_start: 0, media_end: None, delay: DurationUs(0) },
            samples: samples
                .iter()
                .enumerate()
                .map(|(i, &(cts, keyframe))| Sample {
                    offset: i as u64 * 10,
                    size: 10,
                    dts: i as i64 * 40,
                    cts,
                    duration: 40,
                    keyframe,
                })
                .collect(),
        }
    }

    #[test]
    fn chunks_cover_every_frame_once() {
        let l = ChunkLayout::new(795, DurationUs(79_500_000), CHUNK_DURATION);
        assert_eq!(l.chunk_frames, 100);
        assert_eq!(l.count(), 8);
        assert_eq!(l.range(7), 700..795);
        assert_eq!(l.chunk_of(799), 7);
        assert_eq!(l.frames_of(&(2..4)), 200..400);
        let total: u64 = (0..l.count()).map(|c| l.range(c).end - l.range(c).start).sum();
        assert_eq!(total, 795);
        assert_eq!(ChunkLayout::new(3, DurationUs(100_000), CHUNK_DURATION).count(), 1);
    }

    #[test]
    fn runs_group_missing_chunks() {
        assert_eq!(runs_to_do(&[true, false, false, true, false]), vec![1..3, 4..5]);
        assert!(runs_to_do(&[true, true]).is_empty());
        assert_eq!(runs_to_do(&[false, false]), vec![0..2]);
    }

    #[test]
    fn decoding_starts_at_the_keyframe_before_the_frames() {
        // I P P P | I P P P, no reordering.
        let t = track(&[
            (0, true),
            (40, false),
            (80, false),
            (120, false),
            (160, true),
            (200, false),
            (240, false),
            (280, false),
        ]);
        let shown = t.shown_timestamps();
        let pres = presentation_indices(&t, &shown);
        assert_eq!(samples_for_frames(&t, &pres, 5..7), 4..7);
        assert_eq!(samples_for_frames(&t, &pres, 3..5), 0..5);
        assert_eq!(samples_for_frames(&t, &pres, 0..8), 0..8);
        assert_eq!(samples_for_frames(&t, &pres, 8..9), 0..0);
    }

    #[test]
    fn b_frames_and_open_gops_start_one_keyframe_earlier() {
        // Decode order: I0 P3 B1 B2 | I6 B4 B5 P9 B7 B8 (the second I has leading B4, B5).
        let ms = |f: i64| f * 40;
        let t = track(&[
            (ms(0), true),
            (ms(3), false),
            (ms(1), false),
            (ms(2), false),
            (ms(6), true),
            (ms(4), false),
            (ms(5), false),
            (ms(9), false),
            (ms(7), false),
            (ms(8), false),
        ]);
        let shown = t.shown_timestamps();
        let pres = presentation_indices(&t, &shown);
        // Frame 6 onwards: first needed sample is I6 (index 4), which has leading pictures.
        assert_eq!(samples_for_frames(&t, &pres, 6..10), 0..10);
        // Frames 1..3 end with B2 (index 3), start at I0.
        assert_eq!(samples_for_frames(&t, &pres, 1..3), 0..4);
    }

    #[test]
    fn analysed_frames_depend_on_timestamps_only() {
        let shown: Vec<TimestampUs> = (0..90).map(|i| TimestampUs(i * 33_333)).collect();
        let picked: Vec<usize> = (0..90).filter(|&i| is_analysed(&shown, i, DurationUs(166_667))).collect();
        assert_eq!(picked.len(), 18);
        assert_eq!(&picked[..3], &[0, 6, 11]);
        let gaps: Vec<usize> = picked.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|&g| g == 5 || g == 6), "{gaps:?}");
    }

    fn segment(layout: ChunkLayout, index: u64, samples: u64) -> SegmentIndex {
        let frames = layout.range(index);
        SegmentIndex {
            index,
            first_frame: frames.start,
            end_frame: frames.end,
            encoding: VideoEncoding::Avc { avcc: vec![1] },
            samples: (0..samples)
                .map(|i| SegmentSample { size: 100, pts_us: i as i64 * 40_000, duration_us: 40_000, keyframe: i == 0 })
                .collect(),
        }
    }

    #[test]
    fn only_sound_segments_are_kept() {
        let l = ChunkLayout { chunk_frames: 10, frames: 35 };
        let sound = |i: u64| {
            let s = segment(l, i, l.range(i).end - l.range(i).start);
            let bytes = s.file_bytes();
            (s, Some(bytes))
        };
        let short_file = {
            let (s, b) = sound(1);
            (s, b.map(|b| b - 1))
        };
        let missing_file = (sound(2).0, None);
        let too_few_samples = (segment(l, 3, 4), Some(400));
        let r = EncodeResume::new(l, vec![sound(0), short_file, missing_file, too_few_samples]);
        assert_eq!(r.segments.iter().map(|s| s.index).collect::<Vec<_>>(), vec![0]);
        assert_eq!(r.damaged, 3);
        assert_eq!(r.runs, vec![1..4]);
        assert_eq!(r.first_frame(l), 10);
        assert_eq!(r.frames_done(), 10);
        assert_eq!(r.stored_bytes(), 1000);

        let all = EncodeResume::new(l, (0..4).map(sound).collect());
        assert!(all.runs.is_empty());
        assert_eq!(all.first_frame(l), 35);
        assert_eq!(all.damaged, 0);
        // A segment cut for another chunk size does not fit.
        let other = ChunkLayout { chunk_frames: 5, frames: 35 };
        assert_eq!(EncodeResume::new(other, vec![sound(1)]).damaged, 1);
        // Nothing stored: everything to do.
        assert_eq!(EncodeResume::new(l, Vec::new()).runs, vec![0..4]);
    }

    fn chunk(layout: ChunkLayout, index: u64, records: u64) -> AnalysisChunk {
        let frames = layout.range(index);
        let shots = (0..records)
            .map(|i| FrameRecord {
                timestamp_us: TimestampUs((frames.start + i) as i64 * 40_000),
                diff: 0.0,
                skip_diff: 0.0,
                dark: false,
                small: [0; crate::shots::SMALL_CELLS],
            })
            .collect();
        AnalysisChunk { index, first_frame: frames.start, end_frame: frames.end, shots, detections: Vec::new() }
    }

    #[test]
    fn only_sound_analysis_chunks_are_kept() {
        let l = ChunkLayout { chunk_frames: 10, frames: 35 };
        let r = AnalysisResume::new(l, vec![chunk(l, 0, 10), chunk(l, 1, 9), chunk(l, 3, 5), chunk(l, 7, 0)]);
        assert_eq!(r.chunks.keys().copied().collect::<Vec<_>>(), vec![0, 3]);
        assert_eq!(r.damaged, 2);
        assert_eq!(r.runs(l), vec![1..3]);
        assert_eq!(r.first_missing(l), Some(10));
        let all = AnalysisResume::new(l, (0..4).map(|c| chunk(l, c, l.range(c).end - l.range(c).start)).collect());
        assert_eq!(all.first_missing(l), None);
        assert!(all.runs(l).is_empty());
    }

    #[test]
    fn which_stored_jobs_resume() {
        let l = ChunkLayout { chunk_frames: 100, frames: 1000 };
        let record = JobRecord {
            analysis_id: Some("analysis-1".into()),
            ..crate::job::test_record(CropMode::Auto, JobStage::Encoding, 10, 1)
        };
        assert!(resumable(&record, l));
        assert!(crop_path_stored(&record));
        assert!(!resumable(&JobRecord { stage: JobStage::Done, ..record.clone() }, l));
        assert!(!resumable(&JobRecord { schema: JOB_SCHEMA + 1, ..record.clone() }, l), "from a newer version");
        assert!(!resumable(&record, ChunkLayout { chunk_frames: 50, frames: 1000 }));
        assert!(!resumable(&record, ChunkLayout { chunk_frames: 100, frames: 1001 }));
        assert!(!crop_path_stored(&JobRecord { stage: JobStage::Analysing, ..record.clone() }));
        assert!(!crop_path_stored(&JobRecord { analysis_id: None, ..record }), "a fixed crop is recomputed");
    }
}

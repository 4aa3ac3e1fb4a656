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
//! Which frames the detector sees depends only on their timestamps ([`is_analysed`]), so a
//! resumed analysis samples the same frames as an uninterrupted one.

use crate::demux::VideoTrack;
use crate::units::{DurationUs, TimestampUs};
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demux::{EditWindow, Sample, VideoCodecConfig};
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
}

//! The last step of a job: one MP4 from the stored segments, with the source's audio copied in
//! (or, for sound an MP4 cannot hold, encoded again as Opus by `audio_encode`).
//!
//! Segments are read back one frame at a time from OPFS and appended to the output (also in OPFS)
//! with `reframe_core::mux`; audio packets are read from the source file and interleaved by time.
//! Nothing is held in memory but the sample index. If the page is closed while this runs, the job
//! restarts this step from the stored segments.

use crate::audio_encode::AudioEncode;
use crate::source::FileSource;
use crate::store::{self, OpfsFile};
use reframe_core::demux::{AudioToEncode, ByteSource, Movie, Sample};
use reframe_core::mux::{AudioSpec, Mp4Writer, VideoSpec};
use reframe_core::records::SegmentIndex;
use reframe_core::units::{ticks_to_us, PixelSize, TimestampUs};
use reframe_core::ReframeError;
use web_sys::File;

/// Audio is written up to this far ahead of the video, to interleave the two tracks.
const AUDIO_LEAD_US: i64 = 500_000;

/// Copies the source's audio packets into the output, interleaved with the video.
struct AudioCopy<'a> {
    source: FileSource,
    samples: &'a [Sample],
    next: usize,
    timescale: u32,
}

impl AudioCopy<'_> {
    /// Writes packets that start before `until_us` (all remaining ones when `None`).
    fn write_until(&mut self, writer: &mut Mp4Writer<OpfsFile>, until_us: Option<i64>) -> Result<(), ReframeError> {
        while let Some(s) = self.samples.get(self.next) {
            if until_us.is_some_and(|u| ticks_to_us(s.dts, self.timescale) > u) {
                break;
            }
            let mut buf = vec![0u8; s.size as usize];
            self.source.read_at(s.offset, &mut buf)?;
            writer.push_audio(&buf, s.dts, s.duration)?;
            self.next += 1;
        }
        Ok(())
    }
}

/// Sound encoded again as Opus, written as its packets come out of the encoder.
struct AudioAgain<'a> {
    source: FileSource,
    track: &'a AudioToEncode,
    codecs: AudioEncode,
}

impl AudioAgain<'_> {
    /// Feeds the source's packets that start before `until_us` (all when `None`, then flushes)
    /// and writes the Opus packets ready.
    async fn write_until(
        &mut self,
        writer: &mut Mp4Writer<OpfsFile>,
        until_us: Option<i64>,
    ) -> Result<(), ReframeError> {
        let mut packets = self.codecs.feed_until(self.track, &mut self.source, until_us).await?;
        if until_us.is_none() {
            packets.extend(self.codecs.finish().await?);
        }
        for p in packets {
            let dts = self.codecs.advance(p.samples);
            writer.push_audio(&p.data, dts, p.samples)?;
        }
        Ok(())
    }

    /// Where the source's sound starts on the movie's timeline.
    fn start_us(&self) -> i64 {
        self.track.samples.first().map_or(0, |s| s.cts)
    }
}

/// Writes `out_path` from `segments` (sorted by index) and the audio of `file`. Returns the
/// output's size in bytes and whether it has sound.
pub async fn assemble(
    movie: &Movie,
    file: &File,
    job_id: &str,
    segments: &[SegmentIndex],
    encoded_size: PixelSize,
    out_path: &str,
) -> Result<(u64, bool), ReframeError> {
    let v = &movie.video;
    let out = OpfsFile::create(out_path).await?;
    let mut again = match &movie.audio_to_encode {
        Some(track) => {
            Some(AudioAgain { source: FileSource::new(file.clone())?, track, codecs: AudioEncode::new(track)? })
        }
        None => None,
    };
    let audio_spec = match (&movie.audio, &again) {
        (Some(a), _) => Some(AudioSpec {
            sample_entry: a.sample_entry.clone(),
            edts: a.edts.clone(),
            timescale: a.timescale,
            language: a.language.clone(),
        }),
        // Completed once every packet is written.
        (None, Some(e)) => Some(e.codecs.spec(e.start_us(), 0, movie.movie_timescale)),
        (None, None) => None,
    };
    let spec = VideoSpec { size: encoded_size, rotation: v.rotation, timescale: v.timescale };
    let mut writer = Mp4Writer::new(out, movie.movie_timescale, spec, audio_spec)?;
    let mut audio = match &movie.audio {
        Some(a) => Some(AudioCopy {
            source: FileSource::new(file.clone())?,
            samples: &a.samples,
            next: 0,
            timescale: a.timescale,
        }),
        None => None,
    };
    let first_encoding = segments.first().map(|s| s.encoding.clone());
    let mut buf = Vec::new();
    for seg in segments {
        if Some(&seg.encoding) != first_encoding.as_ref() {
            return Err(ReframeError::Encode(format!("segment {} was encoded with different settings", seg.index)));
        }
        if !writer.has_video_encoding() {
            writer.set_video_encoding(seg.encoding.clone());
        }
        let input = OpfsFile::open(&store::segment_path(job_id, seg.index)).await?;
        if input.size() != seg.file_bytes() {
            return Err(ReframeError::Storage(format!(
                "segment {} is damaged; delete the job and start again",
                seg.index
            )));
        }
        let mut offset = 0u64;
        for s in &seg.samples {
            buf.resize(s.size as usize, 0);
            input.read_at(offset, &mut buf)?;
            offset += s.size as u64;
            if let Some(a) = audio.as_mut() {
                a.write_until(&mut writer, Some(s.pts_us + AUDIO_LEAD_US))?;
            }
            if let Some(e) = again.as_mut() {
                e.write_until(&mut writer, Some(s.pts_us + AUDIO_LEAD_US)).await?;
            }
            writer.push_video(&buf, TimestampUs(s.pts_us), s.duration_us, s.keyframe)?;
        }
    }
    if let Some(a) = audio.as_mut() {
        a.write_until(&mut writer, None)?;
    }
    if let Some(e) = again.as_mut() {
        e.write_until(&mut writer, None).await?;
        let media = e.codecs.advance(0);
        writer.set_audio_spec(e.codecs.spec(e.start_us(), media, movie.movie_timescale));
    }
    let (out, len) = writer.finish()?;
    out.flush()?;
    drop(out);
    Ok((len, audio.is_some() || again.is_some()))
}

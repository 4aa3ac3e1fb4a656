//! Reading a video file's index: its tracks and the place and time of every sample, from any
//! random-access byte source, whatever the container.
//!
//! - [`mp4`]: MP4/MOV (ISO-BMFF), with its `moov` index or in fragments (`moof`).
//! - [`matroska`]: Matroska (MKV) and WebM.
//!
//! Both give the same [`Movie`]: one video track with its samples in decode order, and one sound
//! track: copied into the MP4 as it is (its sample entry made from the source's codec
//! configuration), or, where an MP4 cannot hold its codec, handed over to be encoded again. Sample data is read later, one sample at a time, by the caller through the
//! same [`ByteSource`]. [`read_movie`] tells the containers apart by their first bytes and names
//! the ones Reframe does not read.

pub mod matroska;
pub mod mp4;

use crate::error::{ReframeError, Result};
use crate::units::{ticks_to_us, DurationUs, PixelSize, Rotation, TimestampUs};
use mp4_atom::Codec;

/// Random access to the bytes of the input (a `File` read by slices in the worker, a `Vec` or a
/// file in native tests).
pub trait ByteSource {
    /// Total length in bytes.
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Reads `buf.len()` bytes at `offset`; fails if the source is shorter.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()>;
}

impl ByteSource for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let start = usize::try_from(offset).map_err(|_| ReframeError::Read("offset too large".into()))?;
        let end = start + buf.len();
        let src = self.get(start..end).ok_or_else(|| ReframeError::Corrupt("the file ends early".into()))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// One coded sample (a video frame or an audio packet) of a track, in decode order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Byte offset in the file.
    pub offset: u64,
    pub size: u32,
    /// Decode time in the track's timescale.
    pub dts: i64,
    /// Composition (presentation) time in the track's timescale, before the edit list.
    pub cts: i64,
    /// Duration in the track's timescale.
    pub duration: u32,
    pub keyframe: bool,
}

/// What the decoder needs to be configured for a video track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoCodecConfig {
    /// WebCodecs codec string, e.g. `avc1.64001f`.
    pub codec: String,
    /// Codec-specific configuration record (avcC/hvcC/av1C body), if the codec has one.
    pub description: Option<Vec<u8>>,
}

/// The part of a track's timeline that is shown, from its edit list, in the track's timescale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditWindow {
    /// Composition time of the first shown instant.
    pub media_start: i64,
    /// Composition time just past the last shown instant (`None`: to the end of the media).
    pub media_end: Option<i64>,
    /// Presentation delay before the media starts (an empty edit), in microseconds.
    pub delay: DurationUs,
}

impl EditWindow {
    pub const WHOLE: EditWindow = EditWindow { media_start: 0, media_end: None, delay: DurationUs(0) };

    /// Whether a sample composed at `cts` (lasting `duration`) is shown.
    pub fn shows(&self, cts: i64, duration: u32) -> bool {
        let end = cts + duration.max(1) as i64;
        end > self.media_start && self.media_end.is_none_or(|e| cts < e)
    }
}

#[derive(Debug, Clone)]
pub struct VideoTrack {
    pub track_id: u32,
    pub timescale: u32,
    pub config: VideoCodecConfig,
    /// Size of the decoded frames.
    pub coded_size: PixelSize,
    /// Rotation a player applies for display.
    pub rotation: Rotation,
    pub edit: EditWindow,
    /// Samples in decode order.
    pub samples: Vec<Sample>,
}

impl VideoTrack {
    /// Size as displayed.
    pub fn display_size(&self) -> PixelSize {
        self.coded_size.rotated(self.rotation)
    }

    /// Presentation timestamp of a sample, on the movie's timeline (edit list applied).
    pub fn presentation_time(&self, s: &Sample) -> TimestampUs {
        TimestampUs(ticks_to_us(s.cts - self.edit.media_start, self.timescale) + self.edit.delay.0)
    }

    /// Whether the sample is a frame that is shown (inside the edit list).
    pub fn is_shown(&self, s: &Sample) -> bool {
        self.edit.shows(s.cts, s.duration)
    }

    /// Number of frames that are shown (the frames an output must contain).
    pub fn shown_frames(&self) -> u64 {
        self.samples.iter().filter(|s| self.is_shown(s)).count() as u64
    }

    /// Presentation timestamps of all shown frames, sorted.
    pub fn shown_timestamps(&self) -> Vec<TimestampUs> {
        let mut ts: Vec<TimestampUs> =
            self.samples.iter().filter(|s| self.is_shown(s)).map(|s| self.presentation_time(s)).collect();
        ts.sort();
        ts
    }

    pub fn codec_name(&self) -> &str {
        &self.config.codec
    }
}

/// An audio track, kept as it is so it can be copied into the output without re-encoding.
#[derive(Debug, Clone)]
pub struct AudioTrack {
    pub track_id: u32,
    pub timescale: u32,
    /// The sample entry (codec configuration), copied verbatim to the output.
    pub sample_entry: Codec,
    /// The edit list as in the source (e.g. AAC priming), copied verbatim.
    pub edts: Option<mp4_atom::Edts>,
    pub language: String,
    pub samples: Vec<Sample>,
    /// Its codec's common name, for the page ("mp4a (AAC)", "opus").
    pub codec_name: String,
}

/// Sound that an MP4 cannot hold as it is (Vorbis, FLAC, MP3, PCM in Matroska): the worker
/// decodes it with the browser's `AudioDecoder` and encodes it again as Opus.
#[derive(Debug, Clone)]
pub struct AudioToEncode {
    /// WebCodecs codec string (`vorbis`, `flac`, `mp3`, `pcm-s16`...).
    pub codec: String,
    /// `AudioDecoderConfig.description` (Vorbis and FLAC headers).
    pub description: Option<Vec<u8>>,
    pub sample_rate: u32,
    pub channels: u32,
    /// Its common name, for the page ("Vorbis").
    pub codec_name: String,
    /// Packets in decode order; times in microseconds (timescale 1 000 000) on the movie's
    /// timeline.
    pub samples: Vec<Sample>,
}

/// The demuxed index of a file.
#[derive(Debug, Clone)]
pub struct Movie {
    pub file_bytes: u64,
    pub movie_timescale: u32,
    pub video: VideoTrack,
    pub audio: Option<AudioTrack>,
    /// Sound to encode again as Opus (never with `audio`).
    pub audio_to_encode: Option<AudioToEncode>,
    /// The container's common name ("MP4", "fragmented MP4", "WebM", "Matroska").
    pub container: &'static str,
    /// What the user should know about how the file is read (an audio track left out, a file
    /// cut short), in plain sentences.
    pub notices: Vec<String>,
}

impl Movie {
    /// Keeps the samples whose bytes are inside the file: a file cut short keeps every frame
    /// before the cut (in decode order, so each kept frame's references are kept), with a
    /// notice. Fails when not even the first frame is there.
    fn keep_present_samples(&mut self) -> Result<()> {
        let len = self.file_bytes;
        let present = |s: &Sample| s.offset.saturating_add(s.size as u64) <= len;
        let prefix = |samples: &[Sample]| samples.iter().position(|s| !present(s)).unwrap_or(samples.len());
        let total = self.video.samples.len();
        let kept = prefix(&self.video.samples);
        if kept == total {
            return Ok(());
        }
        let full_s = self.video_duration().0 as f64 / 1e6;
        self.video.samples.truncate(kept);
        if let Some(a) = &mut self.audio {
            let k = prefix(&a.samples);
            a.samples.truncate(k);
        }
        if self.video.shown_frames() == 0 {
            return Err(ReframeError::Corrupt(format!(
                "the file is cut short before its first frame (it holds none of its {total} frames)"
            )));
        }
        let notice = self.cut_short_notice(Some(total as u64), Some(full_s));
        self.notices.push(notice);
        Ok(())
    }

    /// The notice for a file cut short: the frames and seconds it holds, of the whole when the
    /// file says how much that is (`total_frames`, `total_s`).
    fn cut_short_notice(&self, total_frames: Option<u64>, total_s: Option<f64>) -> String {
        let (frames, have_s) = (self.video.shown_frames(), self.video_duration().0 as f64 / 1e6);
        const END: &str = "Reframe makes the part that is there.";
        match (total_frames, total_s) {
            (Some(total), Some(total_s)) => format!(
                "The file is cut short: it holds {frames} of its {total} frames ({have_s:.1} of {total_s:.1} s). {END}"
            ),
            (None, Some(total_s)) if total_s > have_s + 0.1 => {
                format!("The file is cut short: it holds {have_s:.1} of its {total_s:.1} s ({frames} frames). {END}")
            }
            _ => format!(
                "The file ends in the middle of its data (it may be cut short): it holds {frames} frames. {END}"
            ),
        }
    }

    /// Duration of the video as shown: from the first shown frame's start to the last one's end.
    pub fn video_duration(&self) -> DurationUs {
        let v = &self.video;
        let mut first = i64::MAX;
        let mut last_end = i64::MIN;
        for s in v.samples.iter().filter(|s| v.is_shown(s)) {
            let t = v.presentation_time(s).0;
            first = first.min(t);
            last_end = last_end.max(t + ticks_to_us(s.duration as i64, v.timescale));
        }
        if first > last_end {
            DurationUs(0)
        } else {
            DurationUs(last_end - first)
        }
    }
}

/// The containers told apart by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    IsoBmff,
    Matroska,
    /// A video container Reframe does not read: its common name.
    OtherVideo(&'static str),
    /// Not a video at all (an image, a document, a sound file): its common name.
    NotVideo(&'static str),
    Unknown,
}

/// What the first bytes of a file say it is.
fn container_of(head: &[u8]) -> Container {
    let at = |i: usize, magic: &[u8]| head.get(i..i + magic.len()) == Some(magic);
    if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        return Container::Matroska;
    }
    if head.len() >= 8 && mp4::is_top_level_box(&head[4..8]) {
        return Container::IsoBmff;
    }
    let video = if at(0, b"RIFF") && at(8, b"AVI ") {
        Some("an AVI video")
    } else if at(0, b"FLV") {
        Some("a Flash video (FLV)")
    } else if at(0, &[0x30, 0x26, 0xB2, 0x75]) {
        Some("a Windows Media (ASF/WMV) file")
    } else if at(0, &[0x00, 0x00, 0x01, 0xBA]) {
        Some("an MPEG program stream (VOB/MPG)")
    } else if head.len() >= 189 && head[0] == 0x47 && head[188] == 0x47 {
        Some("an MPEG transport stream (TS/M2TS)")
    } else if at(0, b"OggS") {
        Some("an Ogg file")
    } else {
        None
    };
    if let Some(name) = video {
        return Container::OtherVideo(name);
    }
    let other = if at(0, b"RIFF") && at(8, b"WAVE") {
        "a WAV sound file"
    } else if at(0, b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) {
        "an MP3 sound file"
    } else if at(0, b"\x89PNG") {
        "a PNG image"
    } else if at(0, &[0xFF, 0xD8, 0xFF]) {
        "a JPEG image"
    } else if at(0, b"GIF8") {
        "a GIF image"
    } else if at(0, b"%PDF") {
        "a PDF document"
    } else if at(0, b"PK\x03\x04") {
        "a ZIP archive (or an Office document)"
    } else {
        return Container::Unknown;
    };
    Container::NotVideo(other)
}

/// Reads the index of an MP4, MOV, MKV or WebM file.
pub fn read_movie(src: &mut dyn ByteSource) -> Result<Movie> {
    let len = src.len();
    if len == 0 {
        return Err(ReframeError::EmptyFile);
    }
    let mut head = vec![0u8; len.min(512) as usize];
    src.read_at(0, &mut head)?;
    match container_of(&head) {
        Container::IsoBmff => mp4::read_movie(src),
        Container::Matroska => matroska::read_movie(src),
        Container::OtherVideo(name) => Err(ReframeError::UnsupportedContainer(name.to_string())),
        Container::NotVideo(name) => Err(ReframeError::NotVideoFile(name.to_string())),
        Container::Unknown => Err(ReframeError::NotAVideo),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_by_their_first_bytes() {
        assert_eq!(container_of(b"\x00\x00\x00\x20ftypisom"), Container::IsoBmff);
        assert_eq!(container_of(&[0x1A, 0x45, 0xDF, 0xA3, 0x9F]), Container::Matroska);
        assert_eq!(container_of(b"RIFF\x10\x00\x00\x00AVI LIST"), Container::OtherVideo("an AVI video"));
        assert_eq!(container_of(b"%PDF-1.4"), Container::NotVideo("a PDF document"));
        assert_eq!(container_of(b"\x89PNG\r\n\x1a\n"), Container::NotVideo("a PNG image"));
        assert_eq!(container_of(b"hello, world"), Container::Unknown);
    }

    #[test]
    fn empty_and_garbage_inputs() {
        assert_eq!(read_movie(&mut Vec::new()).unwrap_err(), ReframeError::EmptyFile);
        let junk: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        assert_eq!(read_movie(&mut junk.clone()).unwrap_err(), ReframeError::NotAVideo);
        let text = b"hello, this is a text file and not a video at all".to_vec();
        assert_eq!(read_movie(&mut text.clone()).unwrap_err(), ReframeError::NotAVideo);
    }
}

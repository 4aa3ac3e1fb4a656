//! Reading an MP4/MOV file: its tracks and sample tables, from any random-access byte source.
//!
//! Only the `moov` box is read into memory (a few MB even for multi-hour files); sample data is
//! read later, one sample at a time, by the caller through the same [`ByteSource`].
//! Box parsing is done by the `mp4-atom` crate; this module interprets the boxes: it expands the
//! sample tables, applies composition offsets (B-frames) and the edit list, and reads rotation.

use crate::error::{ReframeError, Result};
use crate::units::{ticks_to_us, DurationUs, PixelSize, Rotation, TimestampUs};
use mp4_atom::{Codec, Decode, Moov, StszSamples, Trak};

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
    /// Duration in the movie timescale as declared by the source's track header.
    pub codec_name: String,
}

/// The demuxed index of a file.
#[derive(Debug, Clone)]
pub struct Movie {
    pub file_bytes: u64,
    pub movie_timescale: u32,
    pub video: VideoTrack,
    pub audio: Option<AudioTrack>,
}

impl Movie {
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

const TOP_LEVEL_KINDS: [&[u8; 4]; 10] =
    [b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"pdin", b"meta", b"moof"];

/// Reads the box header at `offset`: (box type, header length, total size).
fn read_box_header(src: &mut dyn ByteSource, offset: u64) -> Result<([u8; 4], u64, u64)> {
    let file_len = src.len();
    let mut h = [0u8; 8];
    src.read_at(offset, &mut h)?;
    let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as u64;
    let kind = [h[4], h[5], h[6], h[7]];
    match size32 {
        0 => Ok((kind, 8, file_len - offset)),
        1 => {
            if offset + 16 > file_len {
                return Err(ReframeError::Corrupt("the file ends inside a box header".into()));
            }
            let mut l = [0u8; 8];
            src.read_at(offset + 8, &mut l)?;
            Ok((kind, 16, u64::from_be_bytes(l)))
        }
        n => Ok((kind, 8, n)),
    }
}

/// Reads the index of an MP4/MOV file.
pub fn read_movie(src: &mut dyn ByteSource) -> Result<Movie> {
    let file_len = src.len();
    if file_len == 0 {
        return Err(ReframeError::EmptyFile);
    }
    if file_len < 8 {
        return Err(ReframeError::NotAVideo);
    }
    let mut offset = 0u64;
    let mut moov: Option<Moov> = None;
    let mut first = true;
    let mut saw_mdat = false;
    while offset + 8 <= file_len {
        let (kind, header_len, size) = read_box_header(src, offset)?;
        if first {
            // The first box tells whether this is an ISO-BMFF file at all.
            if !TOP_LEVEL_KINDS.contains(&&kind) {
                return Err(ReframeError::NotAVideo);
            }
            first = false;
        }
        if size < header_len {
            return Err(ReframeError::Corrupt(format!("a box ({}) has an invalid size", fourcc(kind))));
        }
        if offset + size > file_len {
            if &kind == b"mdat" && moov.is_some() {
                // mdat cut short: samples past the end are reported below.
                break;
            }
            return Err(ReframeError::Corrupt("the file is truncated (it ends in the middle of its data)".into()));
        }
        match &kind {
            b"moov" => {
                let len = usize::try_from(size).map_err(|_| ReframeError::Corrupt("moov too large".into()))?;
                let mut bytes = vec![0u8; len];
                src.read_at(offset, &mut bytes)?;
                let parsed = Moov::decode(&mut bytes.as_slice())
                    .map_err(|e| ReframeError::Corrupt(format!("its index (moov) cannot be read: {e}")))?;
                moov = Some(parsed);
            }
            b"mdat" => saw_mdat = true,
            b"moof" => {
                return Err(ReframeError::Corrupt("fragmented MP4 files are not supported yet".into()));
            }
            _ => {}
        }
        offset += size;
    }
    let moov = match moov {
        Some(m) => m,
        None if saw_mdat || offset > 0 => {
            return Err(ReframeError::Corrupt("the file has no index (moov); it may be truncated".into()))
        }
        None => return Err(ReframeError::NotAVideo),
    };
    let movie = movie_from_moov(&moov, file_len)?;
    // Every shown frame's bytes must be inside the file.
    let missing = movie.video.samples.iter().filter(|s| s.offset + s.size as u64 > file_len).count();
    if missing > 0 {
        return Err(ReframeError::Corrupt(format!(
            "the file is truncated: {missing} of {} frames are missing",
            movie.video.samples.len()
        )));
    }
    Ok(movie)
}

fn fourcc(k: [u8; 4]) -> String {
    k.iter().map(|&c| if c.is_ascii_graphic() { c as char } else { '?' }).collect()
}

/// Interprets a parsed `moov`.
pub fn movie_from_moov(moov: &Moov, file_bytes: u64) -> Result<Movie> {
    let movie_timescale = moov.mvhd.timescale.max(1);
    let mut video = None;
    let mut audio = None;
    for trak in &moov.trak {
        let handler = &trak.mdia.hdlr.handler;
        if handler == &mp4_atom::FourCC::new(b"vide") && video.is_none() {
            video = Some(video_track(trak, movie_timescale)?);
        } else if handler == &mp4_atom::FourCC::new(b"soun") && audio.is_none() {
            audio = audio_track(trak)?;
        }
    }
    let video = video.ok_or(ReframeError::NoVideoTrack)?;
    if video.samples.is_empty() {
        return Err(ReframeError::Corrupt("the video track has no frames".into()));
    }
    Ok(Movie { file_bytes, movie_timescale, video, audio })
}

fn video_track(trak: &Trak, movie_timescale: u32) -> Result<VideoTrack> {
    let timescale = trak.mdia.mdhd.timescale.max(1);
    let stsd = &trak.mdia.minf.stbl.stsd;
    let entry = stsd.codecs.first().ok_or_else(|| ReframeError::Corrupt("the video track has no codec".into()))?;
    let (config, coded_size) = video_config(entry)?;
    let samples = expand_samples(trak)?;
    Ok(VideoTrack {
        track_id: trak.tkhd.track_id,
        timescale,
        config,
        coded_size,
        rotation: rotation_of(&trak.tkhd.matrix),
        edit: edit_window(trak, timescale, movie_timescale),
        samples,
    })
}

fn audio_track(trak: &Trak) -> Result<Option<AudioTrack>> {
    let Some(entry) = trak.mdia.minf.stbl.stsd.codecs.first() else { return Ok(None) };
    let codec_name = match entry {
        Codec::Mp4a(_) => "mp4a (AAC)".to_string(),
        Codec::Opus(_) => "opus".to_string(),
        Codec::Mp3(_) => "mp3".to_string(),
        Codec::Flac(_) => "flac".to_string(),
        Codec::Ac3(_) => "ac-3".to_string(),
        Codec::Eac3(_) => "ec-3".to_string(),
        Codec::Unknown(kind, _) => kind.to_string(),
        _ => "audio".to_string(),
    };
    Ok(Some(AudioTrack {
        track_id: trak.tkhd.track_id,
        timescale: trak.mdia.mdhd.timescale.max(1),
        sample_entry: entry.clone(),
        edts: trak.edts.clone(),
        language: trak.mdia.mdhd.language.clone(),
        samples: expand_samples(trak)?,
        codec_name,
    }))
}

/// The WebCodecs codec string and description for a video sample entry.
fn video_config(entry: &Codec) -> Result<(VideoCodecConfig, PixelSize)> {
    if let Codec::Unknown(kind, _) = entry {
        // e.g. mp4v (MPEG-4 Part 2), which browsers do not decode.
        return Err(ReframeError::UnsupportedCodec(kind.to_string()));
    }
    let visual = entry.visual().ok_or_else(|| ReframeError::Corrupt("the video track's codec is not visual".into()))?;
    let size = PixelSize::new(visual.width as u32, visual.height as u32);
    let config = match entry {
        Codec::Avc1(a) => avc_config(&a.avcc, "avc1")?,
        Codec::Avc3(a) => avc_config(&a.avcc, "avc3")?,
        Codec::Hvc1(h) => hevc_config(&h.hvcc, "hvc1")?,
        Codec::Hev1(h) => hevc_config(&h.hvcc, "hev1")?,
        Codec::Vp09(v) => VideoCodecConfig {
            codec: format!("vp09.{:02}.{:02}.{:02}", v.vpcc.profile, v.vpcc.level, v.vpcc.bit_depth),
            description: None,
        },
        Codec::Vp08(_) => VideoCodecConfig { codec: "vp8".into(), description: None },
        Codec::Av01(a) => {
            let c = &a.av1c;
            let depth = if c.twelve_bit {
                12
            } else if c.high_bitdepth {
                10
            } else {
                8
            };
            VideoCodecConfig {
                codec: format!(
                    "av01.{}.{:02}{}.{:02}",
                    c.seq_profile,
                    c.seq_level_idx_0,
                    if c.seq_tier_0 { 'H' } else { 'M' },
                    depth
                ),
                description: Some(body_of(&a.av1c)?),
            }
        }
        Codec::Unknown(kind, _) => return Err(ReframeError::UnsupportedCodec(kind.to_string())),
        other => return Err(ReframeError::UnsupportedCodec(format!("{other:?}").chars().take(12).collect())),
    };
    Ok((config, size))
}

fn avc_config(avcc: &mp4_atom::Avcc, kind: &str) -> Result<VideoCodecConfig> {
    Ok(VideoCodecConfig {
        codec: format!(
            "{kind}.{:02x}{:02x}{:02x}",
            avcc.avc_profile_indication, avcc.profile_compatibility, avcc.avc_level_indication
        ),
        description: Some(body_of(avcc)?),
    })
}

fn hevc_config(h: &mp4_atom::Hvcc, kind: &str) -> Result<VideoCodecConfig> {
    // ISO/IEC 14496-15 Annex E: profile space, profile idc, reversed compatibility flags,
    // tier + level, constraint bytes (trailing zero bytes omitted).
    let space = ["", "A", "B", "C"][(h.general_profile_space & 3) as usize];
    let compat = u32::from_be_bytes(h.general_profile_compatibility_flags).reverse_bits();
    let mut constraints: Vec<String> = h.general_constraint_indicator_flags.iter().map(|b| format!("{b:X}")).collect();
    while constraints.last().is_some_and(|c| c == "0") {
        constraints.pop();
    }
    let mut codec = format!(
        "{kind}.{space}{}.{compat:X}.{}{}",
        h.general_profile_idc,
        if h.general_tier_flag { 'H' } else { 'L' },
        h.general_level_idc
    );
    for c in constraints {
        codec.push('.');
        codec.push_str(&c);
    }
    Ok(VideoCodecConfig { codec, description: Some(body_of(h)?) })
}

/// The body of an atom (its encoding without the 8-byte header), as WebCodecs wants it.
fn body_of<A: mp4_atom::Atom>(atom: &A) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    mp4_atom::Encode::encode(atom, &mut out).map_err(|e| ReframeError::Internal(format!("encode config: {e}")))?;
    Ok(out.split_off(8))
}

/// Rotation from a track matrix (16.16 fixed point a, b, c, d).
pub fn rotation_of(m: &mp4_atom::Matrix) -> Rotation {
    let one = 0x1_0000;
    match (m.a, m.b, m.c, m.d) {
        (0, b, c, 0) if b == one && c == -one => Rotation::R90,
        (a, 0, 0, d) if a == -one && d == -one => Rotation::R180,
        (0, b, c, 0) if b == -one && c == one => Rotation::R270,
        _ => Rotation::R0,
    }
}

/// The shown window of a track from its edit list. Supports what cameras and editors write:
/// an optional leading empty edit (a delay) followed by one media edit. Further edits are
/// ignored (the track then plays to its end).
fn edit_window(trak: &Trak, timescale: u32, movie_timescale: u32) -> EditWindow {
    let Some(edts) = &trak.edts else { return EditWindow::WHOLE };
    let Some(elst) = &edts.elst else { return EditWindow::WHOLE };
    let mut delay = DurationUs(0);
    for e in &elst.entries {
        match e.media_time {
            None => delay = DurationUs(delay.0 + ticks_to_us(e.segment_duration as i64, movie_timescale)),
            Some(start) => {
                let start = start as i64;
                let end = if e.segment_duration == 0 || elst.entries.len() > 2 {
                    None
                } else {
                    // segment_duration is in the movie timescale.
                    let dur_us = ticks_to_us(e.segment_duration as i64, movie_timescale);
                    Some(start + crate::units::us_to_ticks(dur_us, timescale))
                };
                return EditWindow { media_start: start, media_end: end, delay };
            }
        }
    }
    EditWindow { media_start: 0, media_end: None, delay }
}

/// Expands stts/ctts/stsz/stsc/stco/stss into one record per sample, in decode order.
fn expand_samples(trak: &Trak) -> Result<Vec<Sample>> {
    let stbl = &trak.mdia.minf.stbl;
    let sizes: Vec<u32> = match &stbl.stsz.samples {
        StszSamples::Identical { count, size } => vec![*size; *count as usize],
        StszSamples::Different { sizes } => sizes.clone(),
    };
    let count = sizes.len();
    // Chunk offsets.
    let chunk_offsets: Vec<u64> = match (&stbl.co64, &stbl.stco) {
        (Some(co64), _) => co64.entries.clone(),
        (None, Some(stco)) => stco.entries.iter().map(|&o| o as u64).collect(),
        (None, None) => return Err(ReframeError::Corrupt("a track has no chunk offsets".into())),
    };
    // Sample offsets from sample-to-chunk runs.
    let mut offsets = Vec::with_capacity(count);
    let stsc = &stbl.stsc.entries;
    let mut sample = 0usize;
    for (i, entry) in stsc.iter().enumerate() {
        let first_chunk = entry.first_chunk.max(1) as usize;
        let next_first = stsc.get(i + 1).map(|e| e.first_chunk as usize).unwrap_or(chunk_offsets.len() + 1);
        for chunk in first_chunk..next_first {
            let Some(&chunk_offset) = chunk_offsets.get(chunk - 1) else { break };
            let mut pos = chunk_offset;
            for _ in 0..entry.samples_per_chunk {
                if sample >= count {
                    break;
                }
                offsets.push(pos);
                pos += sizes[sample] as u64;
                sample += 1;
            }
        }
    }
    if offsets.len() != count {
        return Err(ReframeError::Corrupt("a track's sample tables disagree".into()));
    }
    // Decode times and durations.
    let mut durations = Vec::with_capacity(count);
    for e in &stbl.stts.entries {
        for _ in 0..e.sample_count {
            if durations.len() < count {
                durations.push(e.sample_delta);
            }
        }
    }
    let last = durations.last().copied().unwrap_or(0);
    durations.resize(count, last);
    // Composition offsets.
    let mut cts_offsets = vec![0i64; count];
    if let Some(ctts) = &stbl.ctts {
        let mut i = 0usize;
        for e in &ctts.entries {
            for _ in 0..e.sample_count {
                if i < count {
                    cts_offsets[i] = e.sample_offset;
                    i += 1;
                }
            }
        }
    }
    // Sync samples (1-based); no stss means every sample is a keyframe.
    let mut keyframes = vec![stbl.stss.is_none(); count];
    if let Some(stss) = &stbl.stss {
        for &n in &stss.entries {
            if let Some(k) = keyframes.get_mut((n as usize).wrapping_sub(1)) {
                *k = true;
            }
        }
    }
    let mut dts = 0i64;
    let mut samples = Vec::with_capacity(count);
    for i in 0..count {
        samples.push(Sample {
            offset: offsets[i],
            size: sizes[i],
            dts,
            cts: dts + cts_offsets[i],
            duration: durations[i],
            keyframe: keyframes[i],
        });
        dts += durations[i] as i64;
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_garbage_inputs() {
        assert_eq!(read_movie(&mut Vec::new()).unwrap_err(), ReframeError::EmptyFile);
        let junk: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        assert_eq!(read_movie(&mut junk.clone()).unwrap_err(), ReframeError::NotAVideo);
        let text = b"hello, this is a text file and not a video at all".to_vec();
        assert_eq!(read_movie(&mut text.clone()).unwrap_err(), ReframeError::NotAVideo);
    }

    #[test]
    fn rotation_matrices() {
        let m = |a, b, c, d| mp4_atom::Matrix { a, b, u: 0, c, d, v: 0, x: 0, y: 0, w: 0x4000_0000 };
        let one = 0x1_0000;
        assert_eq!(rotation_of(&m(one, 0, 0, one)), Rotation::R0);
        assert_eq!(rotation_of(&m(0, one, -one, 0)), Rotation::R90);
        assert_eq!(rotation_of(&m(-one, 0, 0, -one)), Rotation::R180);
        assert_eq!(rotation_of(&m(0, -one, one, 0)), Rotation::R270);
    }

    #[test]
    fn edit_window_shows() {
        let w = EditWindow { media_start: 1024, media_end: Some(1024 + 512 * 10), delay: DurationUs(0) };
        assert!(!w.shows(0, 512));
        assert!(w.shows(1024, 512));
        assert!(w.shows(1024 + 512 * 9, 512));
        assert!(!w.shows(1024 + 512 * 10, 512));
    }
}

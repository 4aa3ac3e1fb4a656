//! Reading an MP4/MOV file (ISO-BMFF): its tracks and sample tables.
//!
//! Only the `moov` box and the fragments' `moof` boxes are read into memory (a few MB even for
//! multi-hour files). Box parsing is done by the `mp4-atom` crate; this module interprets the
//! boxes: it expands the sample tables and the fragments' track runs, applies composition offsets
//! (B-frames) and the edit list, and reads rotation.

use super::{AudioTrack, ByteSource, EditWindow, Movie, Sample, VideoCodecConfig, VideoTrack};
use crate::error::{ReframeError, Result};
use crate::units::{ticks_to_us, DurationUs, PixelSize, Rotation};
use mp4_atom::{Codec, Decode, Moof, Moov, StszSamples, Trak, Trex};

/// Boxes that may come first in an ISO-BMFF file (a fragmented stream may start with `styp`,
/// `sidx` or `moof`).
const TOP_LEVEL_KINDS: [&[u8; 4]; 14] = [
    b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"pdin", b"meta", b"moof", b"styp", b"sidx",
    b"emsg", b"prft",
];

/// Whether four bytes are the type of a box that starts an ISO-BMFF file.
pub(super) fn is_top_level_box(kind: &[u8]) -> bool {
    TOP_LEVEL_KINDS.iter().any(|k| &k[..] == kind)
}

/// A movie fragment's index and where it starts in the file (the base of its data offsets).
struct Fragment {
    offset: u64,
    moof: Moof,
}

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

/// Reads the index of an MP4/MOV file, with its fragments if it has any.
pub fn read_movie(src: &mut dyn ByteSource) -> Result<Movie> {
    let file_len = src.len();
    if file_len < 8 {
        return Err(ReframeError::NotAVideo);
    }
    let mut offset = 0u64;
    let mut moov: Option<Moov> = None;
    let mut fragments = Vec::new();
    let mut saw_mdat = false;
    while offset + 8 <= file_len {
        let (kind, header_len, size) = read_box_header(src, offset)?;
        if size < header_len {
            return Err(ReframeError::Corrupt(format!("a box ({}) has an invalid size", fourcc(kind))));
        }
        if offset + size > file_len {
            if moov.is_some() && matches!(&kind, b"mdat" | b"moof") {
                // Cut short in its data: the samples that are missing are left out below.
                break;
            }
            return Err(ReframeError::Corrupt("the file is truncated (it ends in the middle of its data)".into()));
        }
        match &kind {
            b"moov" => moov = Some(read_box(src, offset, size, "its index (moov)")?),
            b"moof" => {
                fragments.push(Fragment { offset, moof: read_box(src, offset, size, "a fragment's index (moof)")? })
            }
            b"mdat" => saw_mdat = true,
            _ => {}
        }
        offset += size;
    }
    let Some(moov) = moov else {
        if saw_mdat || offset > 0 {
            return Err(ReframeError::Corrupt("the file has no index (moov); it may be truncated".into()));
        }
        return Err(ReframeError::NotAVideo);
    };
    let mut movie = movie_from_moov(&moov, &fragments, file_len)?;
    movie.container = if fragments.is_empty() { "MP4" } else { "fragmented MP4" };
    movie.keep_present_samples()?;
    Ok(movie)
}

/// Reads and parses one whole box.
fn read_box<A: Decode>(src: &mut dyn ByteSource, offset: u64, size: u64, what: &str) -> Result<A> {
    let len = usize::try_from(size).map_err(|_| ReframeError::Corrupt(format!("{what} is too large")))?;
    let mut bytes = vec![0u8; len];
    src.read_at(offset, &mut bytes)?;
    A::decode(&mut bytes.as_slice()).map_err(|e| ReframeError::Corrupt(format!("{what} is damaged ({e})")))
}

fn fourcc(k: [u8; 4]) -> String {
    k.iter().map(|&c| if c.is_ascii_graphic() { c as char } else { '?' }).collect()
}

/// Interprets a parsed `moov` and the fragments that follow it. The first video track is read,
/// and the first audio track enabled for playback.
fn movie_from_moov(moov: &Moov, fragments: &[Fragment], file_bytes: u64) -> Result<Movie> {
    let movie_timescale = moov.mvhd.timescale.max(1);
    let trex = |id: u32| moov.mvex.as_ref().and_then(|m| m.trex.iter().find(|t| t.track_id == id));
    let is = |trak: &&Trak, kind: &[u8; 4]| trak.mdia.hdlr.handler == mp4_atom::FourCC::new(kind);
    let video_trak = moov.trak.iter().find(|t| is(t, b"vide")).ok_or(ReframeError::NoVideoTrack)?;
    let video = video_track(video_trak, movie_timescale, fragments, trex(video_trak.tkhd.track_id))?;
    // Several audio tracks: the first one enabled for playback (players start with it).
    let audio_traks: Vec<&Trak> = moov.trak.iter().filter(|t| is(t, b"soun")).collect();
    let audio_trak = audio_traks.iter().find(|t| t.tkhd.enabled).or(audio_traks.first());
    let audio = match audio_trak {
        Some(t) => audio_track(t, fragments, trex(t.tkhd.track_id))?,
        None => None,
    };
    let audio_tracks = audio_traks.len();
    if video.samples.is_empty() {
        return Err(ReframeError::Corrupt("the video track has no frames".into()));
    }
    let mut notices = Vec::new();
    if audio_tracks > 1 {
        if let Some(a) = &audio {
            notices.push(format!(
                "The file has {audio_tracks} audio tracks; the output keeps the first one ({}).",
                a.codec_name
            ));
        }
    }
    Ok(Movie { file_bytes, movie_timescale, video, audio, audio_to_encode: None, container: "MP4", notices })
}

fn video_track(trak: &Trak, movie_timescale: u32, fragments: &[Fragment], trex: Option<&Trex>) -> Result<VideoTrack> {
    let timescale = trak.mdia.mdhd.timescale.max(1);
    let stsd = &trak.mdia.minf.stbl.stsd;
    let entry = stsd.codecs.first().ok_or_else(|| ReframeError::Corrupt("the video track has no codec".into()))?;
    let (config, coded_size) = video_config(entry)?;
    let samples = all_samples(trak, fragments, trex)?;
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

fn audio_track(trak: &Trak, fragments: &[Fragment], trex: Option<&Trex>) -> Result<Option<AudioTrack>> {
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
        samples: all_samples(trak, fragments, trex)?,
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
        Codec::Av01(a) => av1_config(&a.av1c)?,
        Codec::Unknown(kind, _) => return Err(ReframeError::UnsupportedCodec(kind.to_string())),
        other => return Err(ReframeError::UnsupportedCodec(format!("{other:?}").chars().take(12).collect())),
    };
    Ok((config, size))
}

/// The codec string and description of an AV1 stream from its `av1C` (also Matroska's
/// CodecPrivate for AV1).
pub(super) fn av1_config(c: &mp4_atom::Av1c) -> Result<VideoCodecConfig> {
    let depth = if c.twelve_bit {
        12
    } else if c.high_bitdepth {
        10
    } else {
        8
    };
    Ok(VideoCodecConfig {
        codec: format!(
            "av01.{}.{:02}{}.{:02}",
            c.seq_profile,
            c.seq_level_idx_0,
            if c.seq_tier_0 { 'H' } else { 'M' },
            depth
        ),
        description: Some(body_of(c)?),
    })
}

/// The codec string and description of an H.264 stream from its `avcC` (also Matroska's
/// CodecPrivate for H.264).
pub(super) fn avc_config(avcc: &mp4_atom::Avcc, kind: &str) -> Result<VideoCodecConfig> {
    Ok(VideoCodecConfig {
        codec: format!(
            "{kind}.{:02x}{:02x}{:02x}",
            avcc.avc_profile_indication, avcc.profile_compatibility, avcc.avc_level_indication
        ),
        description: Some(body_of(avcc)?),
    })
}

pub(super) fn hevc_config(h: &mp4_atom::Hvcc, kind: &str) -> Result<VideoCodecConfig> {
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

/// The samples of the sample tables, then those of the fragments, in decode order.
fn all_samples(trak: &Trak, fragments: &[Fragment], trex: Option<&Trex>) -> Result<Vec<Sample>> {
    let mut samples = expand_samples(trak)?;
    let end = samples.last().map(|s| s.dts + s.duration as i64).unwrap_or(0);
    fragment_samples(trak.tkhd.track_id, trex, fragments, end, &mut samples);
    Ok(samples)
}

/// Bit of the sample flags that marks a sample that is not a sync sample (ISO/IEC 14496-12 8.8.3.1).
const SAMPLE_IS_NON_SYNC: u32 = 0x0001_0000;

/// Appends the samples the fragments' track runs give for one track. Missing values come from
/// the track fragment header, then from the `trex` defaults; decode times from `tfdt` when
/// present, else they follow on from the samples before.
fn fragment_samples(track_id: u32, trex: Option<&Trex>, fragments: &[Fragment], mut dts: i64, out: &mut Vec<Sample>) {
    for f in fragments {
        for traf in f.moof.traf.iter().filter(|t| t.tfhd.track_id == track_id) {
            let h = &traf.tfhd;
            let base = h.base_data_offset.unwrap_or(f.offset);
            if let Some(tfdt) = &traf.tfdt {
                dts = tfdt.base_media_decode_time as i64;
            }
            let duration = h.default_sample_duration.or(trex.map(|t| t.default_sample_duration)).unwrap_or(0);
            let size = h.default_sample_size.or(trex.map(|t| t.default_sample_size)).unwrap_or(0);
            let flags = h.default_sample_flags.or(trex.map(|t| t.default_sample_flags)).unwrap_or(0);
            let mut pos = base;
            for trun in &traf.trun {
                if let Some(off) = trun.data_offset {
                    pos = base.saturating_add_signed(off as i64);
                }
                for e in trun.samples.iter() {
                    let (size, duration) = (e.size.unwrap_or(size), e.duration.unwrap_or(duration));
                    let keyframe = e.flags.unwrap_or(flags) & SAMPLE_IS_NON_SYNC == 0;
                    out.push(Sample { offset: pos, size, dts, cts: dts + e.cts.unwrap_or(0), duration, keyframe });
                    pos += size as u64;
                    dts += duration as i64;
                }
            }
        }
    }
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
        (None, None) if count == 0 => Vec::new(),
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

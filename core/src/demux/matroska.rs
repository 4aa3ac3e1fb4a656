//! Reading a Matroska (MKV) or WebM file: its tracks, and the place and time of every frame.
//!
//! The `mkv-element` crate decodes the small header elements (the EBML header, `Info`, `Tracks`)
//! and block lacing. The clusters are walked here, element header by element header, without
//! reading frame data: each frame becomes a [`Sample`] with its byte offset in the file, like an
//! MP4 sample, so the rest of the pipeline reads both containers the same way. The walk needs
//! no `Cues` and accepts the unknown-size segments and clusters that live recorders (a browser's
//! `MediaRecorder`, OBS) write. Damaged bytes between clusters are skipped to the next cluster,
//! and a file cut short keeps the frames before the cut; both are told in [`Movie::notices`].
//!
//! Times: Matroska stores presentation times in ticks of `TimestampScale` nanoseconds. Video
//! samples keep them in microseconds (timescale 1 000 000). Audio that can be copied into an MP4
//! (Opus, AAC) gets the codec's own clock (its sample rate) and each packet's length in samples,
//! so the copied track has exact durations; its start and the codec's delay become an edit list.

use super::mp4::{av1_config, avc_config, hevc_config};
use super::{AudioToEncode, AudioTrack, ByteSource, EditWindow, Movie, Sample, VideoCodecConfig, VideoTrack};
use crate::error::{ReframeError, Result};
use crate::units::{PixelSize, Rotation};
use mkv_element::prelude::{Ebml, Element, Info, TrackEntry, Tracks};
use mkv_element::Lacer;
use mp4_atom::{Atom, Codec};

/// Element IDs the walk uses (RFC 9559), as written in the file (with their length marker).
mod id {
    pub const EBML: u64 = 0x1A45_DFA3;
    pub const SEGMENT: u64 = 0x1853_8067;
    pub const INFO: u64 = 0x1549_A966;
    pub const TRACKS: u64 = 0x1654_AE6B;
    pub const CLUSTER: u64 = 0x1F43_B675;
    pub const TIMESTAMP: u64 = 0xE7;
    pub const SIMPLE_BLOCK: u64 = 0xA3;
    pub const BLOCK_GROUP: u64 = 0xA0;
    pub const BLOCK: u64 = 0xA1;
    pub const BLOCK_DURATION: u64 = 0x9B;
    pub const REFERENCE_BLOCK: u64 = 0xFB;
}

/// Sample times of the video track are in microseconds.
const VIDEO_TIMESCALE: u32 = 1_000_000;
/// The output's movie timescale (edit lists): milliseconds, as Matroska's default tick.
const MOVIE_TIMESCALE: u32 = 1000;
/// Header elements (`Info`, `Tracks`) larger than this are not a real file's.
const MAX_HEADER_ELEMENT: u64 = 16 << 20;
/// A laced block is read whole to find its frames' sizes; audio laces are a few KB.
const MAX_LACED_BLOCK: u64 = 16 << 20;
/// How far past damaged bytes the walk looks for the next cluster.
const RESYNC_WINDOW: u64 = 64 << 20;

/// An element's header: its ID, where its body starts, and where it ends (`None`: unknown size,
/// it ends where an element that cannot be its child starts).
#[derive(Debug, Clone, Copy)]
struct ElementHeader {
    id: u64,
    body: u64,
    end: Option<u64>,
}

/// Reads a variable-length integer: (value without the length marker, length in bytes, whether
/// all its value bits are ones: an unknown size). `keep_marker` keeps the marker bit (IDs).
fn read_vint(bytes: &[u8], keep_marker: bool) -> Option<(u64, usize, bool)> {
    let first = *bytes.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 || bytes.len() < len {
        return None;
    }
    let mut value = if keep_marker { first as u64 } else { (first as u64) & (0xFF >> len) };
    for &b in &bytes[1..len] {
        value = (value << 8) | b as u64;
    }
    let all_ones = !keep_marker && value == (1u64 << (7 * len)) - 1;
    Some((value, len, all_ones))
}

/// Reads the element header at `offset` (None: not a valid header, or not enough bytes left).
fn element_at(src: &mut dyn ByteSource, offset: u64) -> Result<Option<ElementHeader>> {
    let n = (src.len().saturating_sub(offset)).min(12) as usize;
    if n < 2 {
        return Ok(None);
    }
    let mut head = [0u8; 12];
    src.read_at(offset, &mut head[..n])?;
    let Some((id, id_len, _)) = read_vint(&head[..n], true) else { return Ok(None) };
    if id_len > 4 {
        return Ok(None);
    }
    let Some((size, size_len, unknown)) = read_vint(&head[id_len..n], false) else { return Ok(None) };
    let body = offset + (id_len + size_len) as u64;
    Ok(Some(ElementHeader { id, body, end: (!unknown).then(|| body.saturating_add(size)) }))
}

/// Reads a whole element body into memory (header elements only).
fn read_body(src: &mut dyn ByteSource, e: &ElementHeader, what: &str) -> Result<Vec<u8>> {
    let end = e.end.ok_or_else(|| ReframeError::Corrupt(format!("its {what} has no size")))?;
    let len = end - e.body;
    if len > MAX_HEADER_ELEMENT || end > src.len() {
        return Err(ReframeError::Corrupt(format!("its {what} is damaged or cut short")));
    }
    let mut body = vec![0u8; len as usize];
    src.read_at(e.body, &mut body)?;
    Ok(body)
}

/// Decodes a header element's body with `mkv-element`.
fn decode<T: Element>(body: &[u8], what: &str) -> Result<T> {
    T::decode_body(&mut &body[..]).map_err(|e| ReframeError::Corrupt(format!("its {what} cannot be read: {e}")))
}

/// One frame found in a cluster, before the track's timing is worked out.
#[derive(Debug, Clone, Copy)]
struct RawFrame {
    offset: u64,
    size: u32,
    /// Presentation time in `TimestampScale` ticks.
    ticks: i64,
    keyframe: bool,
    /// A `BlockDuration`, in ticks.
    duration: Option<u64>,
    /// The frame's first two bytes (an Opus packet's table of contents), zero past its end.
    head: [u8; 2],
}

/// What the cluster walk collects.
#[derive(Default)]
struct Scan {
    video: Vec<RawFrame>,
    audio: Vec<RawFrame>,
    /// Places where damaged bytes were skipped to the next cluster.
    damaged_at: Vec<u64>,
    /// The file ends inside an element (it was cut short).
    cut_short: bool,
}

/// Reads the index of a Matroska or WebM file.
pub fn read_movie(src: &mut dyn ByteSource) -> Result<Movie> {
    let file_len = src.len();
    let ebml = element_at(src, 0)?.filter(|e| e.id == id::EBML).ok_or(ReframeError::NotAVideo)?;
    let doc_type = decode::<Ebml>(&read_body(src, &ebml, "header")?, "header")?.doc_type.map(|d| d.0.clone());
    let container = if doc_type.as_deref() == Some("webm") { "WebM" } else { "Matroska" };
    let header_end = ebml.end.ok_or_else(|| ReframeError::Corrupt("its header has no size".into()))?;
    let segment = element_at(src, header_end)?
        .filter(|e| e.id == id::SEGMENT)
        .ok_or_else(|| ReframeError::Corrupt("it has no segment after its header".into()))?;
    let segment_end = segment.end.unwrap_or(file_len).min(file_len);

    // The header elements come before the first cluster.
    let mut info: Option<Info> = None;
    let mut tracks: Option<Tracks> = None;
    let mut pos = segment.body;
    let mut first_cluster = None;
    while pos < segment_end {
        let Some(e) = element_at(src, pos)? else { break };
        match e.id {
            id::INFO => info = Some(decode(&read_body(src, &e, "segment information")?, "segment information")?),
            id::TRACKS => tracks = Some(decode(&read_body(src, &e, "track list")?, "track list")?),
            id::CLUSTER => {
                first_cluster = Some(pos);
                break;
            }
            _ => {}
        }
        match e.end {
            Some(end) => pos = end,
            None => return Err(ReframeError::Corrupt("an element before its first frames has no size".into())),
        }
    }
    let tracks = tracks.ok_or_else(|| ReframeError::Corrupt("it has no track list".into()))?;
    let tick_ns = info.as_ref().map(|i| *i.timestamp_scale).unwrap_or(1_000_000).max(1);
    let video_entry = tracks.track_entry.iter().find(|t| *t.track_type == 1).ok_or(ReframeError::NoVideoTrack)?;
    let audio_entries: Vec<&TrackEntry> = tracks.track_entry.iter().filter(|t| *t.track_type == 2).collect();
    // Several audio tracks: the one marked default (players start with it), else the first.
    let audio_entry =
        audio_entries.iter().find(|t| *t.flag_default != 0 && *t.flag_enabled != 0).or(audio_entries.first());
    let audio_copy = audio_entry.map(|t| audio_sample_entry(t)).transpose()?;

    let Some(first_cluster) = first_cluster else {
        return Err(ReframeError::Corrupt("it holds no frames (no cluster)".into()));
    };
    let audio_number = audio_entry.map(|t| *t.track_number);
    let scan = scan_clusters(src, first_cluster, segment_end, *video_entry.track_number, audio_number)?;
    if scan.video.is_empty() {
        return Err(ReframeError::Corrupt("its video track has no frames".into()));
    }

    // Everything starts at the first frame of either track.
    let start = scan.video.iter().chain(&scan.audio).map(|f| f.ticks).min().unwrap_or(0);
    let to_us = |ticks: i64| ((ticks - start) as i128 * tick_ns as i128 / 1000) as i64;
    let video = video_track(src, video_entry, &scan.video, tick_ns, &to_us)?;
    let mut notices = Vec::new();
    let (mut audio, mut audio_to_encode) = (None, None);
    match (audio_entry, audio_copy) {
        (Some(entry), Some(Some(copy))) => audio = Some(audio_track(entry, copy, &scan.audio, &to_us)),
        (Some(entry), _) => match to_encode(entry, &scan.audio, &to_us) {
            Some(a) => {
                notices.push(encoded_again_notice(&a.codec_name));
                audio_to_encode = Some(a);
            }
            None => notices.push(silent_notice(&audio_codec_name(&entry.codec_id))),
        },
        _ => {}
    }
    if audio_entries.len() > 1 {
        if let Some(a) = &audio {
            notices.push(format!(
                "The file has {} audio tracks; the output keeps the default one ({}).",
                audio_entries.len(),
                a.codec_name
            ));
        }
    }
    if !scan.damaged_at.is_empty() {
        notices.push(format!(
            "Parts of the file are damaged: {} damaged stretch(es) were skipped (the first at byte {}); the frames \
             there are missing from the output.",
            scan.damaged_at.len(),
            scan.damaged_at[0]
        ));
    }
    let mut movie = Movie {
        file_bytes: file_len,
        movie_timescale: MOVIE_TIMESCALE,
        video,
        audio,
        audio_to_encode,
        container,
        notices,
    };
    if scan.cut_short || segment.end.is_some_and(|end| end > file_len) {
        let declared_s = info.as_ref().and_then(|i| i.duration.as_ref()).map(|d| **d * tick_ns as f64 / 1e9);
        let notice = movie.cut_short_notice(None, declared_s);
        movie.notices.push(notice);
    }
    Ok(movie)
}

/// Walks the clusters from `pos` to `end`, collecting the frames of the two tracks.
fn scan_clusters(
    src: &mut dyn ByteSource,
    mut pos: u64,
    end: u64,
    video_number: u64,
    audio_number: Option<u64>,
) -> Result<Scan> {
    let file_len = src.len();
    let mut scan = Scan::default();
    let mut cluster_ticks = 0i64;
    while pos < end {
        let header = element_at(src, pos)?;
        // A cluster may have an unknown size (live recordings); any other element must fit.
        let next = header.and_then(|e| if e.id == id::CLUSTER { Some(e.body) } else { e.end.filter(|&x| x <= end) });
        let (Some(e), Some(next)) = (header, next) else {
            // Damaged bytes, or the file ends inside this element: go on at the next cluster.
            if let Some(cluster) = resync(src, pos, end)? {
                scan.damaged_at.push(pos);
                pos = cluster;
                continue;
            }
            let runs_past_end = header.is_none_or(|e| e.end.is_none_or(|x| x > file_len));
            if runs_past_end {
                scan.cut_short = true;
            } else {
                scan.damaged_at.push(pos);
            }
            break;
        };
        match e.id {
            id::CLUSTER => cluster_ticks = 0,
            id::TIMESTAMP => cluster_ticks = read_uint(src, &e)? as i64,
            id::SIMPLE_BLOCK => {
                if let Some((track, frames)) = block_frames(src, &e, cluster_ticks, true, None)? {
                    push_frames(&mut scan, track, frames, video_number, audio_number);
                }
            }
            id::BLOCK_GROUP => {
                if let Some((track, frames)) = block_group(src, &e, cluster_ticks)? {
                    push_frames(&mut scan, track, frames, video_number, audio_number);
                }
            }
            _ => {}
        }
        // A cluster's children follow its header; other elements are stepped over.
        pos = next;
    }
    Ok(scan)
}

fn push_frames(scan: &mut Scan, track: u64, frames: Vec<RawFrame>, video: u64, audio: Option<u64>) {
    if track == video {
        scan.video.extend(frames);
    } else if Some(track) == audio {
        scan.audio.extend(frames);
    }
}

/// After damaged bytes: the position of the next cluster, looked for in the next
/// [`RESYNC_WINDOW`] bytes (None: there is none).
fn resync(src: &mut dyn ByteSource, from: u64, end: u64) -> Result<Option<u64>> {
    const MAGIC: [u8; 4] = [0x1F, 0x43, 0xB6, 0x75];
    let limit = end.min(from.saturating_add(RESYNC_WINDOW));
    let mut at = from + 1;
    let mut buf = vec![0u8; 64 << 10];
    while at + 4 <= limit {
        let n = ((limit - at) as usize).min(buf.len());
        src.read_at(at, &mut buf[..n])?;
        if let Some(i) = buf[..n].windows(4).position(|w| w == MAGIC) {
            return Ok(Some(at + i as u64));
        }
        at += (n as u64).saturating_sub(3).max(1);
    }
    Ok(None)
}

/// An unsigned integer element's value.
fn read_uint(src: &mut dyn ByteSource, e: &ElementHeader) -> Result<u64> {
    let len = e.end.map(|x| x - e.body).unwrap_or(0);
    if len > 8 {
        return Err(ReframeError::Corrupt("a cluster's timestamp is damaged".into()));
    }
    let mut b = [0u8; 8];
    src.read_at(e.body, &mut b[8 - len as usize..])?;
    Ok(u64::from_be_bytes(b))
}

/// A `BlockGroup`: its `Block`, whether it references another frame, and its duration.
fn block_group(
    src: &mut dyn ByteSource,
    group: &ElementHeader,
    cluster_ticks: i64,
) -> Result<Option<(u64, Vec<RawFrame>)>> {
    let Some(end) = group.end else { return Err(ReframeError::Corrupt("a block group has no size".into())) };
    let end = end.min(src.len());
    let (mut block, mut references, mut duration) = (None, false, None);
    let mut pos = group.body;
    while pos < end {
        let Some(e) = element_at(src, pos)? else { break };
        let Some(next) = e.end else { break };
        match e.id {
            id::BLOCK => block = Some(e),
            id::REFERENCE_BLOCK => references = true,
            id::BLOCK_DURATION => duration = Some(read_uint(src, &e)?),
            _ => {}
        }
        pos = next;
    }
    match block {
        Some(b) => block_frames(src, &b, cluster_ticks, !references, duration),
        None => Ok(None),
    }
}

/// The frames of a `SimpleBlock` or `Block`: (track number, frames). `keyframe` is the group's
/// answer for a `Block`; a `SimpleBlock` says it in its flags.
fn block_frames(
    src: &mut dyn ByteSource,
    e: &ElementHeader,
    cluster_ticks: i64,
    keyframe: bool,
    duration: Option<u64>,
) -> Result<Option<(u64, Vec<RawFrame>)>> {
    let Some(end) = e.end else { return Err(ReframeError::Corrupt("a block has no size".into())) };
    if end > src.len() {
        return Ok(None);
    }
    let mut head = [0u8; 12];
    let n = ((end - e.body) as usize).min(head.len());
    src.read_at(e.body, &mut head[..n])?;
    let Some((track, track_len, _)) = read_vint(&head[..n], false) else { return Ok(None) };
    if n < track_len + 3 {
        return Ok(None);
    }
    let relative = i16::from_be_bytes([head[track_len], head[track_len + 1]]) as i64;
    let flags = head[track_len + 2];
    let is_simple = e.id == id::SIMPLE_BLOCK;
    let keyframe = if is_simple { flags & 0x80 != 0 } else { keyframe };
    let ticks = cluster_ticks + relative;
    let data = e.body + track_len as u64 + 3;
    let lacer = match (flags >> 1) & 3 {
        0 => {
            let size = u32::try_from(end - data).map_err(|_| ReframeError::Corrupt("a frame is too large".into()))?;
            let at = track_len + 3;
            let head = [head.get(at).copied().unwrap_or(0), head.get(at + 1).copied().unwrap_or(0)];
            return Ok(Some((track, vec![RawFrame { offset: data, size, ticks, keyframe, duration, head }])));
        }
        1 => Lacer::Xiph,
        2 => Lacer::FixedSize,
        _ => Lacer::Ebml,
    };
    if end - data > MAX_LACED_BLOCK {
        return Err(ReframeError::Corrupt("a laced block is too large".into()));
    }
    let mut body = vec![0u8; (end - data) as usize];
    src.read_at(data, &mut body)?;
    let laced = lacer.delace(&body).map_err(|e| ReframeError::Corrupt(format!("a block's lacing is damaged: {e}")))?;
    // The laced frames are stored one after another at the block's end.
    let mut offset = end - laced.iter().map(|f| f.len() as u64).sum::<u64>();
    let frames = laced
        .iter()
        .map(|f| {
            let head = [f.first().copied().unwrap_or(0), f.get(1).copied().unwrap_or(0)];
            let frame = RawFrame { offset, size: f.len() as u32, ticks, keyframe, duration: None, head };
            offset += f.len() as u64;
            frame
        })
        .collect();
    Ok(Some((track, frames)))
}

/// The video track: codec configuration, and samples with presentation times in microseconds.
fn video_track(
    src: &mut dyn ByteSource,
    entry: &TrackEntry,
    frames: &[RawFrame],
    tick_ns: u64,
    to_us: &impl Fn(i64) -> i64,
) -> Result<VideoTrack> {
    let v = entry.video.as_ref().ok_or_else(|| ReframeError::Corrupt("the video track has no picture size".into()))?;
    let coded_size = PixelSize::new(*v.pixel_width as u32, *v.pixel_height as u32);
    let private = entry.codec_private.as_ref().map(|p| &p[..]);
    let config = video_config(src, &entry.codec_id, private, frames, coded_size)?;
    let pts: Vec<i64> = frames.iter().map(|f| to_us(f.ticks)).collect();
    let default_us = entry.default_duration.as_ref().map(|d| (**d / 1000) as i64);
    let block_us = |f: &RawFrame| f.duration.map(|d| (d as i128 * tick_ns as i128 / 1000) as i64);
    let durations = durations_from_pts(&pts, frames.iter().map(block_us).collect(), default_us);
    // Decode times: the presentation times in order, moved back so no frame decodes after it shows.
    let mut sorted = pts.clone();
    sorted.sort_unstable();
    let shift = sorted.iter().zip(&pts).map(|(d, p)| d - p).max().unwrap_or(0).max(0);
    let samples = frames
        .iter()
        .enumerate()
        .map(|(i, f)| Sample {
            offset: f.offset,
            size: f.size,
            dts: sorted[i] - shift,
            cts: pts[i],
            duration: durations[i],
            keyframe: f.keyframe,
        })
        .collect();
    Ok(VideoTrack {
        track_id: *entry.track_number as u32,
        timescale: VIDEO_TIMESCALE,
        config,
        coded_size,
        rotation: Rotation::R0,
        edit: EditWindow::WHOLE,
        samples,
    })
}

/// Each frame's duration: until the next frame in presentation order; the last one its block
/// duration, the track's default, or the one before it.
fn durations_from_pts(pts: &[i64], block: Vec<Option<i64>>, default_us: Option<i64>) -> Vec<u32> {
    let mut order: Vec<usize> = (0..pts.len()).collect();
    order.sort_by_key(|&i| pts[i]);
    let mut out = vec![0u32; pts.len()];
    for w in order.windows(2) {
        out[w[0]] = (pts[w[1]] - pts[w[0]]).clamp(0, u32::MAX as i64) as u32;
    }
    if let Some(&last) = order.last() {
        let before = order.len().checked_sub(2).map(|i| out[order[i]] as i64);
        let d = block[last].or(default_us).or(before).unwrap_or(33_333);
        out[last] = d.clamp(1, u32::MAX as i64) as u32;
    }
    out
}

/// WebCodecs configuration for a Matroska video codec ID.
fn video_config(
    src: &mut dyn ByteSource,
    codec_id: &str,
    private: Option<&[u8]>,
    frames: &[RawFrame],
    size: PixelSize,
) -> Result<VideoCodecConfig> {
    let missing = || ReframeError::Corrupt(format!("the {codec_id} video track has no codec configuration"));
    let bad = |e: mp4_atom::Error| ReframeError::Corrupt(format!("the {codec_id} codec configuration is damaged: {e}"));
    match codec_id {
        "V_VP8" => Ok(VideoCodecConfig { codec: "vp8".into(), description: None }),
        "V_VP9" => {
            // Profile and bit depth from the first key frame's header (WebM rarely has CodecPrivate).
            let key = frames.iter().find(|f| f.keyframe).unwrap_or(&frames[0]);
            let mut head = vec![0u8; (key.size as usize).min(16)];
            src.read_at(key.offset, &mut head)?;
            let (profile, depth) = vp9_profile_and_depth(&head).unwrap_or((0, 8));
            Ok(VideoCodecConfig {
                codec: format!("vp09.{profile:02}.{:02}.{depth:02}", vp9_level(size)),
                description: None,
            })
        }
        "V_AV1" => match private {
            Some(p) if p.len() >= 4 => av1_config(&mp4_atom::Av1c::decode_body(&mut &p[..]).map_err(bad)?),
            // No av1C (some live recorders): main profile, 8 bits, the level for the size.
            _ => Ok(VideoCodecConfig { codec: format!("av01.0.{:02}M.08", av1_level(size)), description: None }),
        },
        "V_MPEG4/ISO/AVC" => {
            avc_config(&mp4_atom::Avcc::decode_body(&mut private.ok_or_else(missing)?).map_err(bad)?, "avc1")
        }
        "V_MPEGH/ISO/HEVC" => {
            hevc_config(&mp4_atom::Hvcc::decode_body(&mut private.ok_or_else(missing)?).map_err(bad)?, "hvc1")
        }
        "V_MPEG4/ISO/ASP" | "V_MPEG4/ISO/SP" | "V_MPEG4/ISO/AP" | "V_MS/VFW/FOURCC" => {
            Err(ReframeError::UnsupportedCodec("mp4v".into()))
        }
        other => Err(ReframeError::UnsupportedCodec(other.trim_start_matches("V_").to_string())),
    }
}

/// Profile and bit depth from a VP9 key frame's uncompressed header (VP9 bitstream spec 6.2).
fn vp9_profile_and_depth(frame: &[u8]) -> Option<(u8, u8)> {
    let bit = |i: usize| frame.get(i / 8).map(|b| (b >> (7 - i % 8)) & 1);
    if bit(0)? != 1 || bit(1)? != 0 {
        return None; // frame_marker
    }
    let profile = bit(2)? | (bit(3)? << 1);
    let mut i = 4 + usize::from(profile == 3); // reserved_zero
    if bit(i)? == 1 {
        return None; // show_existing_frame
    }
    let key = bit(i + 1)? == 0;
    i += 4; // show_existing_frame, frame_type, show_frame, error_resilient_mode
    if !key {
        return Some((profile, 8));
    }
    i += 24; // frame_sync_code
    let depth = if profile >= 2 {
        if bit(i)? == 1 {
            12
        } else {
            10
        }
    } else {
        8
    };
    Some((profile, depth))
}

/// The smallest VP9 level whose picture size fits (VP9 levels table, maximum luma picture size).
fn vp9_level(size: PixelSize) -> u32 {
    let px = size.width as u64 * size.height as u64;
    [
        (36_864, 10),
        (73_728, 11),
        (122_880, 20),
        (245_760, 21),
        (552_960, 30),
        (983_040, 31),
        (2_228_224, 41),
        (8_912_896, 51),
    ]
    .iter()
    .find(|(max, _)| px <= *max)
    .map(|&(_, level)| level)
    .unwrap_or(61)
}

/// The smallest AV1 level (seq_level_idx) whose picture size fits (AV1 spec annex A.3).
fn av1_level(size: PixelSize) -> u32 {
    let px = size.width as u64 * size.height as u64;
    [(147_456, 0), (278_784, 1), (665_856, 4), (1_065_024, 5), (2_359_296, 8), (8_912_896, 12)]
        .iter()
        .find(|(max, _)| px <= *max)
        .map(|&(_, level)| level)
        .unwrap_or(16)
}

/// The notice for sound that is encoded again.
pub fn encoded_again_notice(codec_name: &str) -> String {
    format!("The sound ({codec_name}) is encoded again as Opus for the MP4 output.")
}

/// The notice for sound that cannot be kept.
pub fn silent_notice(codec_name: &str) -> String {
    format!(
        "The sound ({codec_name}) cannot be decoded by this browser, so the output is silent. Convert the sound to \
         AAC or Opus first to keep it, for example with ffmpeg: ffmpeg -i input.mkv -c:v copy -c:a aac output.mkv"
    )
}

/// Sound an MP4 cannot hold, described for the browser's `AudioDecoder` (None: a codec that
/// no browser decodes).
fn to_encode(entry: &TrackEntry, frames: &[RawFrame], to_us: &impl Fn(i64) -> i64) -> Option<AudioToEncode> {
    let a = entry.audio.as_ref();
    let depth = a.and_then(|a| a.bit_depth.as_ref()).map(|d| **d).unwrap_or(16);
    let codec = match &*entry.codec_id {
        "A_VORBIS" => "vorbis",
        "A_FLAC" => "flac",
        "A_MPEG/L3" => "mp3",
        "A_PCM/INT/LIT" => match depth {
            8 => "pcm-u8",
            24 => "pcm-s24",
            32 => "pcm-s32",
            _ => "pcm-s16",
        },
        "A_PCM/FLOAT/IEEE" => "pcm-f32",
        "A_AC3" => "ac-3",
        "A_EAC3" => "ec-3",
        _ => return None,
    };
    let pts: Vec<i64> = frames.iter().map(|f| to_us(f.ticks)).collect();
    let durations = durations_from_pts(&pts, vec![None; pts.len()], None);
    let samples = frames
        .iter()
        .zip(pts.iter().zip(durations))
        .map(|(f, (&t, duration))| Sample { offset: f.offset, size: f.size, dts: t, cts: t, duration, keyframe: true })
        .collect();
    Some(AudioToEncode {
        codec: codec.to_string(),
        description: entry.codec_private.as_ref().map(|p| p.to_vec()).filter(|_| matches!(codec, "vorbis" | "flac")),
        sample_rate: a.map(|a| *a.sampling_frequency).unwrap_or(48_000.0).round().max(1.0) as u32,
        channels: a.map(|a| *a.channels as u32).unwrap_or(2).max(1),
        codec_name: audio_codec_name(&entry.codec_id),
        samples,
    })
}

/// A common name for a Matroska audio codec ID.
fn audio_codec_name(codec_id: &str) -> String {
    match codec_id {
        "A_VORBIS" => "Vorbis".into(),
        "A_OPUS" => "Opus".into(),
        "A_FLAC" => "FLAC".into(),
        "A_AC3" => "AC-3".into(),
        "A_EAC3" => "E-AC-3".into(),
        "A_DTS" => "DTS".into(),
        "A_MPEG/L3" => "MP3".into(),
        id if id.starts_with("A_AAC") => "AAC".into(),
        id if id.starts_with("A_PCM") => "PCM".into(),
        other => other.trim_start_matches("A_").to_string(),
    }
}

/// How an audio track is copied into an MP4: its sample entry, clock, and packet length.
struct AudioCopy {
    entry: Codec,
    /// Samples per second: the MP4 track's timescale.
    rate: u32,
    packet: PacketLength,
    /// Samples at the start the decoder drops (Opus pre-skip).
    pre_skip: u32,
    name: &'static str,
}

enum PacketLength {
    /// AAC: 1024 samples a packet.
    Fixed(u32),
    /// Opus: from each packet's table-of-contents byte.
    OpusToc,
}

/// The MP4 sample entry for an audio track (None: its codec cannot be copied into an MP4).
fn audio_sample_entry(t: &TrackEntry) -> Result<Option<AudioCopy>> {
    let a = t.audio.as_ref();
    let channels = a.map(|a| *a.channels as u16).unwrap_or(2).max(1);
    let rate = a.map(|a| *a.sampling_frequency).unwrap_or(48_000.0).round().max(1.0) as u32;
    let private = t.codec_private.as_ref().map(|p| p.to_vec());
    let audio = |rate: u32| mp4_atom::Audio {
        data_reference_index: 1,
        channel_count: channels,
        sample_size: 16,
        sample_rate: (rate.min(65_535) as u16).into(),
    };
    if &*t.codec_id == "A_OPUS" {
        let head = private.ok_or_else(|| ReframeError::Corrupt("the Opus sound has no OpusHead".into()))?;
        let dops = opus_head(&head)?;
        let pre_skip = dops.pre_skip as u32;
        let entry = Codec::Opus(mp4_atom::Opus { audio: audio(48_000), dops, btrt: None });
        return Ok(Some(AudioCopy { entry, rate: 48_000, packet: PacketLength::OpusToc, pre_skip, name: "opus" }));
    }
    if t.codec_id.starts_with("A_AAC") {
        let config = match private {
            Some(p) if p.len() >= 2 => p,
            // Old files name the profile in the codec ID instead: make the 2-byte config.
            _ => aac_config_from_id(&t.codec_id, rate, channels),
        };
        let dec_specific = mp4_atom::esds::DecoderSpecific { raw: config, ..Default::default() };
        let esds = mp4_atom::Esds {
            es_desc: mp4_atom::esds::EsDescriptor {
                es_id: 2,
                dec_config: mp4_atom::esds::DecoderConfig {
                    object_type_indication: 0x40, // MPEG-4 audio
                    stream_type: 5,               // audio
                    dec_specific: Some(dec_specific),
                    ..Default::default()
                },
                ..Default::default()
            },
        };
        let entry = Codec::Mp4a(mp4_atom::Mp4a { audio: audio(rate), esds, btrt: None, taic: None });
        return Ok(Some(AudioCopy { entry, rate, packet: PacketLength::Fixed(1024), pre_skip: 0, name: "mp4a (AAC)" }));
    }
    Ok(None)
}

/// An `OpusHead` (RFC 7845 5.1) as an MP4 `dOps`.
fn opus_head(h: &[u8]) -> Result<mp4_atom::Dops> {
    if h.len() < 19 || &h[..8] != b"OpusHead" {
        return Err(ReframeError::Corrupt("the Opus sound's header is damaged".into()));
    }
    let channels = h[9];
    let family = h[18];
    let channel_mapping = if family == 0 {
        None
    } else {
        let table = h
            .get(21..21 + channels as usize)
            .ok_or_else(|| ReframeError::Corrupt("the Opus channel table is cut short".into()))?;
        Some(mp4_atom::OpusChannelMapping {
            family,
            stream_count: h[19],
            coupled_count: h[20],
            channel_mapping: table.to_vec(),
        })
    };
    Ok(mp4_atom::Dops {
        output_channel_count: channels,
        pre_skip: u16::from_le_bytes([h[10], h[11]]),
        input_sample_rate: u32::from_le_bytes([h[12], h[13], h[14], h[15]]),
        output_gain: i16::from_le_bytes([h[16], h[17]]),
        channel_mapping,
    })
}

/// A 2-byte AudioSpecificConfig for the old `A_AAC/MPEG4/LC`-style codec IDs.
fn aac_config_from_id(codec_id: &str, rate: u32, channels: u16) -> Vec<u8> {
    let object_type: u8 = if codec_id.ends_with("MAIN") {
        1
    } else if codec_id.ends_with("SSR") {
        3
    } else if codec_id.ends_with("LTP") {
        4
    } else {
        2 // LC, and LC/SBR (HE-AAC signalled implicitly)
    };
    const RATES: [u32; 12] =
        [96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000];
    let freq = RATES.iter().position(|&r| r == rate).unwrap_or(3) as u8;
    let ch = channels.min(7) as u8;
    vec![(object_type << 3) | (freq >> 1), ((freq & 1) << 7) | (ch << 3)]
}

/// Samples in one Opus packet, from its table-of-contents byte (RFC 6716 3.1), at 48 kHz.
fn opus_packet_samples(packet: &[u8]) -> Option<u32> {
    let toc = *packet.first()?;
    let config = toc >> 3;
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][(config % 4) as usize], // SILK: 10, 20, 40, 60 ms
        12..=15 => [480, 960][(config % 2) as usize],            // hybrid: 10, 20 ms
        _ => [120, 240, 480, 960][(config % 4) as usize],        // CELT: 2.5, 5, 10, 20 ms
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => (*packet.get(1)? & 0x3F) as u32,
    };
    Some(frame * frames)
}

/// The audio track to copy: packets on the codec's clock, with an edit list for where the
/// sound starts (and, for Opus, the samples the decoder drops).
fn audio_track(entry: &TrackEntry, copy: AudioCopy, frames: &[RawFrame], to_us: &impl Fn(i64) -> i64) -> AudioTrack {
    let rate = copy.rate as i64;
    let to_rate = |us: i64| (us as i128 * rate as i128 / 1_000_000) as i64;
    let mut samples: Vec<Sample> = Vec::with_capacity(frames.len());
    let first = frames.first().map(|f| to_rate(to_us(f.ticks))).unwrap_or(0);
    let mut next = first;
    for f in frames {
        let length = match copy.packet {
            PacketLength::Fixed(n) => n,
            PacketLength::OpusToc => opus_packet_samples(&f.head[..f.size.min(2) as usize]).unwrap_or(960),
        } as i64;
        // Follow the packets' own lengths; jump only where the stamps show a gap in the sound.
        let stamped = to_rate(to_us(f.ticks));
        let dts = if stamped > next + length / 2 { stamped } else { next };
        if let Some(prev) = samples.last_mut() {
            prev.duration = (dts - prev.dts) as u32;
        }
        samples.push(Sample { offset: f.offset, size: f.size, dts, cts: dts, duration: length as u32, keyframe: true });
        next = dts + length;
    }
    // Where the sound's first sample plays on the movie's timeline: Matroska's times are after
    // the codec's delay (the Opus pre-skip); older files without CodecDelay leave it to pre_skip.
    let delay = match *entry.codec_delay {
        0 => copy.pre_skip as i64,
        ns => to_rate((ns / 1000) as i64),
    };
    let start = first - delay;
    let media_ticks: i64 = samples.iter().map(|s| s.duration as i64).sum();
    let edts = crate::mux::start_edit(start, -start, media_ticks, copy.rate, MOVIE_TIMESCALE);
    AudioTrack {
        track_id: *entry.track_number as u32,
        timescale: copy.rate,
        sample_entry: copy.entry,
        edts,
        language: entry.language.0.chars().take(3).collect(),
        samples,
        codec_name: copy.name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vints_with_and_without_marker() {
        assert_eq!(read_vint(&[0x81], false), Some((1, 1, false)));
        assert_eq!(read_vint(&[0x40, 0x02], false), Some((2, 2, false)));
        assert_eq!(read_vint(&[0x1A, 0x45, 0xDF, 0xA3], true), Some((0x1A45_DFA3, 4, false)));
        // Unknown sizes: all value bits set, at any length (live recorders write 8 bytes).
        assert_eq!(read_vint(&[0xFF], false).map(|v| v.2), Some(true));
        assert_eq!(read_vint(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], false).map(|v| v.2), Some(true));
        assert_eq!(read_vint(&[0x00, 0x01], false), None);
        assert_eq!(read_vint(&[0x40], false), None);
    }

    #[test]
    fn element_headers_read_from_bytes() {
        // Cluster (4-byte ID), size 2 in one byte.
        let mut bytes = vec![0x1F, 0x43, 0xB6, 0x75, 0x82, 0xE7, 0x80];
        let e = element_at(&mut bytes, 0).unwrap().unwrap();
        assert_eq!((e.id, e.body, e.end), (id::CLUSTER, 5, Some(7)));
        // Unknown-size cluster.
        let mut live = vec![0x1F, 0x43, 0xB6, 0x75, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xE7, 0x80];
        let e = element_at(&mut live, 0).unwrap().unwrap();
        assert_eq!((e.body, e.end), (12, None));
    }

    #[test]
    fn vp9_header_profile_and_bit_depth() {
        // frame_marker 10, profile 0 (bits 0,0), show_existing 0, key frame 0, show 1, error_res 0,
        // then the sync code 0x49 0x83 0x42.
        let key8 = [0b1000_0010, 0x49, 0x83, 0x42, 0x00];
        assert_eq!(vp9_profile_and_depth(&key8), Some((0, 8)));
        // Profile 2 (low bit 0, high bit 1), key frame, then sync code, then ten_or_twelve_bit 0.
        let bits: &[u8] = &[1, 0, 0, 1, 0, 0, 1, 0];
        let first = bits.iter().fold(0u8, |acc, b| (acc << 1) | b);
        let p2 = [first, 0x49, 0x83, 0x42, 0b0000_0000];
        assert_eq!(vp9_profile_and_depth(&p2), Some((2, 10)));
        let p2_12 = [first, 0x49, 0x83, 0x42, 0b1000_0000];
        assert_eq!(vp9_profile_and_depth(&p2_12), Some((2, 12)));
        assert_eq!(vp9_profile_and_depth(&[0x00, 0x00]), None);
    }

    #[test]
    fn levels_from_picture_size() {
        assert_eq!(vp9_level(PixelSize::new(160, 90)), 10);
        assert_eq!(vp9_level(PixelSize::new(1280, 720)), 31);
        assert_eq!(vp9_level(PixelSize::new(1920, 1080)), 41);
        assert_eq!(vp9_level(PixelSize::new(3840, 2160)), 51);
        assert_eq!(av1_level(PixelSize::new(1920, 1080)), 8);
    }

    #[test]
    fn opus_packet_lengths_from_the_toc() {
        // CELT 20 ms (config 31), one frame.
        assert_eq!(opus_packet_samples(&[31 << 3]), Some(960));
        // SILK 60 ms (config 3), two frames (code 1).
        assert_eq!(opus_packet_samples(&[(3 << 3) | 1]), Some(5760));
        // CELT 10 ms, code 3 with 3 frames.
        assert_eq!(opus_packet_samples(&[(30 << 3) | 3, 3]), Some(1440));
        assert_eq!(opus_packet_samples(&[]), None);
    }

    #[test]
    fn durations_follow_presentation_order() {
        // Stored I P B B (decode order); shown 0, 100, 33, 66 ms.
        let pts = [0, 100_000, 33_333, 66_666];
        let d = durations_from_pts(&pts, vec![None; 4], Some(33_333));
        assert_eq!(d, vec![33_333, 33_333, 33_333, 33_334]);
        let d = durations_from_pts(&[0, 40_000], vec![None, Some(20_000)], None);
        assert_eq!(d, vec![40_000, 20_000]);
    }

    #[test]
    fn aac_configs_from_old_codec_ids() {
        // LC, 48 kHz (index 3), stereo: 0x11 0x90.
        assert_eq!(aac_config_from_id("A_AAC/MPEG4/LC", 48_000, 2), vec![0x11, 0x90]);
        // Main, 44.1 kHz (index 4), mono.
        assert_eq!(aac_config_from_id("A_AAC/MPEG2/MAIN", 44_100, 1), vec![0x0A, 0x08]);
    }
}

//! Writing an MP4 progressively to a random-access byte sink.
//!
//! Layout: `ftyp`, then one `mdat` whose samples are appended as they arrive (its 64-bit size is
//! patched at the end), then `moov`. Only the per-sample index (a few bytes per sample) is kept in
//! memory, never sample data. Boxes are encoded by the `mp4-atom` crate.

use crate::error::{ReframeError, Result};
use crate::units::{ticks_to_us, us_to_ticks, PixelSize, Rotation, TimestampUs};
use mp4_atom::{
    Av01, Av1c, Avc1, Avcc, Co64, Codec, Ctts, CttsEntry, Dinf, Dref, DrefEntry, Edts, Elst, ElstEntry, Encode, FourCC,
    Ftyp, Hdlr, Matrix, Mdhd, Mdia, Minf, Moov, Mvhd, Smhd, Stbl, Stsc, StscEntry, Stsd, Stss, Stsz, StszSamples, Stts,
    SttsEntry, Tkhd, Trak, Url, Visual, Vmhd, Vp09, VpcC,
};

/// Random-access writes to the output (an OPFS file in the worker, a `Vec` in native tests).
pub trait ByteSink {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<()>;
}

impl ByteSink for Vec<u8> {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        let start = offset as usize;
        if self.len() < start + data.len() {
            self.resize(start + data.len(), 0);
        }
        self[start..start + data.len()].copy_from_slice(data);
        Ok(())
    }
}

/// The encoded video's codec configuration, as the encoder reported it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum VideoEncoding {
    /// H.264 with its avcC record (the encoder's `decoderConfig.description`).
    Avc { avcc: Vec<u8> },
    /// VP9 (profile, level, bit depth from the codec string).
    Vp9 { profile: u8, level: u8, bit_depth: u8 },
    /// AV1 with its av1C record body.
    Av1 { av1c: Vec<u8> },
}

/// The output video track.
#[derive(Debug, Clone)]
pub struct VideoSpec {
    /// Size of the encoded frames.
    pub size: PixelSize,
    /// Rotation players apply (copied from the source, so crops stay upright).
    pub rotation: Rotation,
    /// Timescale of the track (the source's video timescale keeps timestamps exact).
    pub timescale: u32,
}

/// The output audio track: a verbatim copy of the source's.
#[derive(Debug, Clone)]
pub struct AudioSpec {
    pub sample_entry: Codec,
    pub edts: Option<Edts>,
    pub timescale: u32,
    pub language: String,
}

#[derive(Debug, Clone, Copy)]
struct SampleRecord {
    size: u32,
    /// Presentation time for video, decode time for audio, in the track timescale.
    time: i64,
    duration: u32,
    keyframe: bool,
}

#[derive(Debug, Default)]
struct TrackIndex {
    samples: Vec<SampleRecord>,
    /// (file offset, number of samples) of each run of contiguous samples.
    chunks: Vec<(u64, u32)>,
    chunk_end: u64,
}

impl TrackIndex {
    fn push(&mut self, offset: u64, rec: SampleRecord) {
        match self.chunks.last_mut() {
            Some((_, n)) if self.chunk_end == offset => *n += 1,
            _ => self.chunks.push((offset, 1)),
        }
        self.chunk_end = offset + rec.size as u64;
        self.samples.push(rec);
    }
}

const MDAT_HEADER: u64 = 16;

/// An MP4 being written.
pub struct Mp4Writer<S: ByteSink> {
    sink: S,
    movie_timescale: u32,
    mdat_start: u64,
    pos: u64,
    video_spec: VideoSpec,
    video_encoding: Option<VideoEncoding>,
    video: TrackIndex,
    audio_spec: Option<AudioSpec>,
    audio: TrackIndex,
}

impl<S: ByteSink> Mp4Writer<S> {
    /// Starts a file: writes `ftyp` and the `mdat` header.
    pub fn new(mut sink: S, movie_timescale: u32, video: VideoSpec, audio: Option<AudioSpec>) -> Result<Self> {
        let ftyp = Ftyp {
            major_brand: FourCC::new(b"isom"),
            minor_version: 512,
            compatible_brands: vec![
                FourCC::new(b"isom"),
                FourCC::new(b"iso2"),
                FourCC::new(b"avc1"),
                FourCC::new(b"mp41"),
            ],
        };
        let mut head = Vec::new();
        ftyp.encode(&mut head).map_err(internal)?;
        let mdat_start = head.len() as u64;
        head.extend_from_slice(&1u32.to_be_bytes());
        head.extend_from_slice(b"mdat");
        head.extend_from_slice(&0u64.to_be_bytes());
        sink.write_at(0, &head)?;
        Ok(Mp4Writer {
            sink,
            movie_timescale: movie_timescale.max(1),
            mdat_start,
            pos: mdat_start + MDAT_HEADER,
            video_spec: video,
            video_encoding: None,
            video: TrackIndex::default(),
            audio_spec: audio,
            audio: TrackIndex::default(),
        })
    }

    /// Sets the video codec configuration (known once the encoder produced its first chunk).
    pub fn set_video_encoding(&mut self, encoding: VideoEncoding) {
        self.video_encoding = Some(encoding);
    }

    /// Replaces the audio track's description (known only at the end for sound encoded here:
    /// the encoder's own header and the track's length).
    pub fn set_audio_spec(&mut self, spec: AudioSpec) {
        self.audio_spec = Some(spec);
    }

    pub fn has_video_encoding(&self) -> bool {
        self.video_encoding.is_some()
    }

    /// Bytes written so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    pub fn video_samples(&self) -> usize {
        self.video.samples.len()
    }

    /// Appends one encoded video frame. Frames come in decode order with their presentation
    /// timestamp; `duration` is how long the frame is shown.
    pub fn push_video(&mut self, data: &[u8], pts: TimestampUs, duration_us: i64, keyframe: bool) -> Result<()> {
        let ts = self.video_spec.timescale;
        let rec = SampleRecord {
            size: data.len() as u32,
            time: us_to_ticks(pts.0, ts),
            duration: us_to_ticks(duration_us, ts).max(1) as u32,
            keyframe,
        };
        self.sink.write_at(self.pos, data)?;
        self.video.push(self.pos, rec);
        self.pos += data.len() as u64;
        Ok(())
    }

    /// Appends one audio packet, copied from the source with its own timing (track timescale).
    pub fn push_audio(&mut self, data: &[u8], dts: i64, duration: u32) -> Result<()> {
        if self.audio_spec.is_none() {
            return Err(ReframeError::Internal("audio sample without an audio track".into()));
        }
        self.sink.write_at(self.pos, data)?;
        self.audio.push(self.pos, SampleRecord { size: data.len() as u32, time: dts, duration, keyframe: true });
        self.pos += data.len() as u64;
        Ok(())
    }

    /// Writes the index (`moov`) and patches the `mdat` size. Returns the sink and the file size.
    pub fn finish(mut self) -> Result<(S, u64)> {
        let encoding =
            self.video_encoding.clone().ok_or_else(|| ReframeError::Encode("the encoder produced no frames".into()))?;
        let mdat_size = self.pos - self.mdat_start;
        self.sink.write_at(self.mdat_start + 8, &mdat_size.to_be_bytes())?;

        let video_trak = self.video_trak(&encoding)?;
        let mut traks = vec![video_trak];
        if let Some(spec) = &self.audio_spec {
            if !self.audio.samples.is_empty() {
                traks.push(self.audio_trak(spec));
            }
        }
        let duration = traks.iter().map(|t| t.tkhd.duration).max().unwrap_or(0);
        let moov = Moov {
            mvhd: Mvhd {
                timescale: self.movie_timescale,
                duration,
                rate: 1u16.into(),
                volume: 1u8.into(),
                next_track_id: traks.len() as u32 + 1,
                ..Default::default()
            },
            trak: traks,
            ..Default::default()
        };
        let mut bytes = Vec::new();
        moov.encode(&mut bytes).map_err(internal)?;
        self.sink.write_at(self.pos, &bytes)?;
        let total = self.pos + bytes.len() as u64;
        Ok((self.sink, total))
    }

    fn video_trak(&self, encoding: &VideoEncoding) -> Result<Trak> {
        let spec = &self.video_spec;
        let samples = &self.video.samples;
        if samples.is_empty() {
            return Err(ReframeError::Encode("no video frames were written".into()));
        }
        // Decode times: the sorted presentation times, shifted back so no frame is decoded after
        // it is shown (only matters if the encoder reorders frames, i.e. uses B-frames).
        let mut sorted: Vec<i64> = samples.iter().map(|s| s.time).collect();
        sorted.sort_unstable();
        let shift = samples.iter().zip(&sorted).map(|(s, d)| d - s.time).max().unwrap_or(0).max(0);
        let first_pts = sorted[0];
        let dts: Vec<i64> = sorted.iter().map(|d| d - shift).collect();
        let mut stts = Vec::<SttsEntry>::new();
        for i in 0..samples.len() {
            let delta = if i + 1 < samples.len() { (dts[i + 1] - dts[i]) as u32 } else { samples[i].duration };
            push_run_stts(&mut stts, delta);
        }
        let mut ctts = Vec::<CttsEntry>::new();
        for (s, d) in samples.iter().zip(&dts) {
            push_run_ctts(&mut ctts, s.time - d);
        }
        let needs_ctts = ctts.iter().any(|e| e.sample_offset != 0);
        let last_end = samples.iter().map(|s| s.time + s.duration as i64).max().unwrap_or(0);
        let media_duration = (dts[dts.len() - 1] - dts[0]) as u64 + samples[samples.len() - 1].duration as u64;
        let shown_ticks = (last_end - first_pts).max(0);
        let shown_us = ticks_to_us(shown_ticks, spec.timescale);
        let movie_duration = us_to_ticks(shown_us, self.movie_timescale) as u64;

        // Edit list: present the first frame at its own timestamp (keeps audio in sync).
        // Composition time of a frame in the file is (pts - first_dts); presentation = that - media_time.
        let offset = first_pts - dts[0];
        let first_pts_movie = us_to_ticks(ticks_to_us(first_pts, spec.timescale), self.movie_timescale);
        let mut entries = Vec::new();
        if first_pts > 0 {
            entries.push(ElstEntry {
                segment_duration: first_pts_movie as u64,
                media_time: None,
                media_rate: 1i16.into(),
            });
        }
        if offset != 0 || first_pts > 0 {
            entries.push(ElstEntry {
                segment_duration: movie_duration,
                media_time: Some(offset as u64),
                media_rate: 1i16.into(),
            });
        }
        let edts = (!entries.is_empty()).then_some(Edts { elst: Some(Elst { entries }) });

        let keyframes: Vec<u32> =
            samples.iter().enumerate().filter(|(_, s)| s.keyframe).map(|(i, _)| i as u32 + 1).collect();
        let all_key = keyframes.len() == samples.len();
        let visual = Visual {
            data_reference_index: 1,
            width: spec.size.width as u16,
            height: spec.size.height as u16,
            ..Default::default()
        };
        let codec: Codec = match encoding {
            VideoEncoding::Avc { avcc } => {
                let avcc = <Avcc as mp4_atom::Atom>::decode_body(&mut avcc.as_slice())
                    .map_err(|e| ReframeError::Encode(format!("bad avcC from the encoder: {e}")))?;
                Avc1 { visual, avcc, ..Default::default() }.into()
            }
            VideoEncoding::Vp9 { profile, level, bit_depth } => Vp09 {
                visual,
                vpcc: VpcC {
                    profile: *profile,
                    level: *level,
                    bit_depth: *bit_depth,
                    chroma_subsampling: 1,
                    ..Default::default()
                },
                ..Default::default()
            }
            .into(),
            VideoEncoding::Av1 { av1c } => {
                let av1c = <Av1c as mp4_atom::Atom>::decode_body(&mut av1c.as_slice())
                    .map_err(|e| ReframeError::Encode(format!("bad av1C from the encoder: {e}")))?;
                Av01 { visual, av1c, ..Default::default() }.into()
            }
        };
        let (w, h) = (spec.size.width as i32, spec.size.height as i32);
        Ok(Trak {
            tkhd: Tkhd {
                track_id: 1,
                duration: movie_duration + first_pts_movie.max(0) as u64,
                enabled: true,
                in_movie: true,
                matrix: rotation_matrix(spec.rotation, w, h),
                width: (spec.size.width as u16).into(),
                height: (spec.size.height as u16).into(),
                ..Default::default()
            },
            edts,
            mdia: Mdia {
                mdhd: Mdhd {
                    timescale: spec.timescale,
                    duration: media_duration,
                    language: "und".into(),
                    ..Default::default()
                },
                hdlr: Hdlr { handler: FourCC::new(b"vide"), name: "Reframe video".into() },
                minf: Minf {
                    vmhd: Some(Vmhd::default()),
                    dinf: self_contained_dinf(),
                    stbl: Stbl {
                        stsd: Stsd { codecs: vec![codec] },
                        stts: Stts { entries: stts },
                        ctts: needs_ctts.then_some(Ctts { entries: ctts }),
                        stss: (!all_key).then_some(Stss { entries: keyframes }),
                        stsc: stsc_of(&self.video.chunks),
                        stsz: Stsz {
                            samples: StszSamples::Different { sizes: samples.iter().map(|s| s.size).collect() },
                        },
                        co64: Some(Co64 { entries: self.video.chunks.iter().map(|c| c.0).collect() }),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            },
            ..Default::default()
        })
    }

    fn audio_trak(&self, spec: &AudioSpec) -> Trak {
        let samples = &self.audio.samples;
        let mut stts = Vec::<SttsEntry>::new();
        for s in samples {
            push_run_stts(&mut stts, s.duration);
        }
        let media_duration: u64 = samples.iter().map(|s| s.duration as u64).sum();
        let movie_duration = match spec.edts.as_ref().and_then(|e| e.elst.as_ref()) {
            Some(elst) => elst.entries.iter().map(|e| e.segment_duration).sum(),
            None => us_to_ticks(ticks_to_us(media_duration as i64, spec.timescale), self.movie_timescale) as u64,
        };
        Trak {
            tkhd: Tkhd {
                track_id: 2,
                duration: movie_duration,
                enabled: true,
                in_movie: true,
                alternate_group: 1,
                volume: 1u8.into(),
                ..Default::default()
            },
            edts: spec.edts.clone(),
            mdia: Mdia {
                mdhd: Mdhd {
                    timescale: spec.timescale,
                    duration: media_duration,
                    language: spec.language.clone(),
                    ..Default::default()
                },
                hdlr: Hdlr { handler: FourCC::new(b"soun"), name: "Reframe audio (copied)".into() },
                minf: Minf {
                    smhd: Some(Smhd::default()),
                    dinf: self_contained_dinf(),
                    stbl: Stbl {
                        stsd: Stsd { codecs: vec![spec.sample_entry.clone()] },
                        stts: Stts { entries: stts },
                        stsc: stsc_of(&self.audio.chunks),
                        stsz: Stsz {
                            samples: StszSamples::Different { sizes: samples.iter().map(|s| s.size).collect() },
                        },
                        co64: Some(Co64 { entries: self.audio.chunks.iter().map(|c| c.0).collect() }),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            },
            ..Default::default()
        }
    }
}

/// The edit list that starts a track's sound `delay` ticks into the movie, skipping the first
/// `skip` ticks of its media (an Opus pre-skip), for `media` ticks of media in all (ticks of the
/// track's `timescale`). None when there is neither.
pub fn start_edit(delay: i64, skip: i64, media: i64, timescale: u32, movie_timescale: u32) -> Option<Edts> {
    let (delay, skipped) = (delay.max(0), skip.max(0));
    if delay == 0 && skipped == 0 {
        return None;
    }
    let to_movie = |t: i64| (t.max(0) as i128 * movie_timescale as i128 / timescale.max(1) as i128) as u64;
    let mut entries = Vec::new();
    if delay > 0 {
        entries.push(ElstEntry { segment_duration: to_movie(delay), media_time: None, media_rate: 1i16.into() });
    }
    entries.push(ElstEntry {
        segment_duration: to_movie(media - skipped),
        media_time: Some(skipped as u64),
        media_rate: 1i16.into(),
    });
    Some(Edts { elst: Some(Elst { entries }) })
}

/// The MP4 sample entry of Opus sound (RFC 7845 header values; channel mapping family 0, so
/// mono or stereo).
pub fn opus_sample_entry(channels: u16, input_rate: u32, pre_skip: u16) -> Codec {
    Codec::Opus(mp4_atom::Opus {
        audio: mp4_atom::Audio {
            data_reference_index: 1,
            channel_count: channels,
            sample_size: 16,
            sample_rate: 48_000u16.into(),
        },
        dops: mp4_atom::Dops {
            output_channel_count: channels as u8,
            pre_skip,
            input_sample_rate: input_rate,
            output_gain: 0,
            channel_mapping: None,
        },
        btrt: None,
    })
}

fn internal(e: mp4_atom::Error) -> ReframeError {
    ReframeError::Internal(format!("mp4 encoding: {e}"))
}

fn self_contained_dinf() -> Dinf {
    Dinf { dref: Dref { entries: vec![DrefEntry::Url(Url { location: String::new() })] } }
}

fn push_run_stts(runs: &mut Vec<SttsEntry>, delta: u32) {
    match runs.last_mut() {
        Some(e) if e.sample_delta == delta => e.sample_count += 1,
        _ => runs.push(SttsEntry { sample_count: 1, sample_delta: delta }),
    }
}

fn push_run_ctts(runs: &mut Vec<CttsEntry>, offset: i64) {
    match runs.last_mut() {
        Some(e) if e.sample_offset == offset => e.sample_count += 1,
        _ => runs.push(CttsEntry { sample_count: 1, sample_offset: offset }),
    }
}

fn stsc_of(chunks: &[(u64, u32)]) -> Stsc {
    let mut entries = Vec::<StscEntry>::new();
    for (i, &(_, n)) in chunks.iter().enumerate() {
        if entries.last().is_some_and(|e| e.samples_per_chunk == n) {
            continue;
        }
        entries.push(StscEntry { first_chunk: i as u32 + 1, samples_per_chunk: n, sample_description_index: 1 });
    }
    Stsc { entries }
}

/// The track matrix that makes players rotate a `w`x`h` frame clockwise by `rotation`.
pub fn rotation_matrix(rotation: Rotation, w: i32, h: i32) -> Matrix {
    let one = 0x1_0000;
    let m = |a, b, c, d, x: i32, y: i32| Matrix { a, b, u: 0, c, d, v: 0, x: x << 16, y: y << 16, w: 0x4000_0000 };
    match rotation {
        Rotation::R0 => Matrix::default(),
        Rotation::R90 => m(0, one, -one, 0, h, 0),
        Rotation::R180 => m(-one, 0, 0, -one, w, h),
        Rotation::R270 => m(0, -one, one, 0, 0, w),
    }
}

//! One job: read the file's index, plan the crop (fixed, or following people after an analysis
//! pass), then decode every frame, crop it at source resolution, encode and mux to an OPFS file.
//! Memory stays flat: at most a few frames are in flight (back-pressure on the decoder's and
//! encoder's queues), and samples are read and written one at a time.

use crate::decode::{self, Decoder};
use crate::encode::{self, encoding_from_metadata, Encoder};
use crate::signal::Signal;
use crate::source::FileSource;
use crate::store::OpfsFile;
use crate::{analyze, js, messages, store};
use reframe_core::crop::{self, CropWindow};
use reframe_core::demux::{read_movie, ByteSource, Movie, Sample};
use reframe_core::encode_settings::{output_bitrate, KEYFRAME_INTERVAL};
use reframe_core::mux::{AudioSpec, Mp4Writer, VideoSpec};
use reframe_core::protocol::{
    CropMode, CropPathEntry, FromWorker, JobSettings, JobSummary, Progress, SourceInfo, Stage, StageTime,
};
use reframe_core::units::{ticks_to_us, TimestampUs};
use reframe_core::ReframeError;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsValue;
use web_sys::{EncodedVideoChunk, EncodedVideoChunkType, File, VideoFrame, VideoFrameInit};

/// Why a job stopped early.
pub enum Stop {
    Cancelled,
    Failed(ReframeError),
}

impl From<ReframeError> for Stop {
    fn from(e: ReframeError) -> Self {
        Stop::Failed(e)
    }
}

/// Frames allowed in each codec queue before the reader waits.
pub const MAX_QUEUE: u32 = 6;
/// Audio is written up to this far ahead of the video, to interleave the two tracks.
const AUDIO_LEAD_US: i64 = 500_000;
pub const PROGRESS_EVERY_MS: f64 = 250.0;

/// The crop window of every shown frame.
pub enum CropPlan {
    Fixed(CropWindow),
    /// One window per shown frame, in presentation order.
    PerFrame(Vec<CropWindow>),
}

impl CropPlan {
    fn window(&self, frame: usize) -> Option<CropWindow> {
        match self {
            CropPlan::Fixed(w) => Some(*w),
            CropPlan::PerFrame(v) => v.get(frame).copied(),
        }
    }
}

/// State shared between the reading loop and the codec callbacks of the encoding pass.
struct Shared {
    error: Option<ReframeError>,
    /// Presentation timestamps of the frames that are shown, sorted (edit list applied).
    shown: Vec<TimestampUs>,
    plan: CropPlan,
    decode_only: bool,
    encoder: Option<Rc<Encoder>>,
    /// WebCodecs codec string of the output.
    codec: String,
    writer: Option<Mp4Writer<OpfsFile>>,
    audio: Option<AudioCopy>,
    last_keyframe: Option<i64>,
    frames_decoded: u64,
    frames_encoded: u64,
    first_decode_ms: Option<f64>,
    last_decode_ms: f64,
    first_encode_ms: Option<f64>,
    last_encode_ms: f64,
    crop_path: Vec<CropPathEntry>,
    /// Duration of the last shown frame, for the muxer.
    last_frame_duration_us: i64,
}

/// Copies the source's audio packets into the output, interleaved with the video.
struct AudioCopy {
    source: FileSource,
    samples: Vec<Sample>,
    next: usize,
    timescale: u32,
}

impl AudioCopy {
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

impl Shared {
    fn fail(&mut self, e: ReframeError) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    /// A decoded frame: crop it and hand it to the encoder (or just count it when benchmarking).
    fn on_frame(&mut self, frame: VideoFrame) {
        let result = self.crop_and_encode(&frame);
        frame.close();
        if let Err(e) = result {
            self.fail(e);
        }
    }

    fn crop_and_encode(&mut self, frame: &VideoFrame) -> Result<(), ReframeError> {
        let t = TimestampUs(frame.timestamp().round() as i64);
        let Ok(index) = self.shown.binary_search(&t) else {
            // Outside the edit list: decoded only as a reference for other frames.
            return Ok(());
        };
        let now = js::now_ms();
        self.first_decode_ms.get_or_insert(now);
        self.last_decode_ms = now;
        self.frames_decoded += 1;
        if self.decode_only {
            return Ok(());
        }
        let Some(encoder) = self.encoder.clone() else { return Ok(()) };
        let window = self.plan.window(index).ok_or_else(|| ReframeError::Internal("no crop for a frame".into()))?;
        // The crop, in the decoded frame's coordinates (offset by its own visible area).
        let (vx, vy) = frame.visible_rect().map(|r| (r.x(), r.y())).unwrap_or((0.0, 0.0));
        let c = window.coded;
        let rect = web_sys::DomRectInit::new();
        rect.set_x(vx + c.x as f64);
        rect.set_y(vy + c.y as f64);
        rect.set_width(c.width as f64);
        rect.set_height(c.height as f64);
        let init = VideoFrameInit::new();
        init.set_visible_rect(&rect);
        let cropped = VideoFrame::new_with_video_frame_and_video_frame_init(frame, &init)
            .map_err(|e| ReframeError::Encode(format!("crop: {}", js::describe(&e).1)))?;
        let key = self.last_keyframe.is_none_or(|k| t.0 - k >= KEYFRAME_INTERVAL.0);
        if key {
            self.last_keyframe = Some(t.0);
        }
        let sent = encoder.encode(&cropped, key);
        cropped.close();
        sent?;
        self.crop_path.push(CropPathEntry::new(t, window.display));
        Ok(())
    }

    /// An encoded chunk: write it (and the audio up to its time) to the output file.
    fn on_chunk(&mut self, chunk: EncodedVideoChunk, metadata: JsValue) {
        if let Err(e) = self.write_chunk(&chunk, &metadata) {
            self.fail(e);
        }
    }

    fn write_chunk(&mut self, chunk: &EncodedVideoChunk, metadata: &JsValue) -> Result<(), ReframeError> {
        let codec = self.codec.clone();
        let Some(writer) = self.writer.as_mut() else { return Ok(()) };
        if !writer.has_video_encoding() {
            match encoding_from_metadata(&codec, metadata) {
                Some(enc) => writer.set_video_encoding(enc),
                None => return Err(ReframeError::Encode("the encoder did not describe its output".into())),
            }
        }
        let mut data = vec![0u8; chunk.byte_length() as usize];
        chunk
            .copy_to_with_u8_slice(&mut data)
            .map_err(|e| ReframeError::Encode(js::describe(&e).1))?;
        let pts = TimestampUs(chunk.timestamp().round() as i64);
        if let Some(audio) = self.audio.as_mut() {
            audio.write_until(writer, Some(pts.0 + AUDIO_LEAD_US))?;
        }
        let duration = chunk.duration().map(|d| d.round() as i64).unwrap_or(self.last_frame_duration_us);
        writer.push_video(&data, pts, duration.max(1), chunk.type_() == EncodedVideoChunkType::Key)?;
        let now = js::now_ms();
        self.first_encode_ms.get_or_insert(now);
        self.last_encode_ms = now;
        self.frames_encoded += 1;
        Ok(())
    }
}

fn stem(name: &str) -> String {
    let base = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name);
    let clean: String =
        base.chars().map(|c| if c.is_alphanumeric() || "-_ ".contains(c) { c } else { '_' }).collect();
    let trimmed = clean.trim();
    if trimmed.is_empty() {
        "video".to_string()
    } else {
        trimmed.chars().take(80).collect()
    }
}

fn source_info(movie: &Movie, file_name: &str) -> SourceInfo {
    let v = &movie.video;
    SourceInfo {
        file_name: file_name.to_string(),
        file_bytes: movie.file_bytes,
        video_codec: v.config.codec.clone(),
        coded_size: v.coded_size,
        display_size: v.display_size(),
        rotation_degrees: v.rotation.degrees(),
        frames: v.shown_frames(),
        duration_us: movie.video_duration().0,
        audio_codec: movie.audio.as_ref().map(|a| a.codec_name.clone()),
    }
}

pub async fn run(file: File, file_name: String, settings: JobSettings, cancel: Rc<Cell<bool>>) -> Result<JobSummary, Stop> {
    let t_start = js::now_ms();
    if !decode::has_webcodecs() {
        return Err(ReframeError::NoWebCodecs.into());
    }

    // 1. Read the index.
    messages::post(&FromWorker::Progress {
        progress: Progress { stage: Stage::Reading, frames_done: 0, frames_total: 0, fps: 0.0, eta_s: None, detail: None },
    });
    let mut video_source = FileSource::new(file.clone())?;
    let movie = read_movie(&mut video_source)?;
    messages::post(&FromWorker::Probed { source: source_info(&movie, &file_name) });
    let t_read = js::now_ms();

    let v = &movie.video;
    let display = v.display_size();
    let out_display = crop::output_size(display, settings.ratio);
    let shown = v.shown_timestamps();
    let frames_total = shown.len() as u64;
    let decoder_choice = decode::choose(v).await?;

    // 2. The crop of every frame.
    let mut analysis_report = None;
    let plan = match settings.mode {
        CropMode::Fixed => {
            let placed = crop::place(display, out_display, settings.position);
            CropPlan::Fixed(crop::resolve(placed, v.coded_size, v.rotation))
        }
        CropMode::Auto => {
            let result =
                analyze::run(&movie, &mut video_source, &decoder_choice.config, &settings, &shown, &cancel).await?;
            let path = result.crop_path.iter().map(|e| {
                let r = reframe_core::units::PixelRect::new(e.x, e.y, e.width, e.height);
                crop::resolve(r, v.coded_size, v.rotation)
            });
            let windows: Vec<CropWindow> = path.collect();
            analysis_report = Some(result);
            CropPlan::PerFrame(windows)
        }
    };
    let t_analysed = js::now_ms();

    // 3. Encoder and output file, after checking there is room for it.
    let encoded_size = match &plan {
        CropPlan::Fixed(w) => w.coded.size(),
        CropPlan::PerFrame(v) => v.first().map(|w| w.coded.size()).unwrap_or_default(),
    };
    let duration_s = (movie.video_duration().0 as f64 / 1e6).max(1e-3);
    let fps = frames_total as f64 / duration_s;
    let video_bytes: u64 = v.samples.iter().map(|s| s.size as u64).sum();
    let bitrate = output_bitrate(video_bytes as f64 * 8.0 / duration_s, v.coded_size, encoded_size, fps);
    let encoder_choice = if settings.decode_only { None } else { Some(encode::choose(encoded_size, bitrate, fps).await?) };
    let opfs_name = format!("{}-{}.mp4", stem(&file_name), js_sys::Date::now() as u64);
    let writer = if settings.decode_only {
        None
    } else {
        let expected = movie.file_bytes as f64 * (encoded_size.area() as f64 / v.coded_size.area().max(1) as f64) * 1.5;
        if let Some(free) = store::free_bytes().await {
            if free < expected {
                return Err(ReframeError::StorageFull.into());
            }
        }
        let out = OpfsFile::create(&opfs_name).await?;
        let audio = movie.audio.as_ref().map(|a| AudioSpec {
            sample_entry: a.sample_entry.clone(),
            edts: a.edts.clone(),
            timescale: a.timescale,
            language: a.language.clone(),
        });
        let spec = VideoSpec { size: encoded_size, rotation: v.rotation, timescale: v.timescale };
        Some(Mp4Writer::new(out, movie.movie_timescale, spec, audio)?)
    };
    let audio = match (&movie.audio, settings.decode_only) {
        (Some(a), false) => {
            Some(AudioCopy { source: FileSource::new(file.clone())?, samples: a.samples.clone(), next: 0, timescale: a.timescale })
        }
        _ => None,
    };
    let last_frame_duration_us =
        v.samples.iter().max_by_key(|s| s.cts).map(|s| ticks_to_us(s.duration as i64, v.timescale)).unwrap_or(33_333);
    let shared = Rc::new(RefCell::new(Shared {
        error: None,
        shown,
        plan,
        decode_only: settings.decode_only,
        encoder: None,
        codec: encoder_choice.as_ref().map(|c| c.codec.clone()).unwrap_or_default(),
        writer,
        audio,
        last_keyframe: None,
        frames_decoded: 0,
        frames_encoded: 0,
        first_decode_ms: None,
        last_decode_ms: 0.0,
        first_encode_ms: None,
        last_encode_ms: 0.0,
        crop_path: Vec::with_capacity(frames_total as usize),
        last_frame_duration_us,
    }));

    // 4. Decode, crop, encode, write.
    let result = transcode(&movie, &mut video_source, &shared, &decoder_choice.config, encoder_choice, &cancel, frames_total).await;
    let mut s = shared.borrow_mut();
    s.encoder = None;
    let writer = s.writer.take();
    if let Err(stop) = result {
        // Keep no half-written output.
        if let Some(w) = writer {
            drop(w);
            store::remove(&opfs_name).await;
        }
        return Err(stop);
    }
    let t_process = js::now_ms();

    // 5. Finish the MP4.
    messages::post(&FromWorker::Progress {
        progress: Progress { stage: Stage::Finishing, frames_done: s.frames_encoded, frames_total, fps: 0.0, eta_s: None, detail: None },
    });
    let (output_bytes, audio_copied) = match writer {
        Some(mut w) => {
            if let Some(audio) = s.audio.as_mut() {
                audio.write_until(&mut w, None)?;
            }
            let (out, len) = w.finish()?;
            out.flush()?;
            out.close();
            (len, s.audio.is_some())
        }
        None => (0, false),
    };
    let t_end = js::now_ms();
    let rate = |n: u64, a: Option<f64>, b: f64| match a {
        Some(a) if b > a => n as f64 / ((b - a) / 1000.0),
        _ => 0.0,
    };
    let frames_out = if settings.decode_only { s.frames_decoded } else { s.frames_encoded };
    if frames_out != frames_total {
        return Err(ReframeError::Internal(format!("{frames_out} of {frames_total} frames came out")).into());
    }
    let mut stages = vec![StageTime { stage: Stage::Reading, seconds: (t_read - t_start) / 1000.0 }];
    if settings.mode == CropMode::Auto {
        stages.push(StageTime { stage: Stage::Analysing, seconds: (t_analysed - t_read) / 1000.0 });
    }
    stages.push(StageTime { stage: Stage::Processing, seconds: (t_process - t_analysed) / 1000.0 });
    stages.push(StageTime { stage: Stage::Finishing, seconds: (t_end - t_process) / 1000.0 });
    Ok(JobSummary {
        output_path: if settings.decode_only { String::new() } else { format!("{}/{}", store::OUTPUT_DIR, opfs_name) },
        download_name: format!("{}-{}.mp4", stem(&file_name), settings.ratio.file_tag()),
        output_bytes,
        output_size: encoded_size.rotated(v.rotation),
        video_codec: s.codec.clone(),
        audio_copied,
        frames_in: frames_total,
        frames_out,
        elapsed_s: (t_end - t_start) / 1000.0,
        stages,
        decode_fps: rate(s.frames_decoded, s.first_decode_ms, s.last_decode_ms),
        encode_fps: rate(s.frames_encoded, s.first_encode_ms, s.last_encode_ms),
        hardware_decode: decoder_choice.hardware,
        crop_path: std::mem::take(&mut s.crop_path),
        analysis: analysis_report.map(|a| a.report),
    })
}

/// Feeds every sample to the decoder with back-pressure, then flushes both codecs.
async fn transcode(
    movie: &Movie,
    source: &mut FileSource,
    shared: &Rc<RefCell<Shared>>,
    decoder_config: &web_sys::VideoDecoderConfig,
    encoder_choice: Option<encode::EncoderChoice>,
    cancel: &Rc<Cell<bool>>,
    frames_total: u64,
) -> Result<(), Stop> {
    let signal = Signal::default();
    let encoder = match encoder_choice {
        Some(choice) => {
            let (s1, s2, w1, w2, w3) = (shared.clone(), shared.clone(), signal.clone(), signal.clone(), signal.clone());
            let enc = Encoder::new(
                &choice,
                move |chunk, meta| {
                    s1.borrow_mut().on_chunk(chunk, meta);
                    w1.wake();
                },
                move |e| {
                    s2.borrow_mut().fail(e);
                    w2.wake();
                },
                move || w3.wake(),
            )?;
            Some(Rc::new(enc))
        }
        None => None,
    };
    shared.borrow_mut().encoder = encoder.clone();
    let (s3, s4, w4, w5, w6) = (shared.clone(), shared.clone(), signal.clone(), signal.clone(), signal.clone());
    let decoder = Decoder::new(
        decoder_config,
        move |frame| {
            s3.borrow_mut().on_frame(frame);
            w4.wake();
        },
        move |e| {
            s4.borrow_mut().fail(e);
            w5.wake();
        },
        move || w6.wake(),
    )?;

    let t_start = js::now_ms();
    let v = &movie.video;
    let mut last_progress = 0.0;
    for sample in &v.samples {
        loop {
            if cancel.get() {
                return Err(Stop::Cancelled);
            }
            if let Some(e) = shared.borrow_mut().error.take() {
                return Err(e.into());
            }
            let enc_queue = encoder.as_ref().map(|e| e.queue_size()).unwrap_or(0);
            if decoder.queue_size() < MAX_QUEUE && enc_queue < MAX_QUEUE {
                break;
            }
            signal.wait(50).await;
        }
        let mut data = vec![0u8; sample.size as usize];
        source.read_at(sample.offset, &mut data)?;
        decoder.decode(v, sample, &data)?;

        let now = js::now_ms();
        if now - last_progress >= PROGRESS_EVERY_MS {
            last_progress = now;
            let s = shared.borrow();
            let done = if s.decode_only { s.frames_decoded } else { s.frames_encoded };
            drop(s);
            post_progress(Stage::Processing, done, frames_total, t_start, now);
            // Let the codec callbacks run even when the queues never fill.
            js::sleep(0).await;
        }
    }
    decoder.flush().await?;
    if let Some(e) = shared.borrow_mut().error.take() {
        return Err(e.into());
    }
    if let Some(enc) = &encoder {
        enc.flush().await?;
    }
    if let Some(e) = shared.borrow_mut().error.take() {
        return Err(e.into());
    }
    Ok(())
}

/// Posts progress of a stage: frames done of total, speed since `t_start`, time left.
pub fn post_progress(stage: Stage, done: u64, frames_total: u64, t_start: f64, now: f64) {
    let secs = ((now - t_start) / 1000.0).max(1e-3);
    let fps = done as f64 / secs;
    let eta_s = (fps > 0.0).then(|| (frames_total.saturating_sub(done)) as f64 / fps);
    messages::post(&FromWorker::Progress { progress: Progress { stage, frames_done: done, frames_total, fps, eta_s, detail: None } });
}

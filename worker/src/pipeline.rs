//! One job, from a `File` to a finished MP4 in OPFS, resumable at every step:
//!
//! 1. read the file's index (`demux`) and fingerprint the file (`fingerprint`): the job's key;
//! 2. take the job's Web Lock (one tab per job) and load what is stored of it (IndexedDB);
//! 3. plan the crop: fixed, or (auto mode) from the analysis pass (`analyze`), resumed or reused;
//! 4. encode the segments not stored yet (`transcode`);
//! 5. assemble the MP4 from the segments and the source's audio (`assemble`).
//!
//! Memory stays flat: at most a few frames are in flight (back-pressure on the decoder's and
//! encoder's queues), and samples are read and written one at a time.

use crate::analyze::{self, AnalysisJob};
use crate::assemble::assemble;
use crate::db::{now_epoch_ms, Db};
use crate::decode::{self, Decoder, FeedLoop, FrameSink, MAX_QUEUE};
use crate::encode::{self};
use crate::signal::Signal;
use crate::source::FileSource;
use crate::transcode::{self, EncodeJob};
use crate::{js, lock, messages, store};
use reframe_core::analysis::Analysis;
use reframe_core::crop::{self, CropWindow};
use reframe_core::demux::{read_movie, ByteSource, Movie};
use reframe_core::encode_settings::output_bitrate;
use reframe_core::fingerprint::{self, analysis_id, job_id};
use reframe_core::job::{JobRecord, JobStage, JOB_SCHEMA};
use reframe_core::protocol::{
    CropMode, CropPathEntry, FromWorker, JobSettings, JobSummary, Progress, ResumeInfo, SourceInfo, Stage, StageTime,
};
use reframe_core::records::AnalysisChunk;
use reframe_core::records::{CropPathRecord, SegmentIndex};
use reframe_core::resume::{presentation_indices, runs_to_do, ChunkLayout, CHUNK_DURATION};
use reframe_core::units::{DurationUs, TimestampUs};
use reframe_core::ReframeError;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use web_sys::{File, VideoFrame};

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

/// The crop window of every shown frame.
pub enum CropPlan {
    Fixed(CropWindow),
    /// One window per shown frame, in presentation order.
    PerFrame(Vec<CropWindow>),
}

impl CropPlan {
    pub fn window(&self, frame: usize) -> Option<CropWindow> {
        match self {
            CropPlan::Fixed(w) => Some(*w),
            CropPlan::PerFrame(v) => v.get(frame).copied(),
        }
    }

    fn encoded_size(&self) -> reframe_core::units::PixelSize {
        match self {
            CropPlan::Fixed(w) => w.coded.size(),
            CropPlan::PerFrame(v) => v.first().map(|w| w.coded.size()).unwrap_or_default(),
        }
    }
}

fn stem(name: &str) -> String {
    let base = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name);
    let clean: String = base.chars().map(|c| if c.is_alphanumeric() || "-_ ".contains(c) { c } else { '_' }).collect();
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

/// Posts progress of a stage: frames done of total, speed over the frames done in this session.
pub fn post_progress(stage: Stage, done: u64, frames_total: u64, t_start: f64, now: f64, done_now: u64) {
    let secs = ((now - t_start) / 1000.0).max(1e-3);
    let fps = done_now as f64 / secs;
    let eta_s = (fps > 0.0).then(|| (frames_total.saturating_sub(done)) as f64 / fps);
    messages::post(&FromWorker::Progress {
        progress: Progress { stage, frames_done: done, frames_total, fps, eta_s, detail: None },
    });
}

fn post_stage(stage: Stage, done: u64, total: u64) {
    messages::post(&FromWorker::Progress {
        progress: Progress { stage, frames_done: done, frames_total: total, fps: 0.0, eta_s: None, detail: None },
    });
}

pub async fn run(
    file: File,
    handle: Option<wasm_bindgen::JsValue>,
    import: Option<String>,
    file_name: String,
    settings: JobSettings,
    resume: Option<String>,
    cancel: Rc<Cell<bool>>,
) -> Result<JobSummary, Stop> {
    let t_start = js::now_ms();
    if !decode::has_webcodecs() {
        return Err(ReframeError::NoWebCodecs.into());
    }

    // 1. The index, and the file's fingerprint.
    post_stage(Stage::Reading, 0, 0);
    let mut source = FileSource::new(file.clone())?;
    let movie = read_movie(&mut source)?;
    messages::post(&FromWorker::Probed { source: source_info(&movie, &file_name) });
    let v = &movie.video;
    let decoder_choice = decode::choose(v).await?;
    if settings.decode_only {
        return decode_only(&movie, &mut source, &decoder_choice.config, &cancel, t_start).await;
    }
    let fp = fingerprint::fingerprint(&file_name, movie.file_bytes, file.last_modified(), |off, buf| {
        source.read_at(off, buf)
    })?;
    let id = job_id(&fp, &settings);

    // 2. One tab per job, and what is stored of it.
    let db = Db::open().await?;
    if let Some(expected) = &resume {
        let Some(record) = db.job(expected).await? else {
            return Err(ReframeError::Storage("the job to resume is no longer stored; start it again".into()).into());
        };
        if let Some(why) = record.file.mismatch(&fp) {
            return Err(ReframeError::WrongFile(why).into());
        }
        if &id != expected {
            return Err(ReframeError::WrongFile("the settings differ from the job's".into()).into());
        }
    }
    let _lock = lock::lock_job(&id).await?;
    // Ask the browser not to evict our stored work under storage pressure.
    if let Ok(p) = js::worker_scope().navigator().storage().persist() {
        let _ = js::wait(p, js::storage_error).await;
    }

    let display = v.display_size();
    let out_display = crop::output_size(display, settings.ratio);
    let shown = Rc::new(v.shown_timestamps());
    let pres = presentation_indices(v, &shown);
    let frames_total = shown.len() as u64;
    let chunk = settings.chunk_seconds.map(DurationUs::from_seconds).unwrap_or(CHUNK_DURATION);
    let layout = ChunkLayout::new(frames_total, movie.video_duration(), chunk);
    let aid = (settings.mode == CropMode::Auto)
        .then(|| analysis_id(&fp, &settings, crate::detect::model(settings.model).name()));

    if let (Some(aid), Some(json)) = (&aid, &import) {
        import_analysis(&db, aid, json, &fp, display).await?;
    }
    let stored = db.job(&id).await?;
    if let Some(done) = stored.as_ref().filter(|r| r.stage == JobStage::Done) {
        if let Some(summary) = finished(&db, done, &shown).await? {
            messages::post(&FromWorker::Started {
                job_id: id.clone(),
                resumed: Some(ResumeInfo {
                    analysis_from_frame: None,
                    encode_from_frame: frames_total,
                    damaged_chunks: 0,
                }),
            });
            return Ok(summary);
        }
    }
    let usable = stored.filter(|r| {
        r.schema <= JOB_SCHEMA
            && r.frames_total == frames_total
            && r.chunk_frames == layout.chunk_frames
            && r.stage != JobStage::Done
    });
    let resuming = usable.is_some();
    let now = now_epoch_ms();
    let mut job = usable.unwrap_or_else(|| JobRecord {
        schema: JOB_SCHEMA,
        id: id.clone(),
        analysis_id: aid.clone(),
        file: fp.clone(),
        settings: settings.clone(),
        stage: if aid.is_some() { JobStage::Analysing } else { JobStage::Encoding },
        frames_total,
        chunk_frames: layout.chunk_frames,
        chunks: layout.count(),
        analysis_chunks_done: 0,
        segments_done: 0,
        stored_bytes: 0,
        output_path: None,
        download_name: format!("{}-{}.mp4", stem(&file_name), settings.ratio.file_tag()),
        created_ms: now,
        updated_ms: now,
        summary: None,
    });
    if !resuming {
        // A stale job under this key (another chunk size, or a lost output): start it afresh.
        store::remove(&store::job_dir(&id)).await;
    }
    job.updated_ms = now;
    db.put_job(&job).await?;
    if let Some(h) = &handle {
        // Not fatal: without it the user picks the file again on resume.
        let _ = db.put_handle(&id, h).await;
    }

    // What is stored: analysis chunks (auto mode) and output segments (files checked too).
    let Stored { mut segments, runs, crop_path: crop_path_stored, analysis_chunks, analysis_from, damaged } =
        stored_state(&db, &mut job, aid.as_deref(), layout).await?;
    let encode_from = runs.first().map(|r| layout.range(r.start).start).unwrap_or(frames_total);
    messages::post(&FromWorker::Started {
        job_id: id.clone(),
        resumed: resuming.then_some(ResumeInfo {
            analysis_from_frame: analysis_from,
            encode_from_frame: encode_from,
            damaged_chunks: damaged,
        }),
    });

    // 3. The crop of every frame.
    let t_read = js::now_ms();
    let (plan, crop_path, analysis_report) = match &aid {
        None => {
            let placed = crop::place(display, out_display, settings.position);
            let window = crop::resolve(placed, v.coded_size, v.rotation);
            let path = shown.iter().map(|&t| CropPathEntry::new(t, window.display)).collect();
            (CropPlan::Fixed(window), path, None)
        }
        Some(aid) => {
            let (path, report) = match crop_path_stored {
                Some(p) => {
                    let analysis = db.analysis(aid).await?.and_then(|j| Analysis::from_json(&j).ok());
                    let report = match analysis {
                        Some(a) => analyze::report(&a, analyze::DetectorRun::reused(), &settings),
                        None => return Err(ReframeError::Internal("the stored analysis is missing".into()).into()),
                    };
                    (p.entries, report)
                }
                None => {
                    let a = AnalysisJob {
                        movie: &movie,
                        decoder_config: &decoder_choice.config,
                        settings: &settings,
                        shown: &shown,
                        pres: &pres,
                        layout,
                        analysis_id: aid,
                        file: &fp,
                        cancel: &cancel,
                    };
                    let result = analyze::run(a, analysis_chunks, &mut source, &db, &mut job).await?;
                    job.stage = JobStage::Encoding;
                    job.updated_ms = now_epoch_ms();
                    let record = CropPathRecord { entries: result.crop_path };
                    db.commit_analysis(aid, &result.json, &record, &job).await?;
                    (record.entries, result.report)
                }
            };
            let windows = path
                .iter()
                .map(|e| {
                    crop::resolve(
                        reframe_core::units::PixelRect::new(e.x, e.y, e.width, e.height),
                        v.coded_size,
                        v.rotation,
                    )
                })
                .collect();
            (CropPlan::PerFrame(windows), path, Some(report))
        }
    };
    let t_analysed = js::now_ms();

    // 4. Encode the segments not stored yet.
    let encoded_size = plan.encoded_size();
    let duration_s = (movie.video_duration().0 as f64 / 1e6).max(1e-3);
    let fps = frames_total as f64 / duration_s;
    let video_bytes: u64 = v.samples.iter().map(|s| s.size as u64).sum();
    let bitrate = output_bitrate(video_bytes as f64 * 8.0 / duration_s, v.coded_size, encoded_size, fps);
    let encoder_choice = Rc::new(encode::choose(encoded_size, bitrate, fps).await?);
    let left = frames_total.saturating_sub(encode_from) as f64 / frames_total.max(1) as f64;
    let expected =
        movie.file_bytes as f64 * (encoded_size.area() as f64 / v.coded_size.area().max(1) as f64) * 1.5 * left;
    if let Some(free) = store::free_bytes().await {
        if free < expected {
            return Err(ReframeError::StorageFull.into());
        }
    }
    post_stage(Stage::Processing, encode_from, frames_total);
    let plan = Rc::new(plan);
    let e = EncodeJob {
        movie: &movie,
        decoder_config: &decoder_choice.config,
        choice: encoder_choice.clone(),
        plan,
        shown: shown.clone(),
        pres: &pres,
        layout,
        cancel: &cancel,
    };
    let stats = transcode::run(e, &runs, &mut source, &db, &mut job, &mut segments).await?;
    let t_process = js::now_ms();

    // 5. One MP4 from the segments.
    segments.sort_by_key(|s| s.index);
    let frames_out: u64 = segments.iter().map(|s| s.samples.len() as u64).sum();
    if frames_out != frames_total || segments.len() as u64 != layout.count() {
        return Err(ReframeError::Internal(format!("{frames_out} of {frames_total} frames came out")).into());
    }
    job.stage = JobStage::Finishing;
    job.updated_ms = now_epoch_ms();
    db.put_job(&job).await?;
    post_stage(Stage::Finishing, frames_out, frames_total);
    let out_path = format!("{}/{}-{}.mp4", store::OUTPUT_DIR, stem(&file_name), &id[4..12]);
    let (output_bytes, audio_copied) = assemble(&movie, &file, &id, &segments, encoded_size, &out_path).await?;
    let t_end = js::now_ms();

    let mut stages = vec![StageTime { stage: Stage::Reading, seconds: (t_read - t_start) / 1000.0 }];
    if aid.is_some() {
        stages.push(StageTime { stage: Stage::Analysing, seconds: (t_analysed - t_read) / 1000.0 });
    }
    stages.push(StageTime { stage: Stage::Processing, seconds: (t_process - t_analysed) / 1000.0 });
    stages.push(StageTime { stage: Stage::Finishing, seconds: (t_end - t_process) / 1000.0 });
    let rate = |n: u64| if stats.seconds > 0.0 { n as f64 / stats.seconds } else { 0.0 };
    let summary = JobSummary {
        output_path: out_path.clone(),
        download_name: job.download_name.clone(),
        output_bytes,
        output_size: encoded_size.rotated(v.rotation),
        video_codec: encoder_choice.codec.clone(),
        audio_copied,
        frames_in: frames_total,
        frames_out,
        elapsed_s: (t_end - t_start) / 1000.0,
        stages,
        decode_fps: rate(stats.frames_decoded),
        encode_fps: rate(stats.frames_encoded),
        hardware_decode: decoder_choice.hardware,
        crop_path: Vec::new(),
        analysis: None,
    };
    job.stage = JobStage::Done;
    job.output_path = Some(out_path);
    job.stored_bytes = output_bytes;
    job.summary = Some(summary.clone());
    job.updated_ms = now_epoch_ms();
    if aid.is_none() {
        // The fixed crop's path is kept like auto mode's, for a later look at the finished job.
        db.put_crop_path(&job.id, &CropPathRecord { entries: crop_path.clone() }).await?;
    }
    db.commit_done(&job).await?;
    store::remove(&store::job_dir(&id)).await;
    Ok(JobSummary { crop_path, analysis: analysis_report, ..summary })
}

/// Stores an analysis file the user gave, as this video's analysis for this profile (unless one
/// is stored already).
async fn import_analysis(
    db: &Db,
    aid: &str,
    json: &str,
    fp: &fingerprint::FileFingerprint,
    display: reframe_core::units::PixelSize,
) -> Result<(), ReframeError> {
    let analysis = Analysis::from_json(json).map_err(|e| ReframeError::BadAnalysis(e.to_string()))?;
    if let Some(why) = analysis.mismatch(fp, display) {
        return Err(ReframeError::BadAnalysis(format!("it is not of this video ({why})")));
    }
    if db.analysis(aid).await?.is_some() {
        messages::post(&FromWorker::Notice {
            message: "This video's analysis was already stored; the imported file was not needed.".into(),
        });
        return Ok(());
    }
    db.put_analysis(aid, json).await
}

/// A finished job's summary, when its output is still stored.
async fn finished(db: &Db, job: &JobRecord, shown: &[TimestampUs]) -> Result<Option<JobSummary>, ReframeError> {
    let (Some(path), Some(summary)) = (&job.output_path, &job.summary) else { return Ok(None) };
    if store::file_size(path).await.is_none() {
        return Ok(None);
    }
    let crop_path = db.crop_path(&job.id).await?.map(|p| p.entries).unwrap_or_default();
    if crop_path.len() != shown.len() {
        return Ok(None);
    }
    let analysis = match &job.analysis_id {
        Some(a) => db
            .analysis(a)
            .await?
            .and_then(|j| Analysis::from_json(&j).ok())
            .map(|a| analyze::report(&a, analyze::DetectorRun::reused(), &job.settings)),
        None => None,
    };
    Ok(Some(JobSummary { crop_path, analysis, ..summary.clone() }))
}

/// Benchmark aid: decode every frame, count them, store nothing.
/// What a job has stored that is sound: output segments (with their files), and in auto mode the
/// finished crop path or else the analysis chunks. Damaged pieces are counted and redone.
struct Stored {
    segments: Vec<SegmentIndex>,
    /// Runs of chunks whose segments are still to encode.
    runs: Vec<std::ops::Range<u64>>,
    crop_path: Option<CropPathRecord>,
    analysis_chunks: BTreeMap<u64, AnalysisChunk>,
    /// The first frame the analysis still has to look at (auto mode, analysis not finished).
    analysis_from: Option<u64>,
    damaged: u64,
}

async fn stored_state(
    db: &Db,
    job: &mut JobRecord,
    aid: Option<&str>,
    layout: ChunkLayout,
) -> Result<Stored, ReframeError> {
    let (stored_segments, mut damaged) = db.segments(&job.id).await?;
    let mut segments: Vec<SegmentIndex> = Vec::new();
    for s in stored_segments {
        let sound = layout.range(s.index) == (s.first_frame..s.end_frame)
            && s.samples.len() as u64 == s.end_frame - s.first_frame
            && store::file_size(&store::segment_path(&job.id, s.index)).await == Some(s.file_bytes());
        if sound {
            segments.push(s);
        } else {
            damaged += 1;
        }
    }
    let done: Vec<bool> = (0..layout.count()).map(|c| segments.iter().any(|s| s.index == c)).collect();
    let runs = runs_to_do(&done);
    job.segments_done = segments.len() as u64;
    job.stored_bytes = segments.iter().map(|s| s.file_bytes()).sum();
    let crop_path = match (aid, job.stage) {
        (Some(_), JobStage::Analysing) | (None, _) => None,
        (Some(_), _) => db.crop_path(&job.id).await?.filter(|p| p.entries.len() as u64 == job.frames_total),
    };
    let (analysis_chunks, analysis_damaged, analysis_from) = match (aid, &crop_path) {
        (Some(a), None) => {
            let (chunks, bad) = analyze::stored_chunks(db, a, layout).await?;
            let from = analyze::first_missing(&chunks, layout);
            (chunks, bad, from)
        }
        _ => Default::default(),
    };
    damaged += analysis_damaged;
    Ok(Stored { segments, runs, crop_path, analysis_chunks, analysis_from, damaged })
}

async fn decode_only(
    movie: &Movie,
    source: &mut FileSource,
    config: &web_sys::VideoDecoderConfig,
    cancel: &Cell<bool>,
    t_start: f64,
) -> Result<JobSummary, Stop> {
    struct Count {
        shown: Vec<TimestampUs>,
        frames: u64,
        first_ms: Option<f64>,
        last_ms: f64,
        error: Option<ReframeError>,
    }
    impl FrameSink for Count {
        fn on_frame(&mut self, frame: VideoFrame) {
            let t = TimestampUs(frame.timestamp().round() as i64);
            frame.close();
            if self.shown.binary_search(&t).is_ok() {
                let now = js::now_ms();
                self.first_ms.get_or_insert(now);
                self.last_ms = now;
                self.frames += 1;
            }
        }
        fn on_error(&mut self, error: ReframeError) {
            self.error.get_or_insert(error);
        }
    }
    struct Loop {
        count: Rc<RefCell<Count>>,
        total: u64,
        t_start: f64,
    }
    impl FeedLoop for Loop {
        async fn ready(&mut self, decoder: &Decoder) -> Result<bool, Stop> {
            if let Some(e) = self.count.borrow_mut().error.take() {
                return Err(e.into());
            }
            Ok(decoder.queue_size() < MAX_QUEUE)
        }
        fn progress(&mut self, now: f64) {
            let n = self.count.borrow().frames;
            post_progress(Stage::Processing, n, self.total, self.t_start, now, n);
        }
    }
    let v = &movie.video;
    let shown = v.shown_timestamps();
    let total = shown.len() as u64;
    let count = Rc::new(RefCell::new(Count { shown, frames: 0, first_ms: None, last_ms: 0.0, error: None }));
    let signal = Signal::default();
    let decoder = Decoder::feeding(config, &count, &signal)?;
    let t0 = js::now_ms();
    let mut lp = Loop { count: count.clone(), total, t_start: t0 };
    decode::feed(&decoder, v, source, 0..v.samples.len(), &signal, cancel, &mut lp).await?;
    if let Some(e) = count.borrow_mut().error.take() {
        return Err(e.into());
    }
    let c = count.borrow();
    if c.frames != total {
        return Err(ReframeError::Internal(format!("{} of {total} frames came out", c.frames)).into());
    }
    let t_end = js::now_ms();
    let fps = match c.first_ms {
        Some(a) if c.last_ms > a => c.frames as f64 / ((c.last_ms - a) / 1000.0),
        _ => 0.0,
    };
    Ok(JobSummary {
        output_path: String::new(),
        download_name: String::new(),
        output_bytes: 0,
        output_size: Default::default(),
        video_codec: String::new(),
        audio_copied: false,
        frames_in: total,
        frames_out: c.frames,
        elapsed_s: (t_end - t_start) / 1000.0,
        stages: vec![StageTime { stage: Stage::Processing, seconds: (t_end - t0) / 1000.0 }],
        decode_fps: fps,
        encode_fps: 0.0,
        hardware_decode: false,
        crop_path: Vec::new(),
        analysis: None,
    })
}

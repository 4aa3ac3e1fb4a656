//! One export, from a `File` to finished MP4s in OPFS, resumable at every step. An export has one
//! output per ratio asked for, each its own stored job (key, record, segments, output file); they
//! share the analysis and one decode of the source. [`run`] reads as the steps, each a function
//! below:
//!
//! 1. [`open`]: read the file's index (`demux`), pick a decoder, fingerprint the file (the job's
//!    key);
//! 2. [`claim`]: check a resume is of this file, take each output job's Web Lock (one tab per
//!    job);
//! 3. [`finished`], or [`load_record`] and [`load_stored`]: what is stored of each output's job
//!    (IndexedDB, OPFS), checked by `reframe_core::resume`;
//! 4. [`plan`]: the crop of every frame: fixed, or (auto mode) from the analysis pass
//!    (`analyze`), resumed or reused (the first output analyses, the others reuse it);
//! 5. [`encode`]: encode the segments not stored yet, of every output in one pass (`transcode`);
//! 6. [`finish`]: assemble each MP4 from its segments and the source's audio (`assemble`), and
//!    record its job as done.
//!
//! Memory stays flat: at most a few frames are in flight (back-pressure on the decoder's and
//! encoder's queues), and samples are read and written one at a time.

use crate::analyze::{self, AnalysisJob};
use crate::assemble::assemble;
use crate::audio_encode::AudioEncode;
use crate::db::{now_epoch_ms, Db};
use crate::decode::{self, DecoderChoice};
use crate::feed::Stop;
use crate::lock::{self, JobLock};
use crate::progress::post_stage;
use crate::source::FileSource;
use crate::transcode::{self, EncodeJob, EncodeStats, Output};
use crate::{decode_only, encode, js, messages, store};
use reframe_core::analysis::Analysis;
use reframe_core::crop::{self, CropPathEntry, CropPlan};
use reframe_core::demux::{matroska, read_movie, ByteSource, Movie};
use reframe_core::encode_settings::output_bitrate;
use reframe_core::fingerprint::{self, analysis_id, job_id, FileFingerprint};
use reframe_core::job::{JobRecord, JobStage, JOB_SCHEMA};
use reframe_core::protocol::{FromWorker, ResumeInfo, SourceInfo};
use reframe_core::records::{CropPathRecord, SegmentIndex};
use reframe_core::resume::{self, presentation_indices, AnalysisResume, ChunkLayout, EncodeResume, CHUNK_DURATION};
use reframe_core::settings::{more_ratios, CropMode, JobSettings};
use reframe_core::summary::{AnalysisReport, FrameStretch, JobSummary, Stage, StageTime};
use reframe_core::test_aids::TestAids;
use reframe_core::units::{AspectRatio, PixelSize, TimestampUs};
use reframe_core::ReframeError;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use web_sys::File;

/// What the page asked for.
pub struct JobRequest {
    pub file: File,
    /// The file's `FileSystemFileHandle`, when the browser gave one (kept for a resume).
    pub handle: Option<JsValue>,
    /// An analysis file to use instead of analysing (auto mode).
    pub import_analysis: Option<String>,
    pub file_name: String,
    pub settings: JobSettings,
    pub test_aids: TestAids,
    /// The stored job the user resumes: the file must be that job's.
    pub resume: Option<String>,
    /// More outputs, one per ratio (beyond `settings.ratio`; `settings::more_ratios`).
    pub more_ratios: Vec<AspectRatio>,
}

/// The opened input.
struct Input {
    source: FileSource,
    movie: Movie,
    decoder: DecoderChoice,
}

/// One output of the export: its settings (the request's, for its ratio) and its job's key.
struct OutputKey {
    settings: JobSettings,
    id: String,
}

/// The export's keys and the frames it covers.
struct Keys {
    fingerprint: FileFingerprint,
    /// The outputs, the request's ratio first.
    outputs: Vec<OutputKey>,
    /// Auto mode: the analysis the outputs use (shared with other jobs on the same file).
    analysis_id: Option<String>,
    /// Shown frames' timestamps, in presentation order.
    shown: Rc<Vec<TimestampUs>>,
    /// Each sample's presentation index (decode order).
    pres: Vec<Option<u64>>,
    layout: ChunkLayout,
}

/// What is stored of an unfinished job, checked.
struct Stored {
    encode: EncodeResume,
    /// Auto mode, analysis finished: the planned crop path.
    crop_path: Option<CropPathRecord>,
    /// Auto mode, analysis not finished: its sound chunks.
    analysis: AnalysisResume,
}

/// The crop of every frame, and what the analysis reported (auto mode).
struct Planned {
    plan: Rc<CropPlan>,
    crop_path: CropPathRecord,
    report: Option<AnalysisReport>,
}

/// An output still to make: which of `Keys::outputs`, its job record, what is stored of it.
struct Pending {
    output: usize,
    job: JobRecord,
    stored: Stored,
}

/// An output planned and on its way through the encoding pass.
struct Making {
    output: usize,
    job: JobRecord,
    planned: Planned,
    to_encode: EncodeResume,
    codec: String,
    /// Every segment (stored before and now).
    segments: Vec<SegmentIndex>,
    size: PixelSize,
    /// Frames encoded in this run.
    frames_encoded: u64,
}

/// The time each step ended (`js::now_ms`), for the summary.
struct Times {
    start: f64,
    read: f64,
    analysed: f64,
    processed: f64,
}

pub async fn run(req: JobRequest, cancel: Rc<Cell<bool>>) -> Result<Vec<JobSummary>, Stop> {
    let t_start = js::now_ms();
    let mut input = open(&req).await?;
    if req.test_aids.decode_only {
        let summary =
            decode_only::run(&input.movie, &mut input.source, &input.decoder.config, &cancel, t_start).await?;
        return Ok(vec![summary]);
    }
    let keys = job_keys(&req, &mut input)?;
    let db = Db::open().await?;
    let _locks = claim(&db, &req, &keys).await?;
    if let (Some(aid), Some(json)) = (&keys.analysis_id, &req.import_analysis) {
        import_analysis(&db, aid, json, &keys.fingerprint, input.movie.video.display_size()).await?;
    }
    // Each output's stored record, read once: finished, resumable, or none.
    let mut summaries: Vec<Option<JobSummary>> = Vec::new();
    let mut pending = Vec::new();
    let mut resumed = None;
    for (k, out) in keys.outputs.iter().enumerate() {
        let record = db.job(&out.id).await?;
        if let Some(done) = finished(&db, &keys, k, record.as_ref()).await? {
            if k == 0 {
                resumed = Some(ResumeInfo {
                    analysis_from_frame: None,
                    encode_from_frame: keys.layout.frames,
                    damaged_chunks: 0,
                });
            }
            summaries.push(Some(done));
            continue;
        }
        let (mut job, resuming) = load_record(&db, &req, &keys, out, record).await?;
        let stored = load_stored(&db, &mut job, keys.layout).await?;
        if k == 0 && resuming {
            let analysis_from =
                stored.crop_path.is_none().then(|| stored.analysis.first_missing(keys.layout)).flatten();
            resumed = Some(ResumeInfo {
                analysis_from_frame: analysis_from.filter(|_| keys.analysis_id.is_some()),
                encode_from_frame: stored.encode.first_frame(keys.layout),
                damaged_chunks: stored.encode.damaged + stored.analysis.damaged,
            });
        }
        summaries.push(None);
        pending.push(Pending { output: k, job, stored });
    }
    messages::post(&FromWorker::Started { job_id: keys.outputs[0].id.clone(), resumed });
    if pending.is_empty() {
        return Ok(summaries.into_iter().flatten().collect());
    }

    let t_read = js::now_ms();
    let mut making = Vec::with_capacity(pending.len());
    for Pending { output, mut job, stored } in pending {
        let Stored { encode: to_encode, crop_path, analysis } = stored;
        let planned = plan(&req, output, &mut input, &keys, &db, &mut job, crop_path, analysis, &cancel).await?;
        making.push(Making {
            output,
            job,
            planned,
            to_encode,
            codec: String::new(),
            segments: Vec::new(),
            size: PixelSize::new(0, 0),
            frames_encoded: 0,
        });
    }
    let t_analysed = js::now_ms();
    let stats = encode(&mut input, &keys, &db, &mut making, &cancel).await?;
    let times = Times { start: t_start, read: t_read, analysed: t_analysed, processed: js::now_ms() };
    for m in making {
        let output = m.output;
        summaries[output] = Some(finish(&req, &input, &keys, &db, m, &stats, &times).await?);
    }
    Ok(summaries.into_iter().flatten().collect())
}

/// The editor before any job: posts `Probed`, and `Analysed` when this file has a stored analysis
/// for these settings (profile and model), so the page shows the plan and the stored edits as
/// soon as the file is chosen. Nothing else is posted, failures included: Start reports them.
pub async fn open_stored_analysis(file: File, file_name: String, settings: JobSettings) -> Result<(), ReframeError> {
    let req = JobRequest {
        file,
        handle: None,
        import_analysis: None,
        file_name,
        settings,
        test_aids: TestAids::default(),
        resume: None,
        more_ratios: Vec::new(),
    };
    let mut input = open_input(&req).await?;
    let keys = job_keys(&req, &mut input)?;
    let Some(aid) = &keys.analysis_id else { return Ok(()) };
    if let Some(json) = Db::open().await?.analysis(aid).await? {
        post_analysed(&keys.outputs[0].id, aid, json);
    }
    Ok(())
}

/// Step 1: the file's index and a decoder the browser has for its video.
async fn open(req: &JobRequest) -> Result<Input, ReframeError> {
    post_stage(Stage::Reading, 0, 0);
    open_input(req).await
}

/// [`open`] without the progress message.
async fn open_input(req: &JobRequest) -> Result<Input, ReframeError> {
    if !decode::has_webcodecs() {
        return Err(ReframeError::NoWebCodecs);
    }
    let mut source = FileSource::new(req.file.clone())?;
    let mut movie = read_movie(&mut source)?;
    // Sound to encode again that this browser cannot decode or encode: the output is silent.
    if let Some(a) = &movie.audio_to_encode {
        if !AudioEncode::supported(a).await {
            let name = a.codec_name.clone();
            movie.audio_to_encode = None;
            let again = matroska::encoded_again_notice(&name);
            movie.notices.retain(|n| *n != again);
            movie.notices.push(matroska::silent_notice(&name));
        }
    }
    messages::post(&FromWorker::Probed { source: source_info(&movie, &req.file_name) });
    let decoder = decode::choose(&movie.video).await?;
    Ok(Input { source, movie, decoder })
}

/// The file's fingerprint, the job's keys and how its frames are cut into chunks.
fn job_keys(req: &JobRequest, input: &mut Input) -> Result<Keys, ReframeError> {
    let (movie, source) = (&input.movie, &mut input.source);
    let fp = fingerprint::fingerprint(&req.file_name, movie.file_bytes, req.file.last_modified(), |off, buf| {
        source.read_at(off, buf)
    })?;
    let v = &movie.video;
    let shown = Rc::new(v.shown_timestamps());
    let pres = presentation_indices(v, &shown);
    let chunk = req.test_aids.chunk_duration().unwrap_or(CHUNK_DURATION);
    let layout = ChunkLayout::new(shown.len() as u64, movie.video_duration(), chunk);
    let ratios = std::iter::once(req.settings.ratio).chain(more_ratios(req.settings.ratio, &req.more_ratios));
    let outputs = ratios
        .map(|r| {
            let settings = req.settings.for_ratio(r, v.display_size());
            OutputKey { id: job_id(&fp, &settings), settings }
        })
        .collect();
    Ok(Keys {
        outputs,
        analysis_id: (req.settings.mode == CropMode::Auto).then(|| analysis_id(&fp, &req.settings)),
        fingerprint: fp,
        shown,
        pres,
        layout,
    })
}

/// Step 2: a resume must be of this file and these settings; then each output job's lock (one
/// tab per job), and the browser asked not to evict the stored work under storage pressure.
async fn claim(db: &Db, req: &JobRequest, keys: &Keys) -> Result<Vec<JobLock>, ReframeError> {
    if let Some(expected) = &req.resume {
        let Some(record) = db.job(expected).await? else {
            return Err(ReframeError::Storage("the job to resume is no longer stored; start it again".into()));
        };
        if let Some(why) = record.file.mismatch(&keys.fingerprint) {
            return Err(ReframeError::WrongFile(why));
        }
        if &keys.outputs[0].id != expected {
            return Err(ReframeError::WrongFile("the settings differ from the job's".into()));
        }
    }
    let mut locks = Vec::new();
    for out in &keys.outputs {
        locks.extend(lock::lock_job(&out.id).await?);
    }
    if let Ok(p) = js::worker_scope().navigator().storage().persist() {
        // Not fatal: without it the browser may evict the work under storage pressure.
        let _ = js::wait(p, js::storage_error).await;
    }
    Ok(locks)
}

/// A finished output's summary (`keys.outputs[output]`), when its stored `record` says done and
/// its file and crop path are still stored.
async fn finished(
    db: &Db,
    keys: &Keys,
    output: usize,
    record: Option<&JobRecord>,
) -> Result<Option<JobSummary>, ReframeError> {
    let Some(job) = record.filter(|r| r.stage == JobStage::Done) else { return Ok(None) };
    let (Some(path), Some(summary)) = (&job.output_path, &job.summary) else { return Ok(None) };
    if store::file_size(path).await.is_none() {
        return Ok(None);
    }
    let Some(crop_path) = db.crop_path(&job.id).await?.filter(|p| p.entries.len() == keys.shown.len()) else {
        return Ok(None);
    };
    let analysis = match &job.analysis_id {
        Some(aid) => db.analysis(aid).await?.and_then(|json| {
            let mut a = Analysis::from_json(&json).ok()?;
            if output == 0 {
                post_analysed(&job.id, aid, json);
            }
            Some(analyze::report(&mut a, analyze::DetectorRun::reused(), &job.settings))
        }),
        None => None,
    };
    Ok(Some(JobSummary { crop_path: crop_path.entries, split_layout: crop_path.split, analysis, ..summary.clone() }))
}

/// Stores an analysis file the user gave, as this video's analysis for this profile (unless one
/// is stored already).
async fn import_analysis(
    db: &Db,
    aid: &str,
    json: &str,
    fp: &FileFingerprint,
    display: PixelSize,
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

/// Step 3: the job's record, resumed when the stored one (`record`) fits (`resume::resumable`),
/// else new; and whether it was resumed.
async fn load_record(
    db: &Db,
    req: &JobRequest,
    keys: &Keys,
    out: &OutputKey,
    record: Option<JobRecord>,
) -> Result<(JobRecord, bool), ReframeError> {
    let usable = record.filter(|r| resume::resumable(r, keys.layout));
    let resuming = usable.is_some();
    let now = now_epoch_ms();
    let mut job = usable.unwrap_or_else(|| JobRecord {
        schema: JOB_SCHEMA,
        id: out.id.clone(),
        analysis_id: keys.analysis_id.clone(),
        file: keys.fingerprint.clone(),
        settings: out.settings.clone(),
        stage: if keys.analysis_id.is_some() { JobStage::Analysing } else { JobStage::Encoding },
        frames_total: keys.layout.frames,
        chunk_frames: keys.layout.chunk_frames,
        chunks: keys.layout.count(),
        analysis_chunks_done: 0,
        segments_done: 0,
        stored_bytes: 0,
        output_path: None,
        download_name: format!("{}-{}.mp4", stem(&req.file_name), out.settings.ratio.file_tag()),
        created_ms: now,
        updated_ms: now,
        summary: None,
    });
    if !resuming {
        // A stale job under this key (another chunk size, or a lost output): start it afresh.
        store::remove(&store::job_dir(&out.id)).await;
    }
    job.updated_ms = now;
    db.put_job(&job).await?;
    if let Some(h) = &req.handle {
        // Not fatal: without it the user picks the file again on resume.
        let _ = db.put_handle(&out.id, h).await;
    }
    Ok((job, resuming))
}

/// Step 3: what is stored of the job, sound (the decisions are `reframe_core::resume`'s): output
/// segments with their files, and in auto mode the finished crop path or else the analysis
/// chunks. The record's counts are set from what was found.
async fn load_stored(db: &Db, job: &mut JobRecord, layout: ChunkLayout) -> Result<Stored, ReframeError> {
    let (segments, unreadable_segments) = db.segments(&job.id).await?;
    let mut with_files = Vec::with_capacity(segments.len());
    for s in segments {
        let bytes = store::file_size(&store::segment_path(&job.id, s.index)).await;
        with_files.push((s, bytes));
    }
    let mut encode = EncodeResume::new(layout, with_files);
    encode.damaged += unreadable_segments;
    job.segments_done = encode.segments.len() as u64;
    job.stored_bytes = encode.stored_bytes();
    let crop_path = if resume::crop_path_stored(job) {
        db.crop_path(&job.id).await?.filter(|p| p.entries.len() as u64 == job.frames_total)
    } else {
        None
    };
    let analysis = match (&job.analysis_id, &crop_path) {
        (Some(aid), None) => {
            let (chunks, unreadable) = db.analysis_chunks(aid).await?;
            let mut analysis = AnalysisResume::new(layout, chunks);
            analysis.damaged += unreadable;
            analysis
        }
        _ => AnalysisResume::default(),
    };
    Ok(Stored { encode, crop_path, analysis })
}

/// Step 4: the crop window of every frame. Fixed: one window. Auto: the stored crop path, or
/// the analysis pass (resumed from its stored chunks, or reusing a finished analysis) and the
/// camera path planned from it, committed with the job's next stage. `output` is the index of
/// the job's output in `keys.outputs`: the first one shows its analysis in the page's editor.
#[allow(clippy::too_many_arguments)]
async fn plan(
    req: &JobRequest,
    output: usize,
    input: &mut Input,
    keys: &Keys,
    db: &Db,
    job: &mut JobRecord,
    crop_path: Option<CropPathRecord>,
    analysis: AnalysisResume,
    cancel: &Cell<bool>,
) -> Result<Planned, Stop> {
    let settings = &keys.outputs[output].settings;
    let v = &input.movie.video;
    let display = v.display_size();
    let Some(aid) = &keys.analysis_id else {
        let placed = crop::place(display, crop::output_size(display, settings.ratio), settings.position);
        let window = crop::resolve(placed, v.coded_size, v.rotation);
        let entries = keys.shown.iter().map(|&t| CropPathEntry::new(t, window.display)).collect();
        let crop_path = CropPathRecord { entries, split: None };
        return Ok(Planned { plan: Rc::new(CropPlan::Fixed(window)), crop_path, report: None });
    };
    let show = |json: String| {
        if output == 0 {
            post_analysed(&keys.outputs[0].id, aid, json);
        }
    };
    let (path, report) = match crop_path {
        Some(stored) => {
            let json = db.analysis(aid).await?;
            let analysis = json.as_deref().and_then(|j| Analysis::from_json(j).ok());
            let (Some(mut analysis), Some(json)) = (analysis, json) else {
                return Err(ReframeError::Internal("the stored analysis is missing".into()).into());
            };
            show(json);
            (stored, analyze::report(&mut analysis, analyze::DetectorRun::reused(), settings))
        }
        None => {
            let a = AnalysisJob {
                movie: &input.movie,
                decoder_config: &input.decoder.config,
                settings,
                aids: &req.test_aids,
                shown: &keys.shown,
                pres: &keys.pres,
                layout: keys.layout,
                analysis_id: aid,
                file: &keys.fingerprint,
                cancel,
            };
            let result = analyze::run(a, analysis, &mut input.source, db, job).await?;
            job.stage = JobStage::Encoding;
            job.updated_ms = now_epoch_ms();
            db.commit_analysis(aid, &result.json, &result.crop_path, job).await?;
            show(result.json);
            (result.crop_path, result.report)
        }
    };
    let v = &input.movie.video;
    let plan = Rc::new(CropPlan::from_path(&path.entries, path.split, v.coded_size, v.rotation));
    Ok(Planned { plan, crop_path: path, report: Some(report) })
}

/// Hands the job's analysis to the page's editor (see `FromWorker::Analysed`).
fn post_analysed(job_id: &str, analysis_id: &str, json: String) {
    messages::post(&FromWorker::Analysed { job_id: job_id.into(), analysis_id: analysis_id.into(), json });
}

/// Step 5: encodes the segments not stored yet of every output, in one pass over the source
/// (after checking the disk can hold them); fills in each output's segments, codec and encoded
/// size, and returns the pass's timing.
async fn encode(
    input: &mut Input,
    keys: &Keys,
    db: &Db,
    making: &mut [Making],
    cancel: &Cell<bool>,
) -> Result<EncodeStats, Stop> {
    let (movie, v) = (&input.movie, &input.movie.video);
    let frames_total = keys.layout.frames;
    let duration_s = (movie.video_duration().0 as f64 / 1e6).max(1e-3);
    let fps = frames_total as f64 / duration_s;
    let video_bytes: u64 = v.samples.iter().map(|s| s.size as u64).sum();
    let mut choices = Vec::with_capacity(making.len());
    let mut expected = 0.0;
    for m in making.iter_mut() {
        m.size = m.planned.plan.encoded_size();
        let bitrate = output_bitrate(video_bytes as f64 * 8.0 / duration_s, v.coded_size, m.size, fps);
        let choice = Rc::new(encode::choose(m.size, bitrate, fps).await?);
        m.codec = choice.codec.clone();
        choices.push(choice);
        let left =
            frames_total.saturating_sub(m.to_encode.first_frame(keys.layout)) as f64 / frames_total.max(1) as f64;
        expected += movie.file_bytes as f64 * (m.size.area() as f64 / v.coded_size.area().max(1) as f64) * 1.5 * left;
    }
    if let Some(free) = store::free_bytes().await {
        if free < expected {
            return Err(ReframeError::StorageFull.into());
        }
    }
    let encode_from = making.iter().map(|m| m.to_encode.first_frame(keys.layout)).min().unwrap_or(frames_total);
    post_stage(Stage::Processing, encode_from, frames_total);
    let e = EncodeJob {
        movie,
        decoder_config: &input.decoder.config,
        shown: keys.shown.clone(),
        pres: &keys.pres,
        layout: keys.layout,
        cancel,
    };
    for m in making.iter_mut() {
        m.segments = std::mem::take(&mut m.to_encode.segments);
    }
    let mut outputs: Vec<Output<'_>> = making
        .iter_mut()
        .zip(choices)
        .map(|(m, choice)| Output {
            choice,
            plan: m.planned.plan.clone(),
            runs: std::mem::take(&mut m.to_encode.runs),
            job: &mut m.job,
            segments: &mut m.segments,
        })
        .collect();
    let stats = transcode::run(e, &mut outputs, &mut input.source, db).await?;
    drop(outputs);
    for (m, n) in making.iter_mut().zip(&stats.frames_encoded) {
        m.frames_encoded = *n;
    }
    Ok(stats)
}

/// Step 6: one output's MP4 from its segments (every frame counted), its job recorded as done,
/// its temporary segments deleted.
async fn finish(
    req: &JobRequest,
    input: &Input,
    keys: &Keys,
    db: &Db,
    made: Making,
    stats: &EncodeStats,
    times: &Times,
) -> Result<JobSummary, Stop> {
    let (frames_total, v) = (keys.layout.frames, &input.movie.video);
    let Making { output, mut job, planned, mut segments, codec, size: encoded_size, frames_encoded, .. } = made;
    let id = keys.outputs[output].id.clone();
    segments.sort_by_key(|s| s.index);
    let frames_out: u64 = segments.iter().map(|s| s.samples.len() as u64).sum();
    if frames_out != frames_total || segments.len() as u64 != keys.layout.count() {
        return Err(ReframeError::Internal(format!("{frames_out} of {frames_total} frames came out")).into());
    }
    job.stage = JobStage::Finishing;
    job.updated_ms = now_epoch_ms();
    db.put_job(&job).await?;
    post_stage(Stage::Finishing, frames_out, frames_total);
    let out_path = format!("{}/{}-{}.mp4", store::OUTPUT_DIR, stem(&req.file_name), &id[4..12]);
    let (output_bytes, audio_copied) =
        assemble(&input.movie, &req.file, &id, &segments, encoded_size, &out_path).await?;
    let t_end = js::now_ms();

    let mut stages = vec![StageTime { stage: Stage::Reading, seconds: (times.read - times.start) / 1000.0 }];
    if keys.analysis_id.is_some() {
        stages.push(StageTime { stage: Stage::Analysing, seconds: (times.analysed - times.read) / 1000.0 });
    }
    stages.push(StageTime { stage: Stage::Processing, seconds: (times.processed - times.analysed) / 1000.0 });
    stages.push(StageTime { stage: Stage::Finishing, seconds: (t_end - times.processed) / 1000.0 });
    let rate = |n: u64| if stats.seconds > 0.0 { n as f64 / stats.seconds } else { 0.0 };
    let damaged = FrameStretch::runs(&stats.damaged, &keys.shown);
    let summary = JobSummary {
        output_path: out_path.clone(),
        download_name: job.download_name.clone(),
        output_bytes,
        output_size: encoded_size.rotated(v.rotation),
        video_codec: codec,
        audio_copied,
        frames_in: frames_total,
        frames_out,
        elapsed_s: (t_end - times.start) / 1000.0,
        stages,
        decode_fps: rate(stats.frames_decoded),
        frames_decoded: stats.frames_decoded,
        encode_fps: rate(frames_encoded),
        hardware_decode: input.decoder.hardware,
        notices: input.movie.notices.iter().cloned().chain(FrameStretch::notice(&damaged)).collect(),
        damaged_frames: damaged,
        crop_path: Vec::new(),
        split_layout: planned.crop_path.split,
        analysis: None,
    };
    job.stage = JobStage::Done;
    job.output_path = Some(out_path);
    job.stored_bytes = output_bytes;
    job.summary = Some(summary.clone());
    job.updated_ms = now_epoch_ms();
    if keys.analysis_id.is_none() {
        // The fixed crop's path is kept like auto mode's, for a later look at the finished job.
        db.put_crop_path(&job.id, &planned.crop_path).await?;
    }
    db.commit_done(&job).await?;
    store::remove(&store::job_dir(&id)).await;
    Ok(JobSummary { crop_path: planned.crop_path.entries, analysis: planned.report, ..summary })
}

/// The input's name without its extension, safe for a file name.
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
        audio_codec: match (&movie.audio, &movie.audio_to_encode) {
            (Some(a), _) => Some(a.codec_name.clone()),
            (None, Some(a)) => Some(format!("{} (encoded again as Opus)", a.codec_name)),
            (None, None) => None,
        },
        container: movie.container.to_string(),
        notices: movie.notices.clone(),
    }
}

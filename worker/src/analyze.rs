//! Auto mode's first pass: decode every frame once to gather shot statistics (tiny luma
//! thumbnails) and, at the profile's analysis rate, detect people; then track them, find the
//! cuts and plan the camera path over the whole video (`reframe_core::analysis`).
//!
//! The pass is cut into chunks (`reframe_core::resume`): each chunk's shot records and detections
//! are stored as soon as the chunk is complete, with the job's progress. A resumed job reads the
//! stored chunks and analyses only the missing or damaged ones; a finished analysis of the same
//! file and profile (another ratio or smoothness) is reused without decoding at all.
//!
//! The detector takes the sampled frames in batches (`reframe_core::batch_tuner` measures which
//! size is fastest here) and runs in its own task, one batch at a time: while the GPU works on a
//! batch, the reading loop goes on decoding and sampling the next frames (on the CPU backend the
//! run is synchronous anyway). A chunk is stored only once no frame of it waits or is in flight.

use crate::db::{now_epoch_ms, Db};
use crate::decode::{Decoder, Decoding, FrameSink};
use crate::detect::{self, FrameGeometry, PersonDetector};
use crate::feed::{self, FeedLoop, Stop, MAX_QUEUE};
use crate::frame::Frame;
use crate::frame_sample::{self, DetectorInput, FrameCopy, Sampler};
use crate::js;
use crate::progress::{post_detail, post_progress};
use crate::signal::Signal;
use crate::source::FileSource;
use reframe_core::analysis::Analysis;
use reframe_core::batch_tuner::{BatchTrial, BatchTuner};
use reframe_core::busy_time::BusyTime;
use reframe_core::demux::Movie;
use reframe_core::job::JobRecord;
use reframe_core::records::{AnalysisChunk, CropPathRecord};
use reframe_core::resume::{samples_for_frames, AnalysisResume, ChunkLayout};
use reframe_core::sampling::{FrameChooser, SamplingRule};
use reframe_core::settings::JobSettings;
use reframe_core::shots::{ShotConfig, ShotDetector};
use reframe_core::summary::{AnalysisReport, LayoutPart, Stage};
use reframe_core::test_aids::TestAids;
use reframe_core::track::{Detection, Face, PersonBox, TrackerConfig};
use reframe_core::units::{FrameIndex, TimestampUs};
use reframe_core::ReframeError;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;
use std::rc::Rc;
use web_sys::VideoDecoderConfig;

pub struct AnalysisResult {
    /// The crop of every shown frame, in display pixels, and the output layout when some frames
    /// are split screens.
    pub crop_path: CropPathRecord,
    pub report: AnalysisReport,
    /// The analysis as stored (the export format).
    pub json: String,
}

/// What the job passes to the analysis.
pub struct AnalysisJob<'a> {
    pub movie: &'a Movie,
    pub decoder_config: &'a VideoDecoderConfig,
    pub settings: &'a JobSettings,
    pub aids: &'a TestAids,
    pub shown: &'a [TimestampUs],
    pub pres: &'a [Option<u64>],
    pub layout: ChunkLayout,
    pub analysis_id: &'a str,
    /// The input, recorded in the analysis file so that an import can be checked.
    pub file: &'a reframe_core::fingerprint::FileFingerprint,
    pub cancel: &'a Cell<bool>,
}

/// The largest batch of frames the analysis tries per detector run.
const MAX_BATCH: u32 = 8;
/// The same, when several detector workers run the CPU detector side by side.
const MAX_HELPER_BATCH: u32 = 2;

/// A frame waiting for the detector.
struct Pending {
    t: TimestampUs,
    frame: FrameIndex,
    input: DetectorInput,
    /// Upright RGBA for the face detector (`PersonDetector::face_input_size`).
    face_input: Vec<u8>,
}

/// State shared between the reading loop and the decoder's callbacks, for one run of chunks.
struct Shared {
    error: Option<ReframeError>,
    shown: Vec<TimestampUs>,
    sampler: Sampler,
    /// Sampled frames go to the detector as their planes (scaled on its device).
    planes_to_detector: bool,
    /// Which frames go to the detector (`core::sampling`), reset at each chunk's first frame.
    chooser: FrameChooser,
    chunk_frames: u64,
    /// Frames of the run; the two before it warm the shot detector up, the one after completes it.
    run: Range<u64>,
    /// One past the highest frame index seen in this run.
    seen_upto: u64,
    pending: VecDeque<Pending>,
    shots: ShotDetector,
    /// Decoded frames of the run waiting to be sampled, in output order (a few at most: the
    /// reading loop samples them before it feeds the decoder again).
    held: VecDeque<(FrameIndex, Frame)>,
}

impl FrameSink for Shared {
    fn on_frame(&mut self, frame: Frame) {
        match self.shown.binary_search(&frame.timestamp()) {
            Ok(i) if (i as u64) + 2 >= self.run.start && (i as u64) <= self.run.end => {
                self.held.push_back((FrameIndex(i as u64), frame));
            }
            // Decoded only as a reference for the run's frames: closed here.
            _ => drop(frame),
        }
    }

    fn on_error(&mut self, error: ReframeError) {
        self.error.get_or_insert(error);
    }
}

impl Shared {
    /// Shot statistics of a frame of the run (and its detector input at analysed frames).
    fn sample(&mut self, index: FrameIndex, frame: &Frame, copy: Option<FrameCopy>) -> Result<(), ReframeError> {
        let i = index.0;
        let t = self.shown[i as usize];
        let stats = self.sampler.stats(frame, copy.as_ref(), t)?;
        if i < self.run.start {
            self.shots.warm_up(stats);
        } else if i == self.run.end {
            self.shots.peek(&stats);
        } else {
            let chosen = self.chooser.choose(&self.shown, i as usize, &stats, i.is_multiple_of(self.chunk_frames));
            self.shots.push(stats);
            if chosen {
                let face_input = self.sampler.face_input(frame, copy.as_ref())?;
                let input = self.sampler.detector_input(frame, copy, self.planes_to_detector)?;
                self.pending.push_back(Pending { t, frame: FrameIndex(i), input, face_input });
            }
        }
        self.seen_upto = self.seen_upto.max(i + 1);
        Ok(())
    }
}

/// The people and the faces the detectors found on one frame.
type Found = (Vec<PersonBox>, Vec<Face>);

/// What a detector run gave (people and faces of each frame), and when it started and ended
/// (`js::now_ms`).
struct DetectorOutcome {
    result: Result<Vec<Found>, ReframeError>,
    start_ms: f64,
    end_ms: f64,
}

/// A detector run in progress: its frames, and where its task leaves the outcome.
struct InFlight {
    frames: Vec<(TimestampUs, FrameIndex)>,
    outcome: Rc<RefCell<Option<DetectorOutcome>>>,
}

/// The reading loop of one run: detects people on pending frames and stores complete chunks.
struct RunLoop<'a> {
    shared: Rc<RefCell<Shared>>,
    detector: Rc<PersonDetector>,
    /// Wakes the loop: codec callbacks and finished detector runs.
    signal: Signal,
    /// Detector runs in progress, oldest (lowest frames) first; at most
    /// `detector.parallel_runs()`.
    in_flight: VecDeque<InFlight>,
    db: &'a Db,
    job: &'a mut JobRecord,
    analysis_id: &'a str,
    layout: ChunkLayout,
    /// Chunks of the run not stored yet, in order.
    chunks: VecDeque<u64>,
    detections: Vec<Detection>,
    stored: &'a mut BTreeMap<u64, AnalysisChunk>,
    /// Frames per detector run (measured on this machine, kept across runs of chunks).
    tuner: &'a mut BatchTuner,
    detect_ms: f64,
    /// Time with at least one detector run in flight (runs in helper workers overlap).
    detect_busy: BusyTime,
    detected: u64,
    t_start: f64,
    frames_before: u64,
}

impl RunLoop<'_> {
    /// Samples the decoded frames waiting in `held`, in order, and releases them.
    async fn sample_held(&mut self) -> Result<(), Stop> {
        loop {
            let next = self.shared.borrow_mut().held.pop_front();
            let Some((index, frame)) = next else { return Ok(()) };
            let copy = frame_sample::copy(&frame).await?;
            self.shared.borrow_mut().sample(index, &frame, copy)?;
        }
    }

    /// Starts the detector on `batch` in its own task, so that decoding and sampling go on while
    /// the GPU works; the task wakes the reading loop when it is done.
    fn launch(&mut self, batch: Vec<Pending>) {
        let outcome: Rc<RefCell<Option<DetectorOutcome>>> = Rc::default();
        let frames = batch.iter().map(|p| (p.t, p.frame)).collect();
        let detector = self.detector.clone();
        let (signal, slot) = (self.signal.clone(), outcome.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let (inputs, face_inputs): (Vec<DetectorInput>, Vec<Vec<u8>>) =
                batch.into_iter().map(|p| (p.input, p.face_input)).unzip();
            let t0 = js::now_ms();
            let result = detector
                .detect(&inputs, &face_inputs)
                .await
                .map(|found| found.people.into_iter().zip(found.faces).collect());
            *slot.borrow_mut() = Some(DetectorOutcome { result, start_ms: t0, end_ms: js::now_ms() });
            signal.wake();
        });
        self.in_flight.push_back(InFlight { frames, outcome });
    }

    /// Takes the oldest detector run in flight once it is done (waiting for it when `wait`), so
    /// detections arrive in frame order; false when none is in flight or it is still running.
    async fn collect(&mut self, wait: bool) -> Result<bool, Stop> {
        loop {
            let Some(run) = self.in_flight.front() else { return Ok(false) };
            let done = run.outcome.borrow_mut().take();
            match done {
                Some(DetectorOutcome { result, start_ms, end_ms }) => {
                    let run = self.in_flight.pop_front().expect("in flight");
                    let found = result?;
                    let ms = end_ms - start_ms;
                    self.tuner.record(run.frames.len() as u32, ms);
                    self.detect_ms += ms;
                    // Runs are taken in the order they started, as `BusyTime` needs.
                    self.detect_busy.add(start_ms, end_ms);
                    self.detected += run.frames.len() as u64;
                    for ((t, frame), (boxes, faces)) in run.frames.into_iter().zip(found) {
                        self.detections.push(Detection { timestamp_us: t, frame, boxes, faces });
                    }
                    return Ok(true);
                }
                None if wait => self.signal.wait(50).await,
                None => return Ok(false),
            }
        }
    }

    /// Keeps the detector busy: takes finished runs, starts the next full batch (any rest when
    /// `flush`) while fewer than `detector.parallel_runs()` are in flight. The loop waits for a
    /// run only when frames pile up (two batches waiting and no run free) or at the end
    /// (`flush`: returns once every frame is detected).
    async fn detect_all_pending(&mut self, flush: bool) -> Result<(), Stop> {
        loop {
            if let Some(e) = self.shared.borrow_mut().error.take() {
                return Err(e.into());
            }
            while self.collect(false).await? {}
            let want = self.tuner.next_size() as usize;
            let waiting = self.shared.borrow().pending.len();
            let free = self.in_flight.len() < self.detector.parallel_runs();
            if free && waiting > 0 && (waiting >= want || flush) {
                let batch: Vec<Pending> = self.shared.borrow_mut().pending.drain(..want.min(waiting)).collect();
                self.launch(batch);
                continue;
            }
            if !self.in_flight.is_empty() && (flush || waiting >= 2 * want) {
                self.collect(true).await?;
                continue;
            }
            return Ok(());
        }
    }

    /// The first frame whose people are not known yet: in the oldest run in flight, or waiting.
    fn first_undetected(&self, s: &Shared) -> Option<FrameIndex> {
        self.in_flight.front().map(|r| r.frames[0].1).or(s.pending.front().map(|p| p.frame))
    }

    /// Stores every chunk whose frames have all been seen and detected.
    async fn store_complete(&mut self, flushed: bool) -> Result<(), Stop> {
        while let Some(&c) = self.chunks.front() {
            let range = self.layout.range(c);
            let (complete, records) = {
                let s = self.shared.borrow();
                let need = (range.end + 1).min(self.layout.frames);
                let detected = self.first_undetected(&s).is_none_or(|f| f.0 >= range.end);
                let complete = (s.seen_upto >= need || flushed) && detected;
                let offset = s.run.start;
                let records = s.shots.records();
                let slice = (range.start - offset) as usize..((range.end - offset) as usize).min(records.len());
                (complete, records.get(slice).map(|r| r.to_vec()).unwrap_or_default())
            };
            if !complete {
                return Ok(());
            }
            if records.len() as u64 != range.end - range.start {
                return Err(ReframeError::Internal(format!(
                    "analysis chunk {c} has {} of {} frames",
                    records.len(),
                    range.end - range.start
                ))
                .into());
            }
            let detections: Vec<Detection> =
                self.detections.iter().filter(|d| range.contains(&d.frame.0)).cloned().collect();
            let chunk =
                AnalysisChunk { index: c, first_frame: range.start, end_frame: range.end, shots: records, detections };
            self.job.analysis_chunks_done += 1;
            self.job.updated_ms = now_epoch_ms();
            self.db.commit_analysis_chunk(self.analysis_id, &chunk, self.job).await?;
            self.stored.insert(c, chunk);
            self.chunks.pop_front();
        }
        Ok(())
    }
}

impl FeedLoop for RunLoop<'_> {
    async fn ready(&mut self, decoder: &Decoder) -> Result<bool, Stop> {
        self.sample_held().await?;
        self.detect_all_pending(false).await?;
        self.store_complete(false).await?;
        Ok(decoder.queue_size() < MAX_QUEUE)
    }

    fn progress(&mut self, now: f64) {
        let s = self.shared.borrow();
        // Frames are done once seen and, at analysed frames, detected: decoding runs a few
        // batches ahead of the detector (one per helper worker, two more waiting).
        let done = self.first_undetected(&s).map_or(s.seen_upto, |f| f.0.min(s.seen_upto)).max(s.run.start);
        post_progress(
            Stage::Analysing,
            done,
            self.layout.frames,
            self.t_start,
            now,
            done.saturating_sub(self.frames_before),
        );
    }
}

/// Runs (or resumes from the `stored` chunks, or reuses) the analysis and plans the camera path.
pub async fn run(
    a: AnalysisJob<'_>,
    resume: AnalysisResume,
    source: &mut FileSource,
    db: &Db,
    job: &mut JobRecord,
) -> Result<AnalysisResult, Stop> {
    let v = &a.movie.video;
    let display = v.display_size();
    let sampling = SamplingRule::adaptive(a.settings.profile);

    // A finished analysis of this file and profile: plan the new path from it.
    if let Some(json) = db.analysis(a.analysis_id).await? {
        if let Ok(mut analysis) = Analysis::from_json(&json) {
            if analysis.source_size == display {
                let crop_path = planned_path(&mut analysis, a.settings, a.shown);
                let report = report(&mut analysis, DetectorRun::reused(), a.settings);
                return Ok(AnalysisResult { crop_path, report, json });
            }
        }
    }

    let runs = resume.runs(a.layout);
    let mut stored = resume.chunks;
    job.analysis_chunks_done = stored.len() as u64;
    let first_redone = runs.first().map(|r| a.layout.range(r.start).start);

    let mut run_stats = DetectorRun::none("none: every chunk was stored");
    if !runs.is_empty() {
        let detector = Rc::new(
            detect::load(
                a.settings.model,
                a.aids,
                FrameGeometry { coded: v.coded_size, display, rotation: v.rotation },
                |done, total| {
                    let mb = |b: u64| b as f64 / 1e6;
                    let detail = match total {
                        Some(t) => format!("{:.1} of {:.1} MB (first use only)", mb(done), mb(t)),
                        None => format!("{:.1} MB (first use only)", mb(done)),
                    };
                    post_detail(Stage::LoadingModel, 0, 0, detail);
                },
            )
            .await?,
        );
        run_stats.backend = detector.backend.clone();
        run_stats.workers = detector.parallel_runs() as u32;
        run_stats.preprocess = detector.preprocess.clone();
        post_detail(
            Stage::Analysing,
            first_redone.unwrap_or(0),
            a.layout.frames,
            format!("detector on {}", detector.backend),
        );
        let mut tuner = match a.aids.detect_batch {
            Some(n) => BatchTuner::fixed(n),
            None if detector.preprocess_on_device => BatchTuner::new(detector.device_batch().min(MAX_BATCH)),
            // Workers each hold their batch's working memory, and on the CPU a larger batch
            // saves little: small batches also spread the frames over the workers evenly.
            None if detector.parallel_runs() > 1 => BatchTuner::new(MAX_HELPER_BATCH),
            None => BatchTuner::new(MAX_BATCH),
        };
        let t_start = js::now_ms();
        // The shown frames' times, for the gap filler of every run's decoder.
        let shown = Rc::new(a.shown.to_vec());
        for run in &runs {
            let frames = a.layout.frames_of(run);
            let decode_frames = frames.start.saturating_sub(2)..(frames.end + 1).min(a.layout.frames);
            let samples = samples_for_frames(v, a.pres, decode_frames);
            let shared = Rc::new(RefCell::new(Shared {
                error: None,
                shown: a.shown.to_vec(),
                sampler: Sampler::new(detector.input_size(), detector.face_input_size(), v.rotation)?,
                planes_to_detector: detector.preprocess_on_device,
                chooser: FrameChooser::new(sampling),
                chunk_frames: a.layout.chunk_frames,
                run: frames.clone(),
                seen_upto: 0,
                pending: VecDeque::new(),
                shots: ShotDetector::new(ShotConfig::default()),
                held: VecDeque::new(),
            }));
            let signal = Signal::default();
            let mut decoding = Decoding::new(a.decoder_config, &shared, shown.clone(), &signal)?;
            let mut lp = RunLoop {
                shared: shared.clone(),
                detector: detector.clone(),
                signal: signal.clone(),
                in_flight: VecDeque::new(),
                db,
                job: &mut *job,
                analysis_id: a.analysis_id,
                layout: a.layout,
                chunks: run.clone().collect(),
                detections: Vec::new(),
                stored: &mut stored,
                tuner: &mut tuner,
                detect_ms: 0.0,
                detect_busy: BusyTime::default(),
                detected: 0,
                t_start,
                frames_before: first_redone.unwrap_or(0),
            };
            feed::feed(&mut decoding, v, source, samples, &signal, a.cancel, &mut lp).await?;
            // Frames still waiting to be sampled or for the detector, then the last chunks.
            lp.sample_held().await?;
            lp.detect_all_pending(true).await?;
            lp.store_complete(true).await?;
            if !lp.chunks.is_empty() {
                return Err(
                    ReframeError::Internal(format!("{} analysis chunks were not completed", lp.chunks.len())).into()
                );
            }
            run_stats.detect_ms += lp.detect_ms;
            run_stats.detect_wall_ms += lp.detect_busy.total_ms();
            run_stats.detected += lp.detected;
            drop(decoding);
        }
        if detector.preprocess_on_device {
            // Frames the decoder gave in a format the device path does not read went by the CPU.
            run_stats.preprocess +=
                &format!(": {} of {} analysed frames", detector.scaled_on_device.get(), run_stats.detected);
        }
        run_stats.batch = tuner.chosen().unwrap_or(tuner.next_size());
        run_stats.restarts = detector.restarts();
        run_stats.trials = tuner.trials().to_vec();
    }

    // Join the chunks: every frame's shot record and every detection, in order.
    let mut records = Vec::with_capacity(a.layout.frames as usize);
    let mut detections = Vec::new();
    for c in stored.into_values() {
        records.extend(c.shots);
        detections.extend(c.detections);
    }
    if records.len() as u64 != a.layout.frames {
        return Err(ReframeError::Internal(format!(
            "the analysis covers {} of {} frames",
            records.len(),
            a.layout.frames
        ))
        .into());
    }
    let cuts = ShotDetector::from_records(ShotConfig::default(), records).finish();
    let tracker = TrackerConfig::for_detector(a.settings.model).covering_gap(sampling.max_gap);
    let mut analysis = Analysis::with_tracker(display, detections, cuts, tracker);
    analysis.source_file = Some(a.file.clone());
    let crop_path = planned_path(&mut analysis, a.settings, a.shown);
    if crop_path.entries.len() != a.shown.len() {
        return Err(ReframeError::Internal(format!(
            "the camera path has {} of {} frames",
            crop_path.entries.len(),
            a.shown.len()
        ))
        .into());
    }
    let json = analysis.to_json().map_err(ReframeError::from)?;
    let report = report(&mut analysis, run_stats, a.settings);
    Ok(AnalysisResult { crop_path, report, json })
}

/// What the detector did in an analysis, for its report.
pub struct DetectorRun {
    /// Where it ran (or why it did not).
    pub backend: String,
    /// Where sampled frames were scaled.
    pub preprocess: String,
    /// Frames it analysed and the wall time it took, milliseconds.
    pub detected: u64,
    pub detect_ms: f64,
    /// Time with the detector busy (at least one run in flight), milliseconds.
    pub detect_wall_ms: f64,
    /// Frames per run in the end, and the sizes measured.
    pub batch: u32,
    /// Helper workers that ran the CPU detector (0: it ran in the pipeline worker).
    pub workers: u32,
    /// Helper workers that crashed or hung and were replaced.
    pub restarts: u32,
    pub trials: Vec<BatchTrial>,
}

impl DetectorRun {
    /// No detection ran: the stored analysis of this video was reused.
    pub fn reused() -> DetectorRun {
        DetectorRun::none("reused: the stored analysis of this video")
    }

    fn none(why: &str) -> DetectorRun {
        DetectorRun {
            backend: why.into(),
            preprocess: String::new(),
            detected: 0,
            detect_ms: 0.0,
            detect_wall_ms: 0.0,
            batch: 0,
            workers: 0,
            restarts: 0,
            trials: Vec::new(),
        }
    }
}

/// The crop of every shown frame planned from `analysis` for `settings` (with its pins), and the
/// output layout.
fn planned_path(analysis: &mut Analysis, settings: &JobSettings, shown: &[TimestampUs]) -> CropPathRecord {
    let entries = analysis.crop_path(&settings.camera(), &settings.pins, shown);
    CropPathRecord { entries, split: analysis.path.as_ref().and_then(|p| p.split) }
}

/// What the summary says about an analysis (planned for `settings` if its stored path is not).
pub fn report(analysis: &mut Analysis, run: DetectorRun, settings: &JobSettings) -> AnalysisReport {
    let camera = settings.camera();
    let path = match &analysis.path {
        Some(p) if p.settings == camera && p.pins == settings.pins => p,
        _ => analysis.plan(&camera, &settings.pins),
    };
    let layout = LayoutPart::of_path(path);
    AnalysisReport {
        layout,
        people: analysis.people(),
        subject_track: settings.subject_track,
        backend: run.backend,
        model: settings.model.model_name().to_string(),
        detections: analysis.detections.clone(),
        cuts_us: analysis.cuts_us.clone(),
        analysed_frames: analysis.detections.len() as u64,
        detect_ms_per_frame: if run.detected > 0 { run.detect_ms / run.detected as f64 } else { 0.0 },
        detect_wall_ms_per_frame: if run.detected > 0 { run.detect_wall_ms / run.detected as f64 } else { 0.0 },
        detect_batch: run.batch,
        detect_workers: run.workers,
        detect_worker_restarts: run.restarts,
        preprocess: run.preprocess,
        batch_trials: run.trials,
    }
}

//! Auto mode's first pass: decode every frame once to gather shot statistics (tiny luma
//! thumbnails) and, at the profile's analysis rate, detect people; then track them, find the
//! cuts and plan the camera path over the whole video (`reframe_core::analysis`).

use crate::decode::Decoder;
use crate::detect::{self, PersonDetector, MODEL_NAME};
use crate::frame_sample::Sampler;
use crate::pipeline::{post_progress, Stop, MAX_QUEUE, PROGRESS_EVERY_MS};
use crate::signal::Signal;
use crate::source::FileSource;
use crate::{js, messages};
use reframe_core::analysis::Analysis;
use reframe_core::camera_path::CameraSettings;
use reframe_core::demux::{ByteSource, Movie};
use reframe_core::protocol::{AnalysisReport, CropPathEntry, FromWorker, JobSettings, Progress, Stage};
use reframe_core::shots::{ShotConfig, ShotDetector};
use reframe_core::track::Detection;
use reframe_core::units::{FrameIndex, PixelSize, TimestampUs};
use reframe_core::ReframeError;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use web_sys::{VideoDecoderConfig, VideoFrame};

pub struct AnalysisResult {
    /// The crop of every shown frame, in display pixels.
    pub crop_path: Vec<CropPathEntry>,
    pub report: AnalysisReport,
}

/// A frame waiting for the detector.
struct Pending {
    t: TimestampUs,
    frame: FrameIndex,
    rgba: Vec<u8>,
}

struct Shared {
    error: Option<ReframeError>,
    shown: Vec<TimestampUs>,
    sampler: Sampler,
    interval_us: i64,
    next_sample_us: i64,
    pending: VecDeque<Pending>,
    shots: ShotDetector,
    frames_seen: u64,
}

impl Shared {
    fn on_frame(&mut self, frame: VideoFrame) {
        let result = self.sample(&frame);
        frame.close();
        if let Err(e) = result {
            self.error.get_or_insert(e);
        }
    }

    fn sample(&mut self, frame: &VideoFrame) -> Result<(), ReframeError> {
        let t = TimestampUs(frame.timestamp().round() as i64);
        let Ok(index) = self.shown.binary_search(&t) else { return Ok(()) };
        self.frames_seen += 1;
        self.shots.push(self.sampler.stats(frame, t)?);
        if t.0 >= self.next_sample_us {
            self.next_sample_us = t.0 + self.interval_us;
            let rgba = self.sampler.detector_input(frame)?;
            self.pending.push_back(Pending { t, frame: FrameIndex(index as u64), rgba });
        }
        Ok(())
    }
}

pub async fn run(
    movie: &Movie,
    source: &mut FileSource,
    decoder_config: &VideoDecoderConfig,
    settings: &JobSettings,
    shown: &[TimestampUs],
    cancel: &Rc<Cell<bool>>,
) -> Result<AnalysisResult, Stop> {
    let v = &movie.video;
    let display = v.display_size();
    let frames_total = shown.len() as u64;

    let detector = detect::load(settings.detector, |done, total| {
        let mb = |b: u64| b as f64 / 1e6;
        let detail = match total {
            Some(t) => format!("{:.1} of {:.1} MB (first use only)", mb(done), mb(t)),
            None => format!("{:.1} MB (first use only)", mb(done)),
        };
        messages::post(&FromWorker::Progress {
            progress: Progress { stage: Stage::LoadingModel, frames_done: 0, frames_total: 0, fps: 0.0, eta_s: None, detail: Some(detail) },
        });
    })
    .await?;
    messages::post(&FromWorker::Progress {
        progress: Progress {
            stage: Stage::Analysing,
            frames_done: 0,
            frames_total,
            fps: 0.0,
            eta_s: None,
            detail: Some(format!("detector on {}", detector.backend)),
        },
    });

    let shared = Rc::new(RefCell::new(Shared {
        error: None,
        shown: shown.to_vec(),
        sampler: Sampler::new(detector.input_size(), v.rotation)?,
        interval_us: settings.profile.analysis_interval().0,
        next_sample_us: i64::MIN,
        pending: VecDeque::new(),
        shots: ShotDetector::new(ShotConfig::default()),
        frames_seen: 0,
    }));
    let signal = Signal::default();
    let (s1, s2, w1, w2, w3) = (shared.clone(), shared.clone(), signal.clone(), signal.clone(), signal.clone());
    let decoder = Decoder::new(
        decoder_config,
        move |frame| {
            s1.borrow_mut().on_frame(frame);
            w1.wake();
        },
        move |e| {
            s2.borrow_mut().error.get_or_insert(e);
            w2.wake();
        },
        move || w3.wake(),
    )?;

    let mut detections = Vec::new();
    let mut detect_ms = 0.0;
    let t_start = js::now_ms();
    let mut last_progress = 0.0;
    for sample in &v.samples {
        loop {
            if cancel.get() {
                return Err(Stop::Cancelled);
            }
            if let Some(e) = shared.borrow_mut().error.take() {
                return Err(e.into());
            }
            let next = shared.borrow_mut().pending.pop_front();
            if let Some(p) = next {
                detections.push(run_detector(&detector, p, display, &mut detect_ms).await?);
                continue;
            }
            if decoder.queue_size() < MAX_QUEUE {
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
            let seen = shared.borrow().frames_seen;
            post_progress(Stage::Analysing, seen, frames_total, t_start, now);
            js::sleep(0).await;
        }
    }
    decoder.flush().await?;
    loop {
        if let Some(e) = shared.borrow_mut().error.take() {
            return Err(e.into());
        }
        let next = shared.borrow_mut().pending.pop_front();
        match next {
            Some(p) => detections.push(run_detector(&detector, p, display, &mut detect_ms).await?),
            None => break,
        }
    }
    drop(decoder);

    let cuts = shared.borrow().shots.finish();
    let analysed = detections.len() as u64;
    let mut analysis = Analysis::new(display, detections, cuts);
    let camera = CameraSettings::new(settings.ratio, settings.smoothness);
    let crop_path = analysis.crop_path(&camera, shown);
    if crop_path.len() != shown.len() {
        return Err(ReframeError::Internal(format!("the camera path has {} of {} frames", crop_path.len(), shown.len())).into());
    }
    Ok(AnalysisResult {
        crop_path,
        report: AnalysisReport {
            backend: detector.backend.clone(),
            model: MODEL_NAME.to_string(),
            detections: analysis.detections.clone(),
            cuts_us: analysis.cuts_us.clone(),
            analysed_frames: analysed,
            detect_ms_per_frame: if analysed > 0 { detect_ms / analysed as f64 } else { 0.0 },
        },
    })
}

async fn run_detector(detector: &PersonDetector, p: Pending, display: PixelSize, total_ms: &mut f64) -> Result<Detection, ReframeError> {
    let t0 = js::now_ms();
    let boxes = detector.detect(&p.rgba, display).await?;
    *total_ms += js::now_ms() - t0;
    Ok(Detection { timestamp_us: p.t, frame: p.frame, boxes })
}

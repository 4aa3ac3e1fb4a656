//! Benchmark aid (`?decode_only=1`): decode every frame of the input, count the shown ones, store
//! nothing. It measures the browser's decoder through the same reading loop the passes use.

use crate::decode::{Decoder, Decoding, FrameSink};
use crate::feed::{self, FeedLoop, Stop, MAX_QUEUE};
use crate::frame::Frame;
use crate::js;
use crate::progress::post_progress;
use crate::signal::Signal;
use crate::source::FileSource;
use reframe_core::demux::Movie;
use reframe_core::summary::{JobSummary, Stage, StageTime};
use reframe_core::units::TimestampUs;
use reframe_core::ReframeError;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use web_sys::VideoDecoderConfig;

/// Counts the shown frames as they come out of the decoder.
struct Count {
    shown: Rc<Vec<TimestampUs>>,
    frames: u64,
    first_ms: Option<f64>,
    last_ms: f64,
    error: Option<ReframeError>,
}

impl FrameSink for Count {
    fn on_frame(&mut self, frame: Frame) {
        if self.shown.binary_search(&frame.timestamp()).is_ok() {
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

struct CountLoop {
    count: Rc<RefCell<Count>>,
    total: u64,
    t_start: f64,
}

impl FeedLoop for CountLoop {
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

/// Decodes the whole video; the summary gives the frames counted and the decoding speed
/// between the first and the last frame out.
pub async fn run(
    movie: &Movie,
    source: &mut FileSource,
    config: &VideoDecoderConfig,
    cancel: &Cell<bool>,
    t_start: f64,
) -> Result<JobSummary, Stop> {
    let v = &movie.video;
    let shown = Rc::new(v.shown_timestamps());
    let total = shown.len() as u64;
    let count =
        Rc::new(RefCell::new(Count { shown: shown.clone(), frames: 0, first_ms: None, last_ms: 0.0, error: None }));
    let signal = Signal::default();
    let mut decoding = Decoding::new(config, &count, shown, &signal)?;
    let t0 = js::now_ms();
    let mut lp = CountLoop { count: count.clone(), total, t_start: t0 };
    feed::feed(&mut decoding, v, source, 0..v.samples.len(), &signal, cancel, &mut lp).await?;
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
        frames_decoded: c.frames,
        hardware_decode: false,
        notices: Vec::new(),
        damaged_frames: Vec::new(),
        crop_path: Vec::new(),
        split_layout: None,
        analysis: None,
    })
}

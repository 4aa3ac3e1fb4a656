//! Feeding a decoder the samples of a pass, with back-pressure: the reading loop both passes
//! (analysis and encoding) share. Each pass gives a [`FeedLoop`] that does its own work between
//! samples (detections, segment commits) and says when the codec queues have room.

use crate::decode::{Decoder, Decoding, FrameSink};
use crate::js;
use crate::signal::Signal;
use crate::source::FileSource;
use reframe_core::demux::{ByteSource, VideoTrack};
use reframe_core::ReframeError;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Why a pass (and the job) stopped early.
pub enum Stop {
    Cancelled,
    Failed(ReframeError),
}

impl From<ReframeError> for Stop {
    fn from(e: ReframeError) -> Self {
        Stop::Failed(e)
    }
}

/// The loop around [`feed`]: work between samples, and progress.
pub trait FeedLoop {
    /// Called before each sample: does pending work (detections, segment commits), checks for
    /// errors, and says whether the codec queues have room for another sample.
    async fn ready(&mut self, decoder: &Decoder) -> Result<bool, Stop>;
    /// Called at most every [`PROGRESS_EVERY_MS`].
    fn progress(&mut self, now_ms: f64);
}

/// Frames allowed in each codec queue before the reader waits.
pub const MAX_QUEUE: u32 = 6;
pub const PROGRESS_EVERY_MS: f64 = 100.0;

/// How many times a pass starts its decoder again after damaged data before it gives up.
const MAX_RESTARTS: u32 = 50;

/// Feeds `samples` (decode order) to the decoder with back-pressure, then flushes it. Where the
/// decoder fails on damaged data, it is started again at the next keyframe, and the frames lost
/// meanwhile are stood in for (`decode::GapFill`); the pass fails only after [`MAX_RESTARTS`].
pub async fn feed<S: FrameSink + 'static>(
    decoding: &mut Decoding<S>,
    track: &VideoTrack,
    source: &mut FileSource,
    samples: std::ops::Range<usize>,
    signal: &Signal,
    cancel: &Cell<bool>,
    lp: &mut impl FeedLoop,
) -> Result<(), Stop> {
    let mut last_progress = 0.0;
    // After a restart: samples up to the next keyframe cannot be decoded.
    let mut to_keyframe = false;
    // One past the last shown frame of the pass (the gap filler fills a damaged end up to it).
    let mut end = 0usize;
    for sample in &track.samples[samples] {
        if let Some(i) = decoding.shown_index(track.presentation_time(sample)) {
            end = end.max(i + 1);
        }
        loop {
            if cancel.get() {
                return Err(Stop::Cancelled);
            }
            if let Some(e) = decoding.failed() {
                restart(decoding, e)?;
                to_keyframe = true;
            }
            if lp.ready(&decoding.decoder).await? {
                break;
            }
            signal.wait(50).await;
        }
        if to_keyframe && !sample.keyframe {
            continue;
        }
        to_keyframe = false;
        let mut data = vec![0u8; sample.size as usize];
        source.read_at(sample.offset, &mut data)?;
        if let Err(e) = decoding.decoder.decode(track, sample, &data) {
            // A decoder closed by its failure refuses input: start again from the next keyframe.
            restart(decoding, decoding.failed().unwrap_or(e))?;
            to_keyframe = true;
        }
        let now = js::now_ms();
        if now - last_progress >= PROGRESS_EVERY_MS {
            last_progress = now;
            lp.progress(now);
            // Let the codec callbacks run even when the queues never fill.
            js::sleep(0).await;
        }
    }
    // Flush, still doing the loop's work meanwhile: its sink may hold decoded frames until
    // `ready` runs, and a decoder whose frames are all held can stall.
    let outcome: Rc<RefCell<Option<Result<(), ReframeError>>>> = Rc::default();
    {
        let (o, w) = (outcome.clone(), signal.clone());
        let flushing = decoding.decoder.flush();
        wasm_bindgen_futures::spawn_local(async move {
            let r = js::wait(flushing, |e| ReframeError::Decode(js::describe(e).1)).await.map(|_| ());
            *o.borrow_mut() = Some(r);
            w.wake();
        });
    }
    loop {
        if let Some(r) = outcome.borrow_mut().take() {
            // A failure at the very end loses the last frames: they are stood in for below.
            if let Err(e) = r {
                if decoding.failed().is_none() {
                    return Err(e.into());
                }
                restart(decoding, e)?;
            }
            break;
        }
        lp.ready(&decoding.decoder).await?;
        if outcome.borrow().is_none() {
            signal.wait(50).await;
        }
    }
    if decoding.restarts > 0 {
        decoding.sink.borrow_mut().fill_to(end);
    }
    // Whatever the last frames left to do.
    lp.ready(&decoding.decoder).await?;
    Ok(())
}

/// Starts the decoder again after `failure`, unless it failed too often.
fn restart<S: FrameSink + 'static>(decoding: &mut Decoding<S>, failure: ReframeError) -> Result<(), Stop> {
    if decoding.restarts >= MAX_RESTARTS {
        return Err(failure.into());
    }
    decoding.restart()?;
    Ok(())
}

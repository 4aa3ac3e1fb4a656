//! Feeding a decoder the samples of a pass, with back-pressure: the reading loop both passes
//! (analysis and encoding) share. Each pass gives a [`FeedLoop`] that does its own work between
//! samples (detections, segment commits) and says when the codec queues have room.

use crate::decode::Decoder;
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

/// Feeds `samples` (decode order) to the decoder with back-pressure, then flushes it.
pub async fn feed(
    decoder: &Decoder,
    track: &VideoTrack,
    source: &mut FileSource,
    samples: std::ops::Range<usize>,
    signal: &Signal,
    cancel: &Cell<bool>,
    lp: &mut impl FeedLoop,
) -> Result<(), Stop> {
    let mut last_progress = 0.0;
    for sample in &track.samples[samples] {
        loop {
            if cancel.get() {
                return Err(Stop::Cancelled);
            }
            if lp.ready(decoder).await? {
                break;
            }
            signal.wait(50).await;
        }
        let mut data = vec![0u8; sample.size as usize];
        source.read_at(sample.offset, &mut data)?;
        decoder.decode(track, sample, &data)?;
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
        let flushing = decoder.flush();
        wasm_bindgen_futures::spawn_local(async move {
            let r = js::wait(flushing, |e| ReframeError::Decode(js::describe(e).1)).await.map(|_| ());
            *o.borrow_mut() = Some(r);
            w.wake();
        });
    }
    loop {
        if let Some(r) = outcome.borrow_mut().take() {
            r?;
            break;
        }
        lp.ready(decoder).await?;
        if outcome.borrow().is_none() {
            signal.wait(50).await;
        }
    }
    // Whatever the last frames left to do.
    lp.ready(decoder).await?;
    Ok(())
}

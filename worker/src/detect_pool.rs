//! Helper workers that run the CPU detector side by side (the pipeline worker's side; the
//! helpers run `detect_helper`). burn's CPU backend uses one thread in the browser (wasm
//! threads would need a nightly toolchain), so on a multi-core machine the analysis detects
//! several batches at once, one per helper, while the pipeline worker goes on decoding.

use crate::detect_helper;
use crate::js;
use crate::messages;
use crate::signal::Signal;
use reframe_core::protocol::{FromDetectorHelper, ToDetectorHelper};
use reframe_core::settings::DetectorModel;
use reframe_core::ReframeError;
use reframe_detect::Detection;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker, WorkerOptions};

/// How long a helper may take to load its wasm and build the detector before the pool gives up
/// on it (at the start, the pipeline worker then runs the detector itself).
const START_TIMEOUT_MS: f64 = 60_000.0;

/// How long a helper may take per frame of a request before it counts as stopped (hung): far
/// beyond any real run (this 2-core machine: 45 to 130 ms per frame), so only a dead helper
/// reaches it.
const DETECT_TIMEOUT_MS_PER_FRAME: f64 = 60_000.0;

/// A message from a helper, or the error that ended it.
type Received = Result<JsValue, HelperError>;

/// Why a helper gave no answer (to a request, or when starting).
#[derive(Debug, Clone, PartialEq)]
pub enum HelperError {
    /// It answered with an error: it is alive, and the same request would fail again.
    Failed(String),
    /// It crashed, or did not answer in time: a fresh helper may succeed.
    Stopped(String),
    /// A request stopped one helper, and no replacement could start.
    NoReplacement { stopped: Box<HelperError>, why: Box<HelperError> },
    /// A request stopped one helper and failed in its replacement too.
    ReplacementFailed { stopped: Box<HelperError>, why: Box<HelperError> },
    /// Every helper had a request running (the caller keeps at most `size` in flight).
    AllBusy,
}

impl std::fmt::Display for HelperError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HelperError::Failed(m) | HelperError::Stopped(m) => f.write_str(m),
            HelperError::NoReplacement { stopped, why } => write!(f, "{stopped}, and a new one could not start: {why}"),
            HelperError::ReplacementFailed { stopped, why } => {
                write!(f, "{stopped}; its replacement failed on the same frames: {why}")
            }
            HelperError::AllBusy => f.write_str("every detector worker is busy"),
        }
    }
}

impl From<HelperError> for ReframeError {
    fn from(e: HelperError) -> ReframeError {
        ReframeError::Detection(e.to_string())
    }
}

/// A helper worker; terminated when dropped.
struct Helper {
    worker: Worker,
    inbox: Rc<RefCell<VecDeque<Received>>>,
    signal: Signal,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

impl Helper {
    /// Starts a helper: this worker's own script under the helper name.
    fn spawn(index: usize) -> Result<Helper, HelperError> {
        let url = js::worker_scope().location().href();
        let options = WorkerOptions::new();
        options.set_name(&format!("{}-{index}", detect_helper::NAME));
        let worker = Worker::new_with_options(&url, &options)
            .map_err(|e| HelperError::Stopped(format!("a detector worker could not start: {}", js::describe(&e).1)))?;
        let inbox: Rc<RefCell<VecDeque<Received>>> = Rc::default();
        let signal = Signal::default();
        let (i, s) = (inbox.clone(), signal.clone());
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            i.borrow_mut().push_back(Ok(event.data()));
            s.wake();
        });
        let (i, s) = (inbox.clone(), signal.clone());
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            event.prevent_default();
            i.borrow_mut()
                .push_back(Err(HelperError::Stopped(format!("a detector worker stopped: {}", event.message()))));
            s.wake();
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Helper { worker, inbox, signal, _on_message: on_message, _on_error: on_error })
    }

    /// Starts helper `index` and builds the detector in it, within `timeout_ms`.
    async fn start(index: usize, model: DetectorModel, weights: &[u8], timeout_ms: f64) -> Result<Helper, HelperError> {
        let helper = Helper::spawn(index)?;
        let t0 = js::now_ms();
        helper.begin_load(model, weights, timeout_ms).await?;
        helper.expect(FromDetectorHelper::Loaded, (timeout_ms - (js::now_ms() - t0)).max(0.0)).await?;
        Ok(helper)
    }

    /// Waits for the helper to be ready, then sends it the weights to build the detector from.
    async fn begin_load(&self, model: DetectorModel, weights: &[u8], timeout_ms: f64) -> Result<(), HelperError> {
        self.expect(FromDetectorHelper::Ready, timeout_ms).await?;
        self.send(&ToDetectorHelper::Load { model }, &[weights])
    }

    /// Posts `message` with `parts`, copied once, one after the other, into a buffer that is
    /// then transferred.
    fn send(&self, message: &ToDetectorHelper, parts: &[&[u8]]) -> Result<(), HelperError> {
        let value = messages::to_js(message).map_err(|e| HelperError::Failed(format!("unsendable request: {e}")))?;
        let data = js_sys::Uint8Array::new_with_length(parts.iter().map(|p| p.len() as u32).sum());
        let mut at = 0;
        for part in parts {
            data.subarray(at, at + part.len() as u32).copy_from(part);
            at += part.len() as u32;
        }
        let buffer = data.buffer();
        let transfer = js_sys::Array::of1(&buffer);
        self.worker
            .post_message_with_transfer(&js_sys::Array::of2(&value, &buffer), &transfer)
            .map_err(|e| HelperError::Stopped(format!("a detector worker took no request: {}", js::describe(&e).1)))
    }

    /// The helper's next message, waiting up to `timeout_ms`.
    async fn receive(&self, timeout_ms: f64) -> Result<FromDetectorHelper, HelperError> {
        let t0 = js::now_ms();
        loop {
            let next = self.inbox.borrow_mut().pop_front();
            match next {
                Some(Ok(value)) => {
                    return match serde_wasm_bindgen::from_value(value) {
                        Ok(FromDetectorHelper::Failed { message }) => Err(HelperError::Failed(message)),
                        Ok(reply) => Ok(reply),
                        Err(e) => Err(HelperError::Failed(format!("unreadable reply from a detector worker: {e}"))),
                    }
                }
                Some(Err(e)) => return Err(e),
                None if js::now_ms() - t0 > timeout_ms => {
                    return Err(HelperError::Stopped(format!(
                        "a detector worker did not answer within {:.0} s",
                        timeout_ms / 1000.0
                    )))
                }
                None => self.signal.wait(200).await,
            }
        }
    }

    /// Waits for `want` (and nothing else) as the next message.
    async fn expect(&self, want: FromDetectorHelper, timeout_ms: f64) -> Result<(), HelperError> {
        match self.receive(timeout_ms).await? {
            reply if reply == want => Ok(()),
            other => Err(HelperError::Failed(format!("a detector worker answered {other:?} instead of {want:?}"))),
        }
    }

    /// Sends a detection request for `images` (RGBA, `width` x `height` each) and waits for
    /// their boxes. `crash`: test aid, see `ToDetectorHelper::Detect`.
    async fn detect(
        &self,
        images: &[&[u8]],
        width: u32,
        height: u32,
        crash: bool,
    ) -> Result<Vec<Vec<[f32; 5]>>, HelperError> {
        let frames = images.len() as u32;
        self.send(&ToDetectorHelper::Detect { width, height, frames, crash }, images)?;
        match self.receive(DETECT_TIMEOUT_MS_PER_FRAME * frames.max(1) as f64).await? {
            FromDetectorHelper::Boxes { boxes } if boxes.len() == frames as usize => Ok(boxes),
            other => Err(HelperError::Failed(format!(
                "a detector worker answered {other:?} to a request for {frames} frames"
            ))),
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// A helper and whether a request is running in it. The helper is replaced when it stops.
struct Slot {
    helper: RefCell<Rc<Helper>>,
    busy: Cell<bool>,
}

/// Helper workers, each with the CPU detector loaded. A helper that crashes (or hangs) is
/// replaced by a fresh one, which runs the lost request again.
pub struct DetectorPool {
    slots: Vec<Slot>,
    model: DetectorModel,
    /// The weights, to load a replacement helper.
    weights: Vec<u8>,
    /// Requests sent so far, and the one whose helper crashes (test aid).
    requests: Cell<u32>,
    crash_at: Option<u32>,
    restarts: Cell<u32>,
}

impl DetectorPool {
    /// Starts `count` helpers and loads `model` from `weights` in each (in parallel). On
    /// failure, the weights come back with the reason.
    pub async fn start(
        count: usize,
        model: DetectorModel,
        weights: Vec<u8>,
        crash_at: Option<u32>,
    ) -> Result<DetectorPool, (HelperError, Vec<u8>)> {
        let t0 = js::now_ms();
        let left = || (START_TIMEOUT_MS - (js::now_ms() - t0)).max(0.0);
        let started = async {
            let helpers = (0..count).map(Helper::spawn).collect::<Result<Vec<Helper>, HelperError>>()?;
            // All load at once: each gets the weights as soon as it is ready.
            for h in &helpers {
                h.begin_load(model, &weights, left()).await?;
            }
            for h in &helpers {
                h.expect(FromDetectorHelper::Loaded, left()).await?;
            }
            Ok::<_, HelperError>(helpers)
        };
        match started.await {
            Ok(helpers) => {
                let slots = helpers
                    .into_iter()
                    .map(|h| Slot { helper: RefCell::new(Rc::new(h)), busy: Cell::new(false) })
                    .collect();
                Ok(DetectorPool { slots, model, weights, requests: Cell::new(0), crash_at, restarts: Cell::new(0) })
            }
            // The helpers started so far were dropped, so terminated.
            Err(e) => Err((e, weights)),
        }
    }

    pub fn size(&self) -> usize {
        self.slots.len()
    }

    /// Helpers replaced so far because they crashed or hung.
    pub fn restarts(&self) -> u32 {
        self.restarts.get()
    }

    /// People in `images`, RGBA of `width` x `height` each, in pixels of those images, detected
    /// by an idle helper. The caller keeps at most [`size`](Self::size) requests running.
    pub async fn detect(&self, images: &[&[u8]], width: u32, height: u32) -> Result<Vec<Vec<Detection>>, HelperError> {
        let (index, slot) = self.slots.iter().enumerate().find(|(_, s)| !s.busy.get()).ok_or(HelperError::AllBusy)?;
        let number = self.requests.replace(self.requests.get() + 1);
        slot.busy.set(true);
        let boxes = self.detect_in(index, slot, images, width, height, self.crash_at == Some(number)).await;
        slot.busy.set(false);
        Ok(boxes?
            .into_iter()
            .map(|frame| {
                frame.into_iter().map(|[x, y, width, height, score]| Detection { x, y, width, height, score }).collect()
            })
            .collect())
    }

    /// Runs a request in `slot`'s helper; if that helper stops, replaces it and runs the request
    /// again in the new one (once: a request that stops two helpers fails).
    async fn detect_in(
        &self,
        index: usize,
        slot: &Slot,
        images: &[&[u8]],
        width: u32,
        height: u32,
        crash: bool,
    ) -> Result<Vec<Vec<[f32; 5]>>, HelperError> {
        let helper = slot.helper.borrow().clone();
        let stopped = match helper.detect(images, width, height, crash).await {
            Err(e @ HelperError::Stopped(_)) => e,
            answered => return answered,
        };
        // Frees its memory now, before the replacement loads (the slot still holds it).
        helper.worker.terminate();
        let fresh =
            Rc::new(Helper::start(index, self.model, &self.weights, START_TIMEOUT_MS).await.map_err(|why| {
                HelperError::NoReplacement { stopped: Box::new(stopped.clone()), why: Box::new(why) }
            })?);
        *slot.helper.borrow_mut() = fresh.clone();
        self.restarts.set(self.restarts.get() + 1);
        fresh
            .detect(images, width, height, false)
            .await
            .map_err(|why| HelperError::ReplacementFailed { stopped: Box::new(stopped), why: Box::new(why) })
    }
}

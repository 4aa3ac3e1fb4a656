//! The detector workers (the pipeline worker's side; they run `detect-worker/`, their own wasm,
//! fetched only when a job needs people found). One runs the detectors on the GPU; on the CPU
//! several run side by side, since burn's CPU backend uses one thread in the browser (wasm
//! threads would need a nightly toolchain): the analysis detects several batches at once, one
//! per worker, while the pipeline worker goes on decoding.

use crate::js;
use crate::messages;
use crate::signal::Signal;
use reframe_core::protocol::{DetectorInfo, DetectorInputShape, FromDetector, ToDetector};
use reframe_core::track::{Face, PersonBox};
use reframe_core::ReframeError;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker, WorkerOptions};

/// The detector worker's script (wasm-bindgen's loader shim), beside this worker's.
const SCRIPT: &str = "./reframe-detect-worker_loader.js";

/// How long a detector worker may take to load its wasm (downloaded on first use: 25 MB, 5 MB
/// compressed) and build the detectors before the pool gives up on it.
const START_TIMEOUT_MS: f64 = 180_000.0;

/// How long a worker may take per frame of a request before it counts as stopped (hung): far
/// beyond any real run (this 2-core machine: 45 to 130 ms per frame), so only a dead worker
/// reaches it.
const DETECT_TIMEOUT_MS_PER_FRAME: f64 = 60_000.0;

/// A message from a worker, or the error that ended it.
type Received = Result<JsValue, WorkerError>;

/// Why a worker gave no answer (to a request, or when starting).
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerError {
    /// It answered with an error: it is alive, and the same request would fail again.
    Failed(String),
    /// It crashed, or did not answer in time: a fresh worker may succeed.
    Stopped(String),
    /// A request stopped one worker, and no replacement could start.
    NoReplacement { stopped: Box<WorkerError>, why: Box<WorkerError> },
    /// A request stopped one worker and failed in its replacement too.
    ReplacementFailed { stopped: Box<WorkerError>, why: Box<WorkerError> },
    /// Every worker had a request running (the caller keeps at most `size` in flight).
    AllBusy,
}

impl std::fmt::Display for WorkerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkerError::Failed(m) | WorkerError::Stopped(m) => f.write_str(m),
            WorkerError::NoReplacement { stopped, why } => write!(f, "{stopped}, and a new one could not start: {why}"),
            WorkerError::ReplacementFailed { stopped, why } => {
                write!(f, "{stopped}; its replacement failed on the same frames: {why}")
            }
            WorkerError::AllBusy => f.write_str("every detector worker is busy"),
        }
    }
}

impl From<WorkerError> for ReframeError {
    fn from(e: WorkerError) -> ReframeError {
        ReframeError::Detection(e.to_string())
    }
}

/// People and faces found on the frames of one request, and how many were scaled on the device.
pub struct Found {
    pub people: Vec<Vec<PersonBox>>,
    pub faces: Vec<Vec<Face>>,
    pub scaled_on_device: u32,
}

/// A detector worker; terminated when dropped.
struct DetectorWorker {
    worker: Worker,
    inbox: Rc<RefCell<VecDeque<Received>>>,
    signal: Signal,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

impl DetectorWorker {
    /// Starts detector worker `index` (its name shows in the browser's tools).
    fn spawn(index: usize) -> Result<DetectorWorker, WorkerError> {
        let options = WorkerOptions::new();
        options.set_name(&format!("reframe-detector-{index}"));
        let worker = Worker::new_with_options(SCRIPT, &options)
            .map_err(|e| WorkerError::Stopped(format!("a detector worker could not start: {}", js::describe(&e).1)))?;
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
                .push_back(Err(WorkerError::Stopped(format!("a detector worker stopped: {}", event.message()))));
            s.wake();
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(DetectorWorker { worker, inbox, signal, _on_message: on_message, _on_error: on_error })
    }

    /// Starts worker `index` and builds the detectors in it (`load` with `weights`), within
    /// `timeout_ms`.
    async fn start(
        index: usize,
        load: &ToDetector,
        weights: &[u8],
        timeout_ms: f64,
    ) -> Result<(DetectorWorker, DetectorInfo), WorkerError> {
        let worker = DetectorWorker::spawn(index)?;
        let t0 = js::now_ms();
        worker.begin_load(load, weights, timeout_ms).await?;
        let info = worker.loaded((timeout_ms - (js::now_ms() - t0)).max(0.0)).await?;
        Ok((worker, info))
    }

    /// Waits for the worker to be ready, then sends it the weights to build the detectors from.
    async fn begin_load(&self, load: &ToDetector, weights: &[u8], timeout_ms: f64) -> Result<(), WorkerError> {
        match self.receive(timeout_ms).await? {
            FromDetector::Ready => self.send(load, &[weights]),
            other => Err(WorkerError::Failed(format!("a detector worker answered {other:?} instead of Ready"))),
        }
    }

    /// Waits for the `Loaded` answer.
    async fn loaded(&self, timeout_ms: f64) -> Result<DetectorInfo, WorkerError> {
        match self.receive(timeout_ms).await? {
            FromDetector::Loaded(info) => Ok(info),
            other => Err(WorkerError::Failed(format!("a detector worker answered {other:?} instead of Loaded"))),
        }
    }

    /// Posts `message` with `parts`, copied once, one after the other, into a buffer that is
    /// then transferred.
    fn send(&self, message: &ToDetector, parts: &[&[u8]]) -> Result<(), WorkerError> {
        let value = messages::to_js(message).map_err(|e| WorkerError::Failed(format!("unsendable request: {e}")))?;
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
            .map_err(|e| WorkerError::Stopped(format!("a detector worker took no request: {}", js::describe(&e).1)))
    }

    /// The worker's next message, waiting up to `timeout_ms`.
    async fn receive(&self, timeout_ms: f64) -> Result<FromDetector, WorkerError> {
        let t0 = js::now_ms();
        loop {
            let next = self.inbox.borrow_mut().pop_front();
            match next {
                Some(Ok(value)) => {
                    return match serde_wasm_bindgen::from_value(value) {
                        Ok(FromDetector::Failed { message }) => Err(WorkerError::Failed(message)),
                        Ok(reply) => Ok(reply),
                        Err(e) => Err(WorkerError::Failed(format!("unreadable reply from a detector worker: {e}"))),
                    }
                }
                Some(Err(e)) => return Err(e),
                None if js::now_ms() - t0 > timeout_ms => {
                    return Err(WorkerError::Stopped(format!(
                        "a detector worker did not answer within {:.0} s",
                        timeout_ms / 1000.0
                    )))
                }
                None => self.signal.wait(200).await,
            }
        }
    }

    /// Sends a detection request (`inputs` as `parts`, then the face images) and waits for the
    /// people and faces found. `crash`: test aid, see `ToDetector::Detect`.
    async fn detect(&self, inputs: &[DetectorInputShape], parts: &[&[u8]], crash: bool) -> Result<Found, WorkerError> {
        let frames = inputs.len();
        self.send(&ToDetector::Detect { inputs: inputs.to_vec(), crash }, parts)?;
        match self.receive(DETECT_TIMEOUT_MS_PER_FRAME * frames.max(1) as f64).await? {
            FromDetector::Found { people, faces, scaled_on_device }
                if people.len() == frames && faces.len() == frames =>
            {
                Ok(Found { people, faces, scaled_on_device })
            }
            other => Err(WorkerError::Failed(format!(
                "a detector worker answered {other:?} to a request for {frames} frames"
            ))),
        }
    }
}

impl Drop for DetectorWorker {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// A worker, whether a request is running in it, and the `Load` request that built it (to
/// build a replacement the same way). The worker is replaced when it stops.
struct Slot {
    worker: RefCell<Rc<DetectorWorker>>,
    busy: Cell<bool>,
    load: ToDetector,
}

/// Detector workers, each with the detectors built. A worker that crashes (or hangs) is replaced
/// by a fresh one, which runs the lost request again.
pub struct DetectorPool {
    slots: Vec<Slot>,
    /// The weights (the person model's, then the face model's), to build a replacement.
    weights: Vec<u8>,
    /// Requests sent so far, and the one whose worker crashes (test aid).
    requests: Cell<u32>,
    crash_at: Option<u32>,
    restarts: Cell<u32>,
}

impl DetectorPool {
    /// Starts a worker for each of `loads` and builds the detectors in each (in parallel) from
    /// `weights`, answering with what the first built. Fails when none starts; workers that
    /// cannot start are left out, with the last reason beside the pool.
    pub async fn start(
        loads: Vec<ToDetector>,
        weights: Vec<u8>,
        crash_at: Option<u32>,
    ) -> Result<(DetectorPool, DetectorInfo, Option<WorkerError>), WorkerError> {
        let mut pool =
            DetectorPool { slots: Vec::new(), weights, requests: Cell::new(0), crash_at, restarts: Cell::new(0) };
        match pool.add(loads).await {
            (Some(info), left_out) => Ok((pool, info, left_out)),
            (None, why) => Err(why.unwrap_or_else(|| WorkerError::Failed("no detector worker was asked for".into()))),
        }
    }

    /// Starts more workers (`loads`) beside the running ones, in parallel; those that cannot
    /// start are left out, and the last reason comes back.
    pub async fn grow(&mut self, loads: Vec<ToDetector>) -> Option<WorkerError> {
        self.add(loads).await.1
    }

    /// Starts a worker for each of `loads`: what the first built, and why the last that could
    /// not start did not.
    async fn add(&mut self, loads: Vec<ToDetector>) -> (Option<DetectorInfo>, Option<WorkerError>) {
        let t0 = js::now_ms();
        let left = || (START_TIMEOUT_MS - (js::now_ms() - t0)).max(0.0);
        let first = self.slots.len();
        let spawned: Vec<(Result<DetectorWorker, WorkerError>, ToDetector)> =
            loads.into_iter().enumerate().map(|(i, load)| (DetectorWorker::spawn(first + i), load)).collect();
        // All load at once: each gets the weights as soon as it is ready.
        let mut sent = Vec::with_capacity(spawned.len());
        for (worker, load) in spawned {
            let ready = match worker {
                Ok(h) => h.begin_load(&load, &self.weights, left()).await.map(|()| h),
                Err(e) => Err(e),
            };
            sent.push((ready, load));
        }
        let (mut info, mut left_out) = (None, None);
        for (ready, load) in sent {
            let built = match ready {
                Ok(h) => h.loaded(left()).await.map(|i| (h, i)),
                Err(e) => Err(e),
            };
            match built {
                Ok((worker, i)) => {
                    info.get_or_insert(i);
                    self.slots.push(Slot { worker: RefCell::new(Rc::new(worker)), busy: Cell::new(false), load });
                }
                // Dropped, so terminated.
                Err(e) => left_out = Some(e),
            }
        }
        (info, left_out)
    }

    pub fn size(&self) -> usize {
        self.slots.len()
    }

    /// Workers replaced so far because they crashed or hung.
    pub fn restarts(&self) -> u32 {
        self.restarts.get()
    }

    /// People and faces on sampled frames (`inputs` as `parts`, then their face images), found
    /// by an idle worker. The caller keeps at most [`size`](Self::size) requests running.
    pub async fn detect(&self, inputs: &[DetectorInputShape], parts: &[&[u8]]) -> Result<Found, WorkerError> {
        let (index, slot) = self.slots.iter().enumerate().find(|(_, s)| !s.busy.get()).ok_or(WorkerError::AllBusy)?;
        let number = self.requests.replace(self.requests.get() + 1);
        slot.busy.set(true);
        let found = self.detect_in(index, slot, inputs, parts, self.crash_at == Some(number)).await;
        slot.busy.set(false);
        found
    }

    /// Runs a request in `slot`'s worker; if that worker stops, replaces it and runs the request
    /// again in the new one (once: a request that stops two workers fails).
    async fn detect_in(
        &self,
        index: usize,
        slot: &Slot,
        inputs: &[DetectorInputShape],
        parts: &[&[u8]],
        crash: bool,
    ) -> Result<Found, WorkerError> {
        let worker = slot.worker.borrow().clone();
        let stopped = match worker.detect(inputs, parts, crash).await {
            Err(e @ WorkerError::Stopped(_)) => e,
            answered => return answered,
        };
        // Frees its memory now, before the replacement loads (the slot still holds it).
        worker.worker.terminate();
        let (fresh, _) = DetectorWorker::start(index, &slot.load, &self.weights, START_TIMEOUT_MS)
            .await
            .map_err(|why| WorkerError::NoReplacement { stopped: Box::new(stopped.clone()), why: Box::new(why) })?;
        let fresh = Rc::new(fresh);
        *slot.worker.borrow_mut() = fresh.clone();
        self.restarts.set(self.restarts.get() + 1);
        fresh
            .detect(inputs, parts, false)
            .await
            .map_err(|why| WorkerError::ReplacementFailed { stopped: Box::new(stopped), why: Box::new(why) })
    }
}

//! Helper workers that run the CPU detector side by side (the pipeline worker's side; the
//! helpers run `detect_helper`). burn's CPU backend uses one thread in the browser (wasm
//! threads would need a nightly toolchain), so on a multi-core machine the analysis detects
//! several batches at once, one per helper, while the pipeline worker goes on decoding.

use crate::detect_helper;
use crate::js;
use crate::messages;
use crate::signal::Signal;
use reframe_core::protocol::{DetectorModel, FromDetectorHelper, ToDetectorHelper};
use reframe_detect::Detection;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker, WorkerOptions};

/// How long a helper may take to load its wasm and build the detector before the pool gives up
/// on helpers (and the pipeline worker runs the detector itself).
const START_TIMEOUT_MS: f64 = 60_000.0;

/// A message from a helper, or the error that ended it.
type Received = Result<JsValue, String>;

struct Helper {
    worker: Worker,
    inbox: Rc<RefCell<VecDeque<Received>>>,
    signal: Signal,
    busy: Cell<bool>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

impl Helper {
    /// Starts a helper: this worker's own script under the helper name.
    fn spawn(index: usize) -> Result<Helper, String> {
        let url = js::worker_scope().location().href();
        let options = WorkerOptions::new();
        options.set_name(&format!("{}-{index}", detect_helper::NAME));
        let worker = Worker::new_with_options(&url, &options).map_err(|e| js::describe(&e).1)?;
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
            i.borrow_mut().push_back(Err(format!("a detector worker stopped: {}", event.message())));
            s.wake();
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Helper { worker, inbox, signal, busy: Cell::new(false), _on_message: on_message, _on_error: on_error })
    }

    /// Posts `message` with `parts`, copied once, one after the other, into a buffer that is
    /// then transferred.
    fn send(&self, message: &ToDetectorHelper, parts: &[&[u8]]) -> Result<(), String> {
        let value = messages::to_js(message).map_err(|e| e.to_string())?;
        let data = js_sys::Uint8Array::new_with_length(parts.iter().map(|p| p.len() as u32).sum());
        let mut at = 0;
        for part in parts {
            data.subarray(at, at + part.len() as u32).copy_from(part);
            at += part.len() as u32;
        }
        let buffer = data.buffer();
        let transfer = js_sys::Array::of1(&buffer);
        self.worker.post_message_with_transfer(&js_sys::Array::of2(&value, &buffer), &transfer).map_err(|e| js::describe(&e).1)
    }

    /// The helper's next message, waiting up to `timeout_ms` (forever when `None`).
    async fn receive(&self, timeout_ms: Option<f64>) -> Result<FromDetectorHelper, String> {
        let t0 = js::now_ms();
        loop {
            let next = self.inbox.borrow_mut().pop_front();
            match next {
                Some(Ok(value)) => {
                    return match serde_wasm_bindgen::from_value(value) {
                        Ok(FromDetectorHelper::Failed { message }) => Err(message),
                        Ok(reply) => Ok(reply),
                        Err(e) => Err(format!("unreadable reply from a detector worker: {e}")),
                    }
                }
                Some(Err(e)) => return Err(e),
                None if timeout_ms.is_some_and(|t| js::now_ms() - t0 > t) => {
                    return Err(format!("a detector worker did not start within {} s", START_TIMEOUT_MS / 1000.0))
                }
                None => self.signal.wait(200).await,
            }
        }
    }

    /// Waits for `want` (and nothing else) as the next message.
    async fn expect(&self, want: FromDetectorHelper, timeout_ms: Option<f64>) -> Result<(), String> {
        match self.receive(timeout_ms).await? {
            reply if reply == want => Ok(()),
            other => Err(format!("a detector worker answered {other:?} instead of {want:?}")),
        }
    }
}

/// Helper workers, each with the CPU detector loaded; terminated when dropped.
pub struct DetectorPool {
    helpers: Vec<Helper>,
}

impl Drop for DetectorPool {
    fn drop(&mut self) {
        for h in &self.helpers {
            h.worker.terminate();
        }
    }
}

impl DetectorPool {
    /// Starts `count` helpers and loads `model` from `weights` in each (in parallel).
    pub async fn start(count: usize, model: DetectorModel, weights: &[u8]) -> Result<DetectorPool, String> {
        let pool = DetectorPool { helpers: (0..count).map(Helper::spawn).collect::<Result<_, _>>()? };
        let t0 = js::now_ms();
        let left = || Some((START_TIMEOUT_MS - (js::now_ms() - t0)).max(0.0));
        for h in &pool.helpers {
            h.expect(FromDetectorHelper::Ready, left()).await?;
            h.send(&ToDetectorHelper::Load { model }, &[weights])?;
        }
        for h in &pool.helpers {
            h.expect(FromDetectorHelper::Loaded, left()).await?;
        }
        Ok(pool)
    }

    pub fn size(&self) -> usize {
        self.helpers.len()
    }

    /// People in `images`, RGBA of `width` x `height` each, in pixels of those images, detected
    /// by an idle helper. The caller keeps at most [`size`](Self::size) requests running.
    pub async fn detect(&self, images: &[&[u8]], width: u32, height: u32) -> Result<Vec<Vec<Detection>>, String> {
        let helper = self.helpers.iter().find(|h| !h.busy.get()).ok_or("every detector worker is busy")?;
        let frames = images.len() as u32;
        helper.busy.set(true);
        let reply = match helper.send(&ToDetectorHelper::Detect { width, height, frames }, images) {
            Ok(()) => helper.receive(None).await,
            Err(e) => Err(e),
        };
        helper.busy.set(false);
        match reply? {
            FromDetectorHelper::Boxes { boxes } if boxes.len() == frames as usize => Ok(boxes
                .into_iter()
                .map(|frame| frame.into_iter().map(|[x, y, width, height, score]| Detection { x, y, width, height, score }).collect())
                .collect()),
            other => Err(format!("a detector worker answered {other:?} to a request for {frames} frames")),
        }
    }
}

//! The pipeline worker as seen from the page: starting it, sending `ToWorker`, receiving
//! `FromWorker` (types in `reframe_core::protocol`).

use gloo::events::EventListener;
use reframe_core::protocol::{FromWorker, ToWorker};
use reframe_core::ReframeError;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{File, MessageEvent, Worker};

/// The script trunk generates to load the worker's wasm (see www/index.html).
const WORKER_SCRIPT: &str = "./reframe-worker_loader.js";

pub struct WorkerLink {
    worker: Worker,
}

impl WorkerLink {
    pub fn start() -> Result<WorkerLink, ReframeError> {
        let worker = Worker::new(WORKER_SCRIPT).map_err(|_| ReframeError::NoWorker)?;
        Ok(WorkerLink { worker })
    }

    /// Calls `handler` with each message, and the raw value (for what serde cannot carry, like
    /// the file handles next to `Jobs`).
    pub fn on_message(&self, mut handler: impl FnMut(FromWorker, JsValue) + 'static) {
        EventListener::new(&self.worker, "message", move |e| {
            let e: &MessageEvent = e.unchecked_ref();
            match serde_wasm_bindgen::from_value::<FromWorker>(e.data()) {
                Ok(msg) => handler(msg, e.data()),
                Err(err) => web_sys::console::error_1(&format!("unreadable message from the worker: {err}").into()),
            }
        })
        .forget();
    }

    pub fn on_error(&self, mut handler: impl FnMut(ReframeError) + 'static) {
        EventListener::new(&self.worker, "error", move |e| {
            let message = e.dyn_ref::<web_sys::ErrorEvent>().map(|e| e.message()).unwrap_or_default();
            handler(ReframeError::WorkerFailed(message));
        })
        .forget();
    }

    /// Posts `[message, file?, handle?]`.
    fn post(&self, msg: &ToWorker, file: Option<&File>, handle: Option<&JsValue>) {
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        let Ok(value) = msg.serialize(&serializer) else { return };
        let array = js_sys::Array::new();
        array.push(&value);
        if let Some(f) = file {
            array.push(f);
            if let Some(h) = handle {
                array.push(h);
            }
        }
        let _ = self.worker.post_message(&array);
    }

    /// Starts (or resumes) a job; `handle` is the file's `FileSystemFileHandle` when the browser
    /// gave one, kept by the worker so that a resume can reopen the file.
    /// Posts `job` (`Start` or `Open`) with the file beside it.
    pub fn start_job(&self, job: ToWorker, file: &File, handle: Option<&JsValue>) {
        self.post(&job, Some(file), handle);
    }

    pub fn send(&self, msg: &ToWorker) {
        self.post(msg, None, None);
    }

    pub fn cancel(&self) {
        self.post(&ToWorker::Cancel, None, None);
    }
}

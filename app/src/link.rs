//! The pipeline worker as seen from the page: starting it, sending `ToWorker`, receiving
//! `FromWorker` (types in `reframe_core::protocol`).

use gloo::events::EventListener;
use reframe_core::protocol::{FromWorker, JobSettings, ToWorker};
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{File, MessageEvent, Worker};

/// The script trunk generates to load the worker's wasm (see www/index.html).
const WORKER_SCRIPT: &str = "./reframe-worker_loader.js";

pub struct WorkerLink {
    worker: Worker,
}

impl WorkerLink {
    pub fn start() -> Result<WorkerLink, String> {
        let worker = Worker::new(WORKER_SCRIPT)
            .map_err(|_| "This browser could not start Reframe's background worker.".to_string())?;
        Ok(WorkerLink { worker })
    }

    pub fn on_message(&self, mut handler: impl FnMut(FromWorker) + 'static) {
        EventListener::new(&self.worker, "message", move |e| {
            let e: &MessageEvent = e.unchecked_ref();
            match serde_wasm_bindgen::from_value::<FromWorker>(e.data()) {
                Ok(msg) => handler(msg),
                Err(err) => web_sys_console(&format!("unreadable message from the worker: {err}")),
            }
        })
        .forget();
    }

    pub fn on_error(&self, mut handler: impl FnMut(String) + 'static) {
        EventListener::new(&self.worker, "error", move |e| {
            let message = e.dyn_ref::<web_sys::ErrorEvent>().map(|e| e.message()).unwrap_or_default();
            handler(format!("Reframe's background worker failed: {message}. Reload the page to try again."));
        })
        .forget();
    }

    fn post(&self, msg: &ToWorker, file: Option<&File>) {
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        let Ok(value) = msg.serialize(&serializer) else { return };
        let array = js_sys::Array::new();
        array.push(&value);
        if let Some(f) = file {
            array.push(f);
        }
        let _ = self.worker.post_message(&array);
    }

    pub fn start_job(&self, settings: JobSettings, file: &File) {
        self.post(&ToWorker::Start { settings, file_name: file.name() }, Some(file));
    }

    pub fn cancel(&self) {
        self.post(&ToWorker::Cancel, None);
    }
}

fn web_sys_console(text: &str) {
    let console = js_sys::Reflect::get(&js_sys::global(), &"console".into()).unwrap_or(JsValue::UNDEFINED);
    if let Ok(f) = js_sys::Reflect::get(&console, &"error".into()) {
        if let Some(f) = f.dyn_ref::<js_sys::Function>() {
            let _ = f.call1(&console, &text.into());
        }
    }
}

//! A detector helper worker: the same script and wasm as the pipeline worker, started by it
//! under the name [`NAME`] (see `detect_pool`). It builds the CPU detector from the weights it
//! is sent and answers detection requests, one at a time; several helpers detect several
//! frames at once on a multi-core machine (burn's CPU backend runs in one thread per worker).

use crate::js;
use crate::messages::post_helper_reply;
use reframe_core::protocol::{FromDetectorHelper, ToDetectorHelper};
use reframe_detect::{cpu_device, AnyDetector, DetectError, Model, RgbaFrame};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::MessageEvent;

/// The worker name helpers are started with; `start` serves this role when it sees it.
pub const NAME: &str = "reframe-detector-helper";

/// Whether this worker was started as a detector helper.
pub fn is_helper() -> bool {
    js::worker_scope().name().starts_with(NAME)
}

/// Serves the pipeline worker's requests until it terminates this worker.
pub fn serve() {
    let detector: Rc<RefCell<Option<Rc<AnyDetector>>>> = Rc::default();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let detector = detector.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let reply = handle(&event.data(), &detector)
                .await
                .unwrap_or_else(|e| FromDetectorHelper::Failed { message: e.to_string() });
            post_helper_reply(&reply);
        });
    });
    js::worker_scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    // Messages that came before the handler was set were dropped: the pool waits for this.
    post_helper_reply(&FromDetectorHelper::Ready);
}

/// Why a helper could not answer a request (sent back as `FromDetectorHelper::Failed`).
enum RequestError {
    /// The request was not one this helper reads.
    Unreadable(String),
    /// The images do not add up to the frames the request names.
    WrongSize {
        bytes: usize,
        frames: u32,
        width: u32,
        height: u32,
    },
    /// A detection request came before the weights.
    NotLoaded,
    Load(DetectError),
    Detect(DetectError),
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestError::Unreadable(why) => write!(f, "unreadable request: {why}"),
            RequestError::WrongSize { bytes, frames, width, height } => {
                write!(f, "{bytes} bytes for {frames} frames of {width}x{height}")
            }
            RequestError::NotLoaded => f.write_str("no detector was loaded"),
            RequestError::Load(e) => write!(f, "the person detector could not be loaded: {e}"),
            RequestError::Detect(e) => write!(f, "person detection: {e}"),
        }
    }
}

async fn handle(
    data: &JsValue,
    detector: &RefCell<Option<Rc<AnyDetector>>>,
) -> Result<FromDetectorHelper, RequestError> {
    let array: &js_sys::Array =
        data.dyn_ref().ok_or_else(|| RequestError::Unreadable("the message is not an array".into()))?;
    let message: ToDetectorHelper =
        serde_wasm_bindgen::from_value(array.get(0)).map_err(|e| RequestError::Unreadable(e.to_string()))?;
    let bytes = js_sys::Uint8Array::new(&array.get(1)).to_vec();
    match message {
        ToDetectorHelper::Load { model } => {
            let loaded =
                AnyDetector::from_bytes(Model::from(model), bytes, &cpu_device()).map_err(RequestError::Load)?;
            *detector.borrow_mut() = Some(Rc::new(loaded));
            Ok(FromDetectorHelper::Loaded)
        }
        ToDetectorHelper::Detect { crash: true, .. } => {
            panic!("crashed on purpose (test setting crash_detector_worker_at)")
        }
        ToDetectorHelper::Detect { width, height, frames, crash: false } => {
            let frame_bytes = width as usize * height as usize * 4;
            if bytes.len() != frame_bytes * frames as usize {
                return Err(RequestError::WrongSize { bytes: bytes.len(), frames, width, height });
            }
            let images: Vec<RgbaFrame> =
                bytes.chunks_exact(frame_bytes).map(|rgba| RgbaFrame::new(rgba, width, height)).collect();
            let detector = detector.borrow().clone().ok_or(RequestError::NotLoaded)?;
            let found = detector
                .detect_batch_async(&images, &detector.model().analysis_params())
                .await
                .map_err(RequestError::Detect)?;
            let boxes = found
                .iter()
                .map(|frame| frame.iter().map(|d| [d.x, d.y, d.width, d.height, d.score]).collect())
                .collect();
            Ok(FromDetectorHelper::Boxes { boxes })
        }
    }
}

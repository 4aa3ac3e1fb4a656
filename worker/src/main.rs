//! The pipeline worker: receives a job from the page, runs it, reports progress and the result.
//!
//! Modules, in data-flow order: [`source`] (read the File by slices) -> `reframe_core::demux` ->
//! [`decode`] (WebCodecs VideoDecoder) -> crop (`VideoFrame.visibleRect`) -> [`encode`]
//! (WebCodecs VideoEncoder) -> `reframe_core::mux` -> [`store`] (OPFS file). [`pipeline`] runs
//! the job; [`messages`] talks to the page. In auto mode, [`analyze`] first decodes the video
//! once to find people ([`detect`], on small copies from [`frame_sample`]) and shot changes,
//! and plans the camera path.

mod analyze;
mod decode;
mod detect;
mod encode;
mod frame_sample;
mod js;
mod messages;
mod pipeline;
mod signal;
mod source;
mod store;

use reframe_core::protocol::{FromWorker, ToWorker};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::MessageEvent;

fn main() {
    console_error_panic_hook::set_once();
    let cancel = Rc::new(Cell::new(false));
    let busy = Rc::new(Cell::new(false));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        let Some((message, file)) = messages::parse(&data) else {
            messages::post(&FromWorker::Failed {
                error: reframe_core::ReframeError::Internal("unreadable message from the page".into()).to_user(),
            });
            return;
        };
        match message {
            ToWorker::Cancel => cancel.set(true),
            ToWorker::Start { settings, file_name } => {
                if busy.get() {
                    return;
                }
                let Some(file) = file else {
                    messages::post(&FromWorker::Failed {
                        error: reframe_core::ReframeError::Read("no file was given".into()).to_user(),
                    });
                    return;
                };
                cancel.set(false);
                busy.set(true);
                let (cancel, busy) = (cancel.clone(), busy.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let result = pipeline::run(file, file_name, settings, cancel.clone()).await;
                    busy.set(false);
                    match result {
                        Ok(summary) => messages::post(&FromWorker::Done { summary }),
                        Err(pipeline::Stop::Cancelled) => messages::post(&FromWorker::Cancelled),
                        Err(pipeline::Stop::Failed(e)) => messages::post(&FromWorker::Failed { error: e.to_user() }),
                    }
                });
            }
        }
    });
    js::worker_scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    messages::post(&FromWorker::Ready);
}

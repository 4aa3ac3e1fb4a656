//! The pipeline worker: receives a job from the page, runs it, reports progress and the result.
//!
//! Modules, in data-flow order: [`source`] (read the File by slices) -> `reframe_core::demux` ->
//! [`decode`] (WebCodecs VideoDecoder) -> crop (`VideoFrame.visibleRect`) -> [`encode`]
//! (WebCodecs VideoEncoder) -> `reframe_core::mux` -> [`store`] (OPFS file). [`pipeline`] runs
//! the job; [`messages`] talks to the page. In auto mode, [`analyze`] first decodes the video
//! once to find people ([`detect`], on small copies from [`frame_sample`]) and shot changes,
//! and plans the camera path. [`detect_pool`] runs the detectors in detector workers
//! (`detect-worker/`, their own wasm, fetched only then; several side by side on the CPU).

mod analyze;
mod assemble;
mod audio_encode;
mod compose;
mod db;
mod decode;
mod decode_only;
mod detect;
mod detect_pool;
mod encode;
mod feed;
mod frame;
mod frame_sample;
mod jobs;
mod js;
mod lock;
mod messages;
mod pipeline;
mod progress;
mod signal;
mod source;
mod store;
mod transcode;

use reframe_core::protocol::{FromWorker, ToWorker};
use reframe_core::ReframeError;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::MessageEvent;

/// Entry point: wasm-bindgen calls it once when the worker has loaded the module.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    let cancel = Rc::new(Cell::new(false));
    let busy = Rc::new(Cell::new(false));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        let Some(messages::Incoming { message, file, handle }) = messages::parse(&data) else {
            messages::post(&FromWorker::Failed {
                error: ReframeError::Internal("unreadable message from the page".into()).to_user(),
            });
            return;
        };
        match message {
            ToWorker::Cancel => cancel.set(true),
            ToWorker::ListJobs => wasm_bindgen_futures::spawn_local(jobs::post_list()),
            ToWorker::ExportAnalysis { job_id } => wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = jobs::export_analysis(&job_id).await {
                    messages::post(&FromWorker::Notice { message: format!("The analysis could not be exported. {e}") });
                }
            }),
            ToWorker::Open { settings, file_name } => {
                let Some(file) = file.filter(|_| !busy.get()) else { return };
                wasm_bindgen_futures::spawn_local(async move {
                    // Quiet on failure: the job started on this file says what is wrong.
                    let _ = pipeline::open_stored_analysis(file, file_name, settings).await;
                });
            }
            ToWorker::SaveEdits { analysis_id, edits } => wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = jobs::save_edits(&analysis_id, edits).await {
                    messages::post(&FromWorker::Notice { message: format!("Your edits could not be stored. {e}") });
                }
            }),
            ToWorker::DeleteJob { id } => {
                let busy = busy.get();
                wasm_bindgen_futures::spawn_local(async move {
                    let result = if busy { Err(ReframeError::JobBusy) } else { jobs::delete(&id).await };
                    if let Err(e) = result {
                        messages::post(&FromWorker::Notice { message: format!("The job was not deleted. {e}") });
                    }
                    jobs::post_list().await;
                });
            }
            ToWorker::DeleteAll => {
                let busy = busy.get();
                wasm_bindgen_futures::spawn_local(async move {
                    let result = if busy { Err(ReframeError::JobBusy) } else { jobs::delete_all().await };
                    if let Err(e) = result {
                        messages::post(&FromWorker::Notice { message: format!("Stored data was not deleted. {e}") });
                    }
                    jobs::post_list().await;
                });
            }
            ToWorker::Start {
                settings,
                file_name,
                resume,
                keep_finished_bytes,
                import_analysis,
                more_ratios,
                test_aids,
            } => {
                if busy.get() {
                    return;
                }
                let Some(file) = file else {
                    messages::post(&FromWorker::Failed {
                        error: ReframeError::Read("no file was given".into()).to_user(),
                    });
                    return;
                };
                cancel.set(false);
                busy.set(true);
                let (cancel, busy) = (cancel.clone(), busy.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    if let Some(keep) = keep_finished_bytes {
                        if let Err(e) = jobs::evict(keep, "").await {
                            messages::post(&FromWorker::Notice {
                                message: format!("Old videos could not be cleaned up. {e}"),
                            });
                        }
                    }
                    let request = pipeline::JobRequest {
                        file,
                        handle,
                        import_analysis,
                        file_name,
                        settings,
                        test_aids,
                        resume,
                        more_ratios,
                    };
                    let result = pipeline::run(request, cancel.clone()).await;
                    busy.set(false);
                    match result {
                        Ok(summaries) => {
                            let mut each = summaries.into_iter();
                            match each.next() {
                                Some(summary) => messages::post(&FromWorker::Done { summary, more: each.collect() }),
                                None => messages::post(&FromWorker::Failed {
                                    error: ReframeError::Internal("the export made no output".into()).to_user(),
                                }),
                            }
                        }
                        Err(feed::Stop::Cancelled) => messages::post(&FromWorker::Cancelled),
                        Err(feed::Stop::Failed(e)) => messages::post(&FromWorker::Failed { error: e.to_user() }),
                    }
                    jobs::post_list().await;
                });
            }
        }
    });
    js::worker_scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    messages::post(&FromWorker::Ready);
}

//! Progress messages to the page: frames done of a stage, its speed and time left.

use crate::messages;
use reframe_core::protocol::{FromWorker, Progress};
use reframe_core::summary::Stage;

/// Posts progress of a stage: `done` frames of `frames_total`, speed over the `done_now` frames
/// done in this session since `t_start` (milliseconds, `js::now_ms`).
pub fn post_progress(stage: Stage, done: u64, frames_total: u64, t_start: f64, now: f64, done_now: u64) {
    let secs = ((now - t_start) / 1000.0).max(1e-3);
    let fps = done_now as f64 / secs;
    let eta_s = (fps > 0.0).then(|| (frames_total.saturating_sub(done)) as f64 / fps);
    post(Progress { stage, frames_done: done, frames_total, fps, eta_s, detail: None, worker_memory_bytes: None });
}

/// Posts the start of a stage, or where it stands without a speed.
pub fn post_stage(stage: Stage, done: u64, total: u64) {
    post_still(stage, done, total, None);
}

/// Posts a stage with a line for the user (the model download, where the detector runs).
pub fn post_detail(stage: Stage, done: u64, total: u64, detail: String) {
    post_still(stage, done, total, Some(detail));
}

fn post_still(stage: Stage, done: u64, total: u64, detail: Option<String>) {
    post(Progress {
        stage,
        frames_done: done,
        frames_total: total,
        fps: 0.0,
        eta_s: None,
        detail,
        worker_memory_bytes: None,
    });
}

fn post(mut progress: Progress) {
    progress.worker_memory_bytes = Some(wasm_memory_bytes());
    messages::post(&FromWorker::Progress { progress });
}

/// The size of this worker's wasm linear memory.
fn wasm_memory_bytes() -> u64 {
    use wasm_bindgen::JsCast;
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    js_sys::ArrayBuffer::from(memory.buffer()).byte_length() as u64
}

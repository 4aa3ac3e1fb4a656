//! One tab per job: a Web Lock named after the job is held while the job runs, so a second tab
//! (or window) that opens the same job is told so instead of writing the same records.

use crate::js;
use js_sys::{Function, Promise};
use reframe_core::ReframeError;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// A held lock; dropping it releases the lock.
pub struct JobLock {
    release: Function,
}

impl Drop for JobLock {
    fn drop(&mut self) {
        let _ = self.release.call0(&JsValue::UNDEFINED);
    }
}

/// How long a job waits for its lock before saying another tab has it. After a reload, the
/// previous page's worker can still hold the lock for a moment while it is torn down (it may be
/// in the middle of a detector run); a second tab keeps holding it.
const LOCK_WAIT_MS: f64 = 5000.0;
/// Pause between two tries.
const LOCK_RETRY_MS: i32 = 200;

/// Takes the lock `reframe-job-<job_id>` if no other tab holds it, waiting up to
/// [`LOCK_WAIT_MS`] for it (`JobBusy` then). Browsers without Web Locks run without one.
pub async fn lock_job(job_id: &str) -> Result<Option<JobLock>, ReframeError> {
    let navigator = js::worker_scope().navigator();
    if js::get(&navigator, "locks").is_undefined() {
        return Ok(None);
    }
    let give_up = js::now_ms() + LOCK_WAIT_MS;
    loop {
        if let Some(lock) = try_lock(&navigator, job_id).await {
            return Ok(Some(lock));
        }
        if js::now_ms() >= give_up {
            return Err(ReframeError::JobBusy);
        }
        js::sleep(LOCK_RETRY_MS).await;
    }
}

/// One `ifAvailable` request for the job's lock.
async fn try_lock(navigator: &web_sys::WorkerNavigator, job_id: &str) -> Option<JobLock> {
    let mut release = None;
    // Held until `release` is called: the lock lives as long as this promise is pending.
    let held = Promise::new(&mut |resolve, _| release = Some(resolve));
    let mut decide = None;
    let decided = Promise::new(&mut |resolve, _| decide = Some(resolve));
    let (decide, release) = (decide.expect("promise executor ran"), release.expect("promise executor ran"));
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let granted = !lock.is_null() && !lock.is_undefined();
        let _ = decide.call1(&JsValue::UNDEFINED, &JsValue::from(granted));
        if granted {
            held.into()
        } else {
            JsValue::UNDEFINED
        }
    });
    let options = web_sys::LockOptions::new();
    options.set_if_available(true);
    let _request =
        navigator.locks().request_with_options(&format!("reframe-job-{job_id}"), &options, callback.unchecked_ref());
    let granted = JsFuture::from(decided).await.ok().and_then(|v| v.as_bool()).unwrap_or(false);
    granted.then_some(JobLock { release })
}

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

/// Takes the lock `reframe-job-<job_id>` if no other tab holds it (`JobBusy` otherwise). Browsers
/// without Web Locks run without one.
pub async fn lock_job(job_id: &str) -> Result<Option<JobLock>, ReframeError> {
    let navigator = js::worker_scope().navigator();
    if js::get(&navigator, "locks").is_undefined() {
        return Ok(None);
    }
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
    let _request = navigator.locks().request_with_options(&format!("reframe-job-{job_id}"), &options, callback.unchecked_ref());
    let granted = JsFuture::from(decided).await.ok().and_then(|v| v.as_bool()).unwrap_or(false);
    if granted {
        Ok(Some(JobLock { release }))
    } else {
        Err(ReframeError::JobBusy)
    }
}

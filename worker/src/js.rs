//! Small helpers around JavaScript values: the worker scope, errors, promises, clocks.

use js_sys::{Object, Promise, Reflect};
use reframe_core::ReframeError;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::DedicatedWorkerGlobalScope;

pub fn worker_scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Milliseconds since the worker started (monotonic).
pub fn now_ms() -> f64 {
    worker_scope().performance().map(|p| p.now()).unwrap_or_else(js_sys::Date::now)
}

/// The `name` and `message` of a thrown JavaScript value.
pub fn describe(err: &JsValue) -> (String, String) {
    let get = |k: &str| Reflect::get(err, &k.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
    let (name, message) = (get("name"), get("message"));
    if name.is_empty() && message.is_empty() {
        (String::new(), err.as_string().unwrap_or_else(|| format!("{err:?}")))
    } else {
        (name, message)
    }
}

/// Maps a storage exception to a typed error (QuotaExceededError means the disk is full).
pub fn storage_error(err: &JsValue) -> ReframeError {
    let (name, message) = describe(err);
    if name == "QuotaExceededError" {
        ReframeError::StorageFull
    } else {
        ReframeError::Storage(format!("{name} {message}").trim().to_string())
    }
}

/// Awaits a promise, turning a rejection into `on_err(error)`.
pub async fn wait<T>(p: Promise<T>, on_err: impl FnOnce(&JsValue) -> ReframeError) -> Result<JsValue, ReframeError> {
    let p: Promise = p.unchecked_into();
    JsFuture::from(p).await.map_err(|e| on_err(&e))
}

/// Awaits a promise whose rejection only means "not available" (best-effort cache calls): its
/// value, or None.
pub async fn settled<T>(p: Promise<T>) -> Option<JsValue> {
    let p: Promise = p.unchecked_into();
    JsFuture::from(p).await.ok()
}

/// Sets a property on a plain object.
pub fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &key.into(), &value.into());
}

/// Reads a property.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// A promise resolved after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        let _ = worker_scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(p).await;
}

//! Messages to and from the page (types in `reframe_core::protocol`).
//!
//! The page posts `[ToWorker, File?]`; the worker posts `FromWorker` values.

use crate::js::worker_scope;
use reframe_core::protocol::{FromWorker, ToWorker};
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::File;

/// An incoming message: the typed part, the `File` and its `FileSystemFileHandle` when given.
pub struct Incoming {
    pub message: ToWorker,
    pub file: Option<File>,
    pub handle: Option<JsValue>,
}

/// Splits an incoming `[message, File?, handle?]`.
pub fn parse(data: &JsValue) -> Option<Incoming> {
    let array: &js_sys::Array = data.dyn_ref()?;
    let message: ToWorker = serde_wasm_bindgen::from_value(array.get(0)).ok()?;
    let file = array.get(1).dyn_into::<File>().ok();
    let handle = Some(array.get(2)).filter(|h| h.is_object());
    Some(Incoming { message, file, handle })
}

pub fn post(message: &FromWorker) {
    post_value(message, None);
}

/// A message as a plain JavaScript value: maps become plain objects, so the receiver (and test
/// tools reading it) see ordinary JSON.
pub fn to_js(message: &impl Serialize) -> Result<JsValue, serde_wasm_bindgen::Error> {
    message.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
}

/// Posts `message` with an extra property `extra = (name, value)` that serde cannot carry (e.g.
/// file handles, which are structured-cloned).
pub fn post_with(message: &FromWorker, extra: Option<(&str, JsValue)>) {
    post_value(message, extra);
}

fn post_value(message: &impl Serialize, extra: Option<(&str, JsValue)>) {
    match to_js(message) {
        Ok(value) => {
            if let Some((name, v)) = extra {
                let _ = js_sys::Reflect::set(&value, &name.into(), &v);
            }
            let _ = worker_scope().post_message(&value);
        }
        Err(e) => web_sys::console::error_1(&format!("could not serialise a message: {e}").into()),
    }
}

//! Messages to and from the page (types in `reframe_core::protocol`).
//!
//! The page posts `[ToWorker, File?]`; the worker posts `FromWorker` values.

use crate::js::worker_scope;
use reframe_core::protocol::{FromWorker, ToWorker};
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::File;

/// Splits an incoming message into the typed part and the optional `File`.
pub fn parse(data: &JsValue) -> Option<(ToWorker, Option<File>)> {
    let array: &js_sys::Array = data.dyn_ref()?;
    let message: ToWorker = serde_wasm_bindgen::from_value(array.get(0)).ok()?;
    let file = array.get(1).dyn_into::<File>().ok();
    Some((message, file))
}

pub fn post(message: &FromWorker) {
    // Maps become plain objects so the page (and test tools reading them) see ordinary JSON.
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    match message.serialize(&serializer) {
        Ok(value) => {
            let _ = worker_scope().post_message(&value);
        }
        Err(e) => web_sys_log(&format!("could not serialise a message: {e}")),
    }
}

fn web_sys_log(text: &str) {
    let console = js_sys::Reflect::get(&js_sys::global(), &"console".into()).unwrap_or(JsValue::UNDEFINED);
    if let Ok(f) = js_sys::Reflect::get(&console, &"error".into()) {
        if let Some(f) = f.dyn_ref::<js_sys::Function>() {
            let _ = f.call1(&console, &text.into());
        }
    }
}

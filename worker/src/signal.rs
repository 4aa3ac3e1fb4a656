//! Lets the reading loop sleep until a codec callback (a frame out, a queue drained) wakes it.

use crate::js;
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Clone, Default)]
pub struct Signal(Rc<RefCell<Option<js_sys::Function>>>);

impl Signal {
    /// Wakes the waiting loop, if any.
    pub fn wake(&self) {
        let resolve = self.0.borrow_mut().take();
        if let Some(f) = resolve {
            let _ = f.call0(&wasm_bindgen::JsValue::UNDEFINED);
        }
    }

    /// Waits for `wake`, or `max_ms` at most (a safety net against a missed wake-up).
    pub async fn wait(&self, max_ms: i32) {
        let slot = self.0.clone();
        let p = js_sys::Promise::new(&mut |resolve, _| {
            let _ = js::worker_scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, max_ms);
            *slot.borrow_mut() = Some(resolve);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(p).await;
    }
}

//! The detector worker: the person and face detectors (burn, `reframe-detect`) in their own Web
//! Worker and their own wasm. The pipeline worker starts it (`worker/src/detect_pool.rs`) only
//! when a job needs people found, so the page and a fixed-crop job never download or compile
//! burn. On the CPU it starts several, each detecting one batch of frames at a time.
//!
//! [`device`] picks where the models run (WebGPU on a hardware adapter, else burn's CPU
//! backend); [`serve`] answers the pipeline worker's `Load` and `Detect` requests
//! (`reframe_core::protocol::ToDetector`).

mod device;
mod serve;

use wasm_bindgen::prelude::*;

extern "C" {
    /// The module's static constructors (cubecl registers its kernels' IR types through them).
    fn __wasm_call_ctors();
}

/// Entry point: wasm-bindgen calls it once when the worker has loaded the module.
#[wasm_bindgen(start)]
pub fn start() {
    // Run the constructors once, here. Referencing `__wasm_call_ctors` also tells the linker not
    // to wrap every export in a call to them (its default for modules that never call them),
    // which made each JS -> wasm call (promise wake-ups) re-run them all.
    unsafe { __wasm_call_ctors() };
    console_error_panic_hook::set_once();
    serve::serve();
}

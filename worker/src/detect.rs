//! The person and face detectors, seen from the pipeline worker: the weights fetched once and
//! kept in the Cache API, then handed to the detector workers (`detect_pool`, running
//! `detect-worker/`, their own wasm, fetched only now), which run the models on WebGPU when the
//! browser has a hardware adapter, else on burn's CPU backend, several side by side.

use crate::detect_pool::{DetectorPool, Found};
use crate::frame_sample::DetectorInput;
use crate::js;
use reframe_core::models::{WeightsFile, FACE_WEIGHTS};
use reframe_core::protocol::{DetectorDevice, DetectorInputShape, ToDetector};
use reframe_core::settings::DetectorModel;
use reframe_core::test_aids::{DetectorBackend, TestAids};
use reframe_core::units::{PixelSize, Rotation};
use reframe_core::ReframeError;
use std::cell::Cell;
use wasm_bindgen::JsCast;

pub const CACHE_NAME: &str = "reframe-models-v1";

pub struct PersonDetector {
    pool: DetectorPool,
    /// Where it runs, for the user and the report: "webgpu (…adapter…)" or "cpu (…why…)", and
    /// in how many workers when more than one.
    pub backend: String,
    /// Whether sampled frames go to the detector's device as their planes, to be scaled there.
    pub preprocess_on_device: bool,
    /// Where sampled frames are scaled, for the user and the report: "gpu (…)" or "cpu (…why…)".
    pub preprocess: String,
    /// Frames that were scaled on the device (the others, if any, on the CPU).
    pub scaled_on_device: Cell<u64>,
    input_size: PixelSize,
    face_input: PixelSize,
    device_batch: u32,
}

impl PersonDetector {
    /// The detector's input size (frames are scaled to it before detection).
    pub fn input_size(&self) -> PixelSize {
        self.input_size
    }

    /// The face detector's upright input size for this job's frames.
    pub fn face_input_size(&self) -> PixelSize {
        self.face_input
    }

    /// The most frames that go to the device as planes in one run.
    pub fn device_batch(&self) -> u32 {
        self.device_batch
    }

    /// How many detector runs may be in flight at once (one per detector worker).
    pub fn parallel_runs(&self) -> usize {
        self.pool.size()
    }

    /// Detector workers replaced because they crashed or hung (their requests ran again).
    pub fn restarts(&self) -> u32 {
        self.pool.restarts()
    }

    /// People and faces on sampled frames (one run in one detector worker), in pixels of the
    /// display sized frame: `inputs` for the person detector, `face_images` (upright RGBA at
    /// [`face_input_size`](Self::face_input_size)) for the face detector, one each per frame.
    pub async fn detect(&self, inputs: &[DetectorInput], face_images: &[Vec<u8>]) -> Result<Found, ReframeError> {
        let shapes: Vec<DetectorInputShape> = inputs.iter().map(DetectorInput::shape).collect();
        let parts: Vec<&[u8]> =
            inputs.iter().map(DetectorInput::bytes).chain(face_images.iter().map(Vec::as_slice)).collect();
        let found = self.pool.detect(&shapes, &parts).await?;
        self.scaled_on_device.set(self.scaled_on_device.get() + found.scaled_on_device as u64);
        Ok(found)
    }
}

/// The job's frames, as the detectors need to know them.
#[derive(Clone, Copy)]
pub struct FrameGeometry {
    pub coded: PixelSize,
    pub display: PixelSize,
    pub rotation: Rotation,
}

/// Loads `choice`'s weights and the face detector's (network on first use, then the Cache API)
/// and starts the detector workers: one first, which picks the device; on the CPU, as many more
/// as the machine has cores for (`TestAids::detector_workers`).
pub async fn load(
    choice: DetectorModel,
    aids: &TestAids,
    frames: FrameGeometry,
    on_progress: impl Fn(u64, Option<u64>),
) -> Result<PersonDetector, ReframeError> {
    let mut weights = fetch_cached(choice.weights(), on_progress).await?;
    let person_bytes = weights.len() as u32;
    weights.extend_from_slice(&fetch_cached(FACE_WEIGHTS, |_, _| {}).await?);
    let load = |backend| ToDetector::Load {
        model: choice,
        person_bytes,
        backend,
        preprocess: aids.preprocess,
        coded: frames.coded,
        display: frames.display,
        rotation: frames.rotation,
    };
    let navigator = js::worker_scope().navigator();
    let cpu_workers = aids
        .detector_workers(navigator.hardware_concurrency() as u32, js::get(&navigator, "deviceMemory").as_f64())
        as usize;
    // Without WebGPU the detectors run on the CPU: start every worker at once. Else the first
    // finds out where they run, and more start only if that is the CPU.
    let gpu = js::get(&navigator, "gpu");
    let surely_cpu = aids.detector == DetectorBackend::Cpu || gpu.is_undefined() || gpu.is_null();
    // The first worker is asked for what the settings want, so its backend text says why it
    // runs where it does ("this browser has no WebGPU"); the others for the CPU.
    let more = if surely_cpu { cpu_workers.saturating_sub(1) } else { 0 };
    let first: Vec<ToDetector> =
        std::iter::once(load(aids.detector)).chain(std::iter::repeat_n(load(DetectorBackend::Cpu), more)).collect();
    let (mut pool, info, mut left_out) = DetectorPool::start(first, weights, aids.crash_detector_worker_at)
        .await
        .map_err(|e| ReframeError::Detection(format!("the detector could not start: {e}")))?;
    if !surely_cpu && info.device == DetectorDevice::Cpu && !info.planes_on_device && cpu_workers > 1 {
        left_out = pool.grow(vec![load(DetectorBackend::Cpu); cpu_workers - 1]).await;
    }
    let mut backend = info.backend;
    let workers = pool.size();
    if workers > 1 {
        backend += &format!(", in {workers} workers");
    }
    if let Some(why) = left_out {
        backend += &format!(" ({} of {cpu_workers} could start: {why})", workers);
    }
    Ok(PersonDetector {
        pool,
        backend,
        preprocess_on_device: info.planes_on_device,
        preprocess: info.preprocess,
        scaled_on_device: Cell::new(0),
        input_size: info.input_size,
        face_input: info.face_input,
        device_batch: info.device_batch,
    })
}

/// The weights `file` (`path`, with the checksum `sha256` in hex): from the Cache API when stored there,
/// else fetched (with progress) and stored for next time. The checksum is part of the URL (which
/// keys the cache and the browser's HTTP cache), so another version's weights are never taken for
/// these, and the bytes are checked against it: damaged cached bytes are fetched again; wrong bytes
/// from the server are an error. Stored weights of other versions are deleted.
async fn fetch_cached(file: WeightsFile, on_progress: impl Fn(u64, Option<u64>)) -> Result<Vec<u8>, ReframeError> {
    let (path, sha256) = (file.path(), file.sha256);
    let scope = js::worker_scope();
    let fail = ReframeError::DetectorWeights;
    let url = format!("{path}?sha256={sha256}");
    let cache: Option<web_sys::Cache> = match scope.caches() {
        Ok(caches) => js::settled(caches.open(CACHE_NAME)).await.map(|c| c.unchecked_into()),
        Err(_) => None,
    };
    if let Some(cache) = &cache {
        if let Some(hit) = js::settled(cache.match_with_str(&url)).await {
            if let Ok(response) = hit.dyn_into::<web_sys::Response>() {
                let buf = js::wait(
                    response.array_buffer().map_err(|_| fail("the stored copy could not be read".into()))?,
                    |e| fail(js::describe(e).1),
                )
                .await?;
                let bytes = js_sys::Uint8Array::new(&buf).to_vec();
                match sha256_hex(&bytes).await {
                    Some(got) if got != sha256 => {
                        // Damaged in storage: drop it and fetch again.
                        js::settled(cache.delete_with_str(&url)).await;
                    }
                    _ => return Ok(bytes),
                }
            }
        }
    }
    // A fetch that fails outright: no network (the common case once the page runs from its
    // service worker, offline, and auto mode was never used here).
    let unreachable = |_: &wasm_bindgen::JsValue| {
        fail(
            "this browser has not downloaded it yet, and the network cannot be reached. Connect once and \
             start again: after that, Follow people works offline too"
                .into(),
        )
    };
    let response: web_sys::Response = js::wait(scope.fetch_with_str(&url), unreachable).await?.unchecked_into();
    if !response.ok() {
        return Err(fail(format!("the server answered HTTP {}", response.status())));
    }
    let total = response.headers().get("content-length").ok().flatten().and_then(|v| v.parse::<u64>().ok());
    let to_store = response.clone().map_err(|_| fail("the response could not be copied".into()))?;
    // Read the body in pieces to report progress.
    let body = response.body().ok_or_else(|| fail("the server sent an empty response".into()))?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::with_capacity(total.unwrap_or(0) as usize);
    loop {
        let step = js::wait(reader.read(), |e| fail(js::describe(e).1)).await?;
        if js::get(&step, "done").as_bool().unwrap_or(true) {
            break;
        }
        let chunk = js_sys::Uint8Array::new(&js::get(&step, "value"));
        // Copy straight from the JS chunk into the end of the buffer.
        let start = bytes.len();
        bytes.resize(start + chunk.length() as usize, 0);
        chunk.copy_to(&mut bytes[start..]);
        on_progress(bytes.len() as u64, total);
    }
    if let Some(got) = sha256_hex(&bytes).await {
        if got != sha256 {
            return Err(fail(format!(
                "the server sent other weights than this version of Reframe was built with (sha256 {got}, expected \
                 {sha256}); reload the page, and if this stays, the site was updated only in part"
            )));
        }
    }
    if let Some(cache) = &cache {
        if js::settled(cache.put_with_str(&url, &to_store)).await.is_some() {
            delete_other_versions(cache, path, &url).await;
        }
    }
    Ok(bytes)
}

/// sha256 of `bytes` as lowercase hex (WebCrypto), or None where the browser offers no
/// `crypto.subtle` (outside a secure context).
async fn sha256_hex(bytes: &[u8]) -> Option<String> {
    let subtle = js::worker_scope().crypto().ok()?.subtle();
    let digest = js::settled(subtle.digest_with_str_and_u8_array("SHA-256", bytes).ok()?).await?;
    Some(js_sys::Uint8Array::new(&digest).to_vec().iter().map(|b| format!("{b:02x}")).collect())
}

/// Deletes the cached weights stored for `path` under another URL than `keep` (other versions,
/// or the unversioned URL of earlier releases), so updates do not pile up in the user's storage.
async fn delete_other_versions(cache: &web_sys::Cache, path: &str, keep: &str) {
    let Some(keys) = js::settled(cache.keys()).await else { return };
    for request in js_sys::Array::from(&keys).iter() {
        let Some(stored) = js::get(&request, "url").as_string() else { continue };
        let stored_path = stored.split('?').next().unwrap_or_default();
        if stored_path.ends_with(&format!("/{path}")) && !stored.ends_with(&format!("/{keep}")) {
            js::settled(cache.delete_with_str(&stored)).await;
        }
    }
}

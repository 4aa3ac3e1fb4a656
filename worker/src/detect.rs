//! The person and face detectors in the worker: weights fetched once and kept in the Cache API,
//! the person model run by burn on WebGPU when the browser has an adapter, else on burn's CPU
//! backend (in helper workers when the machine has the cores). The face model (BlazeFace, 0.5 MB)
//! runs in this worker, on the person detector's device when that is here, else on the CPU, on a
//! small upright copy of each analysed frame (`face::frame_size_for` of the display size).

use crate::detect_pool::DetectorPool;
use crate::frame_sample::{DetectorInput, FrameCopy};
use crate::js;
use reframe_core::settings::DetectorModel;
use reframe_core::test_aids::{DetectorBackend, Preprocess, TestAids};
use reframe_core::track::{Face, PersonBox};
use reframe_core::units::{PixelSize, Rotation};
use reframe_core::ReframeError;
use reframe_detect::face::{self, FaceDetector, FACE_WEIGHTS_SHA256, FACE_WEIGHTS_URL};
use reframe_detect::{cpu_device, planes, AnyDetector, DetectParams, Detection, Device, FramePlanes, Model, RgbaFrame};
use std::borrow::Cow;
use std::cell::Cell;
use wasm_bindgen::JsCast;

pub const CACHE_NAME: &str = "reframe-models-v1";

/// What runs the model.
enum Engine {
    /// Here, in the pipeline worker (on the GPU, or on the CPU without helpers).
    Here(Box<AnyDetector>),
    /// On the CPU in helper workers, several batches at once.
    Helpers(DetectorPool),
}

pub struct PersonDetector {
    engine: Engine,
    model: Model,
    /// Where it runs, for the user and the report: "webgpu (…adapter…)" or "cpu (…why…)".
    pub backend: String,
    /// Whether sampled frames go to the detector's device as their planes, to be scaled there.
    pub preprocess_on_device: bool,
    /// Where sampled frames are scaled, for the user and the report: "gpu (…)" or "cpu (…why…)".
    pub preprocess: String,
    /// Frames that were scaled on the device (the others, if any, on the CPU).
    pub scaled_on_device: Cell<u64>,
    params: DetectParams,
    faces: FaceDetector,
}

impl PersonDetector {
    /// The detector's input size (frames are scaled to it before detection).
    pub fn input_size(&self) -> PixelSize {
        let side = self.model.input_size() as u32;
        PixelSize::new(side, side)
    }

    /// How many detector runs may be in flight at once (one per helper worker).
    pub fn parallel_runs(&self) -> usize {
        self.helper_workers().max(1) as usize
    }

    /// Helper workers replaced because they crashed or hung (their requests ran again).
    pub fn helper_restarts(&self) -> u32 {
        match &self.engine {
            Engine::Here(_) => 0,
            Engine::Helpers(pool) => pool.restarts(),
        }
    }

    /// Helper workers running the detector (0: it runs in this worker).
    pub fn helper_workers(&self) -> u32 {
        match &self.engine {
            Engine::Here(_) => 0,
            Engine::Helpers(pool) => pool.size() as u32,
        }
    }

    /// Faces in sampled frames given as upright RGBA at `face::frame_size_for(display)`, in pixels of a
    /// `display` sized frame (boxes and the height of the eyes); one list per frame.
    pub async fn faces(&self, images: &[&[u8]], display: PixelSize) -> Result<Vec<Vec<Face>>, ReframeError> {
        let size = face::frame_size_for(display);
        let frames: Vec<RgbaFrame> = images.iter().map(|rgba| RgbaFrame::new(rgba, size.width, size.height)).collect();
        let found = self
            .faces
            .detect_batch_async(&frames, &face::DEFAULT_PARAMS)
            .await
            .map_err(|e| ReframeError::Detection(e.to_string()))?;
        let (sx, sy) = (display.width as f32 / size.width as f32, display.height as f32 / size.height as f32);
        Ok(found.iter().map(|faces| faces.iter().map(|f| f.to_track_face(sx, sy)).collect()).collect())
    }

    /// People in sampled frames (one detector run for all of them), in pixels of a `display`
    /// sized frame; one list per frame. Frames given as planes are scaled on the detector's
    /// device when they can travel as one batch, else on the CPU first.
    pub async fn detect_batch(
        &self,
        inputs: &[DetectorInput],
        rotation: Rotation,
        display: PixelSize,
    ) -> Result<Vec<Vec<PersonBox>>, ReframeError> {
        let fail = |e: reframe_detect::DetectError| ReframeError::Detection(e.to_string());
        let copies: Vec<&FrameCopy> = inputs
            .iter()
            .filter_map(|i| match i {
                DetectorInput::Planes(c) => Some(c),
                DetectorInput::Rgba(_) => None,
            })
            .collect();
        let here = match &self.engine {
            Engine::Here(detector) => Some(detector),
            Engine::Helpers(_) => None,
        };
        if let Some(detector) = here.filter(|_| copies.len() == inputs.len()) {
            let frames = copies.iter().map(|c| c.planes()).collect::<Result<Vec<FramePlanes>, _>>()?;
            let device_bytes: u64 = frames.iter().map(|f| planes::unpacked_bytes(f.data.len() as u64)).sum();
            if let Some(first) = frames
                .first()
                .filter(|first| frames.iter().all(|f| f.same_shape(first)) && device_bytes <= planes::BATCH_BYTES)
            {
                let upright = first.size.rotated(rotation);
                let found = detector.detect_planes_batch_async(&frames, rotation, &self.params).await.map_err(fail)?;
                self.scaled_on_device.set(self.scaled_on_device.get() + frames.len() as u64);
                return Ok(to_display(found, upright, display));
            }
        }
        // Mixed inputs (the decoder changed format mid-stream) or frames larger than expected (RGBA
        // from the decoder): RGBA for all, scaled on the CPU.
        let size = self.input_size();
        let images = inputs
            .iter()
            .map(|i| match i {
                DetectorInput::Rgba(rgba) => Ok(Cow::Borrowed(rgba.as_slice())),
                DetectorInput::Planes(c) => Ok(Cow::Owned(c.upright_rgba(rotation, size)?)),
            })
            .collect::<Result<Vec<Cow<[u8]>>, ReframeError>>()?;
        let found = match &self.engine {
            Engine::Here(detector) => {
                let frames: Vec<RgbaFrame> =
                    images.iter().map(|rgba| RgbaFrame::new(rgba, size.width, size.height)).collect();
                detector.detect_batch_async(&frames, &self.params).await.map_err(fail)?
            }
            Engine::Helpers(pool) => {
                let images: Vec<&[u8]> = images.iter().map(|rgba| rgba.as_ref()).collect();
                pool.detect(&images, size.width, size.height).await?
            }
        };
        Ok(to_display(found, size, display))
    }
}

/// Boxes in pixels of a `from` sized image -> pixels of the `display` sized frame.
fn to_display(found: Vec<Vec<Detection>>, from: PixelSize, display: PixelSize) -> Vec<Vec<PersonBox>> {
    let sx = display.width as f32 / from.width as f32;
    let sy = display.height as f32 / from.height as f32;
    found
        .iter()
        .map(|boxes| {
            boxes.iter().map(|d| PersonBox::new(d.x * sx, d.y * sy, d.width * sx, d.height * sy, d.score)).collect()
        })
        .collect()
}

/// Loads `model`'s weights (network on first use, then the Cache API) and picks the backend
/// and where sampled frames are scaled.
pub async fn load(
    choice: DetectorModel,
    aids: &TestAids,
    coded: PixelSize,
    on_progress: impl Fn(u64, Option<u64>),
) -> Result<PersonDetector, ReframeError> {
    let (wanted, preprocess) = (aids.detector, aids.preprocess);
    let model = Model::from(choice);
    // Relative to the worker script, so the site works from any host and sub-path.
    let weights = fetch_cached(model.weights_path(), model.weights_sha256(), on_progress).await?;
    let (device, mut backend, runs) = choose_device(wanted).await;
    let on_gpu = runs == Runs::HardwareGpu;
    // On the CPU, helper workers run the model side by side (frames reach them as RGBA, so not
    // when the settings ask for scaling on the detector's device).
    let helpers = if runs != Runs::Cpu || preprocess == Preprocess::Gpu {
        0
    } else {
        let navigator = js::worker_scope().navigator();
        aids.helper_workers(navigator.hardware_concurrency() as u32, js::get(&navigator, "deviceMemory").as_f64())
    };
    let here = |weights| -> Result<Engine, ReframeError> {
        let detector = AnyDetector::from_bytes(model, weights, &device)
            .map_err(|e| ReframeError::Detection(format!("the person detector could not be loaded: {e}")))?;
        Ok(Engine::Here(Box::new(detector)))
    };
    // The face detector: small, in this worker, on the person detector's device when that runs here.
    let face_weights = fetch_cached(FACE_WEIGHTS_URL.trim_start_matches('/'), FACE_WEIGHTS_SHA256, |_, _| {}).await?;
    let face_device = if helpers > 0 { cpu_device() } else { device.clone() };
    let faces = FaceDetector::from_bytes(face_weights, &face_device)
        .map_err(|e| ReframeError::Detection(format!("the face detector could not be loaded: {e}")))?;
    let engine = if helpers > 0 {
        match DetectorPool::start(helpers as usize, choice, weights, aids.crash_detector_worker_at).await {
            Ok(pool) => {
                backend += &format!(", in {helpers} worker{}", if helpers == 1 { "" } else { "s" });
                Engine::Helpers(pool)
            }
            Err((e, weights)) => {
                backend += &format!(", in the pipeline worker (helper workers could not start: {e})");
                here(weights)?
            }
        }
    } else {
        here(weights)?
    };
    let (preprocess_on_device, preprocess) = match (preprocess, on_gpu) {
        (Preprocess::Cpu, _) => (false, "cpu (chosen in the page's settings)".to_string()),
        (_, _) if planes::max_batch(coded.width, coded.height) == 0 => {
            (false, format!("cpu ({}x{} frames are too large for the GPU in one piece)", coded.width, coded.height))
        }
        (Preprocess::Gpu, _) => (true, "the detector's device (chosen in the page's settings)".into()),
        (Preprocess::Auto, true) => (true, "gpu (from the decoded planes, with the detector)".into()),
        (Preprocess::Auto, false) => (false, "cpu (the detector is not on a hardware GPU)".into()),
    };
    Ok(PersonDetector {
        engine,
        model,
        backend,
        preprocess_on_device,
        preprocess,
        scaled_on_device: Cell::new(0),
        params: model.analysis_params(),
        faces,
    })
}

/// Where the detector's device computes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Runs {
    Cpu,
    /// A WebGPU adapter that emulates a GPU on the CPU (SwiftShader), asked for explicitly.
    SoftwareGpu,
    HardwareGpu,
}

/// WebGPU on a hardware adapter; the CPU backend otherwise, saying why.
async fn choose_device(wanted: DetectorBackend) -> (Device, String, Runs) {
    if wanted == DetectorBackend::Cpu {
        return (cpu_device(), "cpu (chosen in the page's settings)".into(), Runs::Cpu);
    }
    let gpu = js::get(&js::worker_scope().navigator(), "gpu");
    if gpu.is_undefined() || gpu.is_null() {
        return (cpu_device(), "cpu (this browser has no WebGPU)".into(), Runs::Cpu);
    }
    match Device::wgpu_options().init_with_setup_async().await {
        Ok((device, setup)) => {
            let info = setup.adapter.get_info();
            let name =
                [info.name.clone(), info.driver.clone(), info.driver_info.clone(), format!("{:?}", info.device_type)]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ");
            let software = info.device_type == reframe_detect::wgpu::DeviceType::Cpu;
            if software && wanted == DetectorBackend::Auto {
                // SwiftShader and the like emulate the GPU on the CPU, slower than burn's own CPU backend.
                (cpu_device(), format!("cpu (the WebGPU adapter is a software renderer: {name})"), Runs::Cpu)
            } else {
                (device, format!("webgpu ({name})"), if software { Runs::SoftwareGpu } else { Runs::HardwareGpu })
            }
        }
        Err(e) => (cpu_device(), format!("cpu (WebGPU could not start: {e})"), Runs::Cpu),
    }
}

/// The weights at `path` with the checksum `sha256` (hex): from the Cache API when stored there,
/// else fetched (with progress) and stored for next time. The checksum is part of the URL (which
/// keys the cache and the browser's HTTP cache), so another version's weights are never taken for
/// these, and the bytes are checked against it: damaged cached bytes are fetched again; wrong bytes
/// from the server are an error. Stored weights of other versions are deleted.
async fn fetch_cached(
    path: &str,
    sha256: &str,
    on_progress: impl Fn(u64, Option<u64>),
) -> Result<Vec<u8>, ReframeError> {
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
    let response: web_sys::Response =
        js::wait(scope.fetch_with_str(&url), |e| fail(js::describe(e).1)).await?.unchecked_into();
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

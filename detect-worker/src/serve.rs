//! Answers the pipeline worker's requests (`ToDetector`), one at a time: `Load` builds the
//! person and face detectors on the chosen device; each `Detect` runs both on a batch of sampled
//! frames and answers in the job's display pixels.

use crate::device;
use reframe_core::protocol::{DetectorDevice, DetectorInfo, DetectorInputShape, FromDetector, ToDetector};
use reframe_core::settings::DetectorModel;
use reframe_core::test_aids::{DetectorBackend, Preprocess};
use reframe_core::track::{Face, PersonBox};
use reframe_core::units::{PixelSize, Rotation};
use reframe_detect::face::{self, FaceDetector};
use reframe_detect::{planes, AnyDetector, DetectParams, Detection, FramePlanes, Model, RgbaFrame};
use serde::Serialize;
use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

/// Serves the pipeline worker's requests until it terminates this worker.
pub fn serve() {
    let loaded: Rc<RefCell<Option<Rc<Detectors>>>> = Rc::default();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let loaded = loaded.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let reply = handle(&event.data(), &loaded).await.unwrap_or_else(|message| FromDetector::Failed { message });
            post(&reply);
        });
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    // Messages that came before the handler was set were dropped: the pool waits for this.
    post(&FromDetector::Ready);
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Posts a reply as a plain JavaScript value (maps as plain objects).
fn post(reply: &FromDetector) {
    match reply.serialize(&serde_wasm_bindgen::Serializer::json_compatible()) {
        Ok(value) => {
            let _ = scope().post_message(&value);
        }
        Err(e) => web_sys::console::error_1(&format!("could not serialise a reply: {e}").into()),
    }
}

async fn handle(data: &JsValue, loaded: &RefCell<Option<Rc<Detectors>>>) -> Result<FromDetector, String> {
    let array: &js_sys::Array = data.dyn_ref().ok_or("unreadable request: the message is not an array")?;
    let message: ToDetector =
        serde_wasm_bindgen::from_value(array.get(0)).map_err(|e| format!("unreadable request: {e}"))?;
    let bytes = js_sys::Uint8Array::new(&array.get(1)).to_vec();
    match message {
        ToDetector::Load { model, person_bytes, backend, preprocess, coded, display, rotation } => {
            let job = Job { coded, display, rotation };
            let (detectors, reply) =
                Detectors::load(model, bytes, person_bytes as usize, backend, preprocess, job).await?;
            *loaded.borrow_mut() = Some(Rc::new(detectors));
            Ok(reply)
        }
        ToDetector::Detect { crash: true, .. } => {
            panic!("crashed on purpose (test setting crash_detector_worker_at)")
        }
        ToDetector::Detect { inputs, crash: false } => {
            let detectors = loaded.borrow().clone().ok_or("no detector was loaded")?;
            detectors.detect(&inputs, &bytes).await
        }
    }
}

/// The job's frames, as the pipeline worker describes them in `Load`.
#[derive(Clone, Copy)]
struct Job {
    coded: PixelSize,
    display: PixelSize,
    rotation: Rotation,
}

/// The detectors built by `Load`, and what they need to know of the job's frames.
struct Detectors {
    person: AnyDetector,
    faces: FaceDetector,
    params: DetectParams,
    /// Frames given as planes are scaled on the device (when a batch fits it).
    planes_on_device: bool,
    input: PixelSize,
    face_input: PixelSize,
    job: Job,
}

impl Detectors {
    /// Builds both detectors from `weights` (the person model's `person_bytes`, then the face
    /// model's) on the device `backend` asks for, and says where frames are best scaled.
    async fn load(
        model: DetectorModel,
        mut weights: Vec<u8>,
        person_bytes: usize,
        backend: DetectorBackend,
        preprocess: Preprocess,
        job: Job,
    ) -> Result<(Detectors, FromDetector), String> {
        if person_bytes > weights.len() {
            return Err(format!("{person_bytes} bytes of person weights asked for in {}", weights.len()));
        }
        let face_weights = weights.split_off(person_bytes);
        let (device, backend, kind) = device::choose(backend).await;
        let model = Model::from(model);
        let person = AnyDetector::from_bytes(model, weights, &device)
            .map_err(|e| format!("the person detector could not be loaded: {e}"))?;
        let faces = FaceDetector::from_bytes(face_weights, &device)
            .map_err(|e| format!("the face detector could not be loaded: {e}"))?;
        let device_batch = planes::max_batch(job.coded.width, job.coded.height);
        let (planes_on_device, preprocess) = match (preprocess, kind == DetectorDevice::HardwareGpu) {
            (Preprocess::Cpu, _) => (false, "cpu (chosen in the page's settings)".to_string()),
            (_, _) if device_batch == 0 => (
                false,
                format!("cpu ({}x{} frames are too large for the GPU in one piece)", job.coded.width, job.coded.height),
            ),
            (Preprocess::Gpu, _) => (true, "the detector's device (chosen in the page's settings)".into()),
            (Preprocess::Auto, true) => (true, "gpu (from the decoded planes, with the detector)".into()),
            (Preprocess::Auto, false) => (false, "cpu (the detector is not on a hardware GPU)".into()),
        };
        let side = model.input_size() as u32;
        let detectors = Detectors {
            person,
            faces,
            params: model.analysis_params(),
            planes_on_device,
            input: PixelSize::new(side, side),
            face_input: face::frame_size_for(job.display),
            job,
        };
        let reply = FromDetector::Loaded(DetectorInfo {
            backend,
            device: kind,
            planes_on_device,
            preprocess,
            input_size: detectors.input,
            face_input: detectors.face_input,
            device_batch,
        });
        Ok((detectors, reply))
    }

    /// People and faces on the frames of one request (`bytes` as `ToDetector::Detect` lays it out).
    async fn detect(&self, shapes: &[DetectorInputShape], bytes: &[u8]) -> Result<FromDetector, String> {
        let rgba_bytes = (self.input.width * self.input.height * 4) as usize;
        let face_bytes = (self.face_input.width * self.face_input.height * 4) as usize;
        let mut rest = bytes;
        let mut take = |n: usize| -> Result<&[u8], String> {
            if n > rest.len() {
                return Err(format!("the request holds {} bytes, fewer than its frames need", bytes.len()));
            }
            let (head, tail) = rest.split_at(n);
            rest = tail;
            Ok(head)
        };
        let mut inputs = Vec::with_capacity(shapes.len());
        for shape in shapes {
            inputs.push(match shape {
                DetectorInputShape::Rgba => Input::Rgba(take(rgba_bytes)?),
                DetectorInputShape::Planes { layout, size, planes, color, bytes } => Input::Planes(
                    FramePlanes::new(*layout, *size, take(*bytes as usize)?, planes.clone(), *color)
                        .map_err(|e| format!("frame planes: {e}"))?,
                ),
            });
        }
        let face_images = shapes.iter().map(|_| take(face_bytes)).collect::<Result<Vec<&[u8]>, String>>()?;
        if !rest.is_empty() {
            return Err(format!("the request holds {} bytes more than its frames", rest.len()));
        }
        let (people, scaled_on_device) = self.people(&inputs).await?;
        let faces = self.faces(&face_images).await?;
        Ok(FromDetector::Found { people, faces, scaled_on_device })
    }

    /// People on each frame: frames given as planes are scaled on the device when they travel
    /// as one batch, else (mixed inputs: the decoder changed format mid-stream, or frames larger
    /// than expected) every frame goes as RGBA scaled on the CPU. Also says how many were scaled
    /// on the device.
    async fn people(&self, inputs: &[Input<'_>]) -> Result<(Vec<Vec<PersonBox>>, u32), String> {
        let fail = |e: reframe_detect::DetectError| format!("person detection: {e}");
        let rotation = self.job.rotation;
        let frames: Vec<&FramePlanes> = inputs
            .iter()
            .filter_map(|i| match i {
                Input::Planes(p) => Some(p),
                Input::Rgba(_) => None,
            })
            .collect();
        if self.planes_on_device && frames.len() == inputs.len() {
            let device_bytes: u64 = frames.iter().map(|f| planes::unpacked_bytes(f.data.len() as u64)).sum();
            if let Some(first) = frames
                .first()
                .filter(|first| frames.iter().all(|f| f.same_shape(first)) && device_bytes <= planes::BATCH_BYTES)
            {
                let upright = first.size.rotated(rotation);
                let frames: Vec<FramePlanes> = frames.into_iter().cloned().collect();
                let found =
                    self.person.detect_planes_batch_async(&frames, rotation, &self.params).await.map_err(fail)?;
                return Ok((self.to_display(found, upright), inputs.len() as u32));
            }
        }
        let images: Vec<Cow<[u8]>> = inputs
            .iter()
            .map(|i| match i {
                Input::Rgba(rgba) => Cow::Borrowed(*rgba),
                Input::Planes(p) => Cow::Owned(p.upright_rgba(rotation, self.input)),
            })
            .collect();
        let frames: Vec<RgbaFrame> =
            images.iter().map(|rgba| RgbaFrame::new(rgba, self.input.width, self.input.height)).collect();
        let found = self.person.detect_batch_async(&frames, &self.params).await.map_err(fail)?;
        Ok((self.to_display(found, self.input), 0))
    }

    /// Faces on each frame's face image, in display pixels.
    async fn faces(&self, images: &[&[u8]]) -> Result<Vec<Vec<Face>>, String> {
        let size = self.face_input;
        let frames: Vec<RgbaFrame> = images.iter().map(|rgba| RgbaFrame::new(rgba, size.width, size.height)).collect();
        let found = self
            .faces
            .detect_batch_async(&frames, &face::DEFAULT_PARAMS)
            .await
            .map_err(|e| format!("face detection: {e}"))?;
        let display = self.job.display;
        let (sx, sy) = (display.width as f32 / size.width as f32, display.height as f32 / size.height as f32);
        Ok(found.iter().map(|faces| faces.iter().map(|f| f.to_track_face(sx, sy)).collect()).collect())
    }

    /// Boxes in pixels of a `from` sized image -> pixels of the display sized frame.
    fn to_display(&self, found: Vec<Vec<Detection>>, from: PixelSize) -> Vec<Vec<PersonBox>> {
        let display = self.job.display;
        let sx = display.width as f32 / from.width as f32;
        let sy = display.height as f32 / from.height as f32;
        found
            .iter()
            .map(|boxes| {
                boxes.iter().map(|d| PersonBox::new(d.x * sx, d.y * sy, d.width * sx, d.height * sy, d.score)).collect()
            })
            .collect()
    }
}

/// One frame's person-detector input, read from a request.
enum Input<'a> {
    Rgba(&'a [u8]),
    Planes(FramePlanes<'a>),
}

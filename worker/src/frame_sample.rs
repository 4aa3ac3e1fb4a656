//! Small copies of decoded frames for analysis (never for the output, which is cropped from the
//! full-resolution frame): an upright RGBA image at the detector's input size, a small upright
//! RGBA image with the frame's proportions for the face detector, and a tiny luma thumbnail for
//! shot-boundary statistics.
//!
//! The frame's planes are copied out once (`VideoFrame.copyTo`, a plain memory copy) and scaled
//! by `core::frame_scale` (area average, YUV averaged before conversion), or handed to the
//! detector as they are, to be scaled on its device (`reframe_detect::planes`, in the detector worker). Formats neither
//! reads (high bit depth, opaque) go through an `OffscreenCanvas` instead; that path converts
//! the whole frame to RGB and cost ~14 ms per 1080p frame on a CPU-only machine.

use crate::js;
use reframe_core::frame_scale::{FramePlanes, PixelLayout, Plane, YuvColor};
use reframe_core::protocol::DetectorInputShape;
use reframe_core::shots::FrameStats;
use reframe_core::units::{PixelSize, Rotation, TimestampUs};
use reframe_core::ReframeError;
use wasm_bindgen::JsCast;
use web_sys::{OffscreenCanvas, OffscreenCanvasRenderingContext2d, VideoFrame};

/// Size of the thumbnail used for shot statistics.
pub const STATS_SIZE: PixelSize = PixelSize { width: 64, height: 36 };

pub struct Sampler {
    input: Canvas,
    faces: Canvas,
    stats: Canvas,
    rotation: Rotation,
}

struct Canvas {
    size: PixelSize,
    ctx: OffscreenCanvasRenderingContext2d,
    _canvas: OffscreenCanvas,
}

impl Canvas {
    fn new(size: PixelSize) -> Result<Canvas, ReframeError> {
        let err = |what: &str| ReframeError::Internal(format!("analysis canvas: {what}"));
        let canvas = OffscreenCanvas::new(size.width, size.height).map_err(|_| err("create"))?;
        let options = js_sys::Object::new();
        crate::js::set(&options, "willReadFrequently", true);
        let ctx = canvas
            .get_context_with_context_options("2d", &options)
            .map_err(|_| err("context"))?
            .ok_or_else(|| err("no 2d context"))?
            .unchecked_into::<OffscreenCanvasRenderingContext2d>();
        Ok(Canvas { size, ctx, _canvas: canvas })
    }

    /// Draws `frame` scaled to the canvas (rotated upright when `rotation` says so) and returns RGBA.
    fn draw(&self, frame: &VideoFrame, rotation: Rotation) -> Result<Vec<u8>, ReframeError> {
        let (w, h) = (self.size.width as f64, self.size.height as f64);
        let ctx = &self.ctx;
        let err = |_| ReframeError::Internal("analysis canvas: draw".into());
        ctx.save();
        // Rotate about the centre so the drawn image fills the canvas upright.
        ctx.translate(w / 2.0, h / 2.0).map_err(err)?;
        ctx.rotate(rotation.degrees() as f64 * std::f64::consts::PI / 180.0).map_err(err)?;
        let (dw, dh) = match rotation {
            Rotation::R90 | Rotation::R270 => (h, w),
            _ => (w, h),
        };
        let drawn = ctx.draw_image_with_video_frame_and_dw_and_dh(frame, -dw / 2.0, -dh / 2.0, dw, dh);
        ctx.restore();
        drawn.map_err(err)?;
        let data = ctx.get_image_data(0, 0, self.size.width as i32, self.size.height as i32).map_err(err)?;
        Ok(data.data().0)
    }
}

/// A frame's pixels, copied out of its `VideoFrame` (the visible rectangle).
pub struct FrameCopy {
    layout: PixelLayout,
    size: PixelSize,
    data: Vec<u8>,
    planes: Vec<Plane>,
    color: YuvColor,
}

impl FrameCopy {
    pub fn planes(&self) -> Result<FramePlanes<'_>, ReframeError> {
        FramePlanes::new(self.layout, self.size, &self.data, self.planes.clone(), self.color)
            .map_err(|e| ReframeError::Internal(format!("frame copy: {e}")))
    }

    /// The frame, upright (`rotation`), averaged down to `out`, as RGBA: scaled on the CPU.
    pub fn upright_rgba(&self, rotation: Rotation, out: PixelSize) -> Result<Vec<u8>, ReframeError> {
        Ok(self.planes()?.upright_rgba(rotation, out))
    }
}

/// A sampled frame as the detector takes it.
pub enum DetectorInput {
    /// Upright RGBA at the detector's input size, scaled on the CPU.
    Rgba(Vec<u8>),
    /// The frame's own planes, to be scaled on the detector's device.
    Planes(FrameCopy),
}

impl DetectorInput {
    /// How the detector worker reads [`bytes`](Self::bytes).
    pub fn shape(&self) -> DetectorInputShape {
        match self {
            DetectorInput::Rgba(_) => DetectorInputShape::Rgba,
            DetectorInput::Planes(c) => DetectorInputShape::Planes {
                layout: c.layout,
                size: c.size,
                planes: c.planes.clone(),
                color: c.color,
                bytes: c.data.len() as u32,
            },
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            DetectorInput::Rgba(rgba) => rgba,
            DetectorInput::Planes(c) => &c.data,
        }
    }
}

/// Copies the frame's pixels when `core::frame_scale` reads its format; `None` otherwise (the
/// canvas then scales the frame).
pub async fn copy(frame: &VideoFrame) -> Result<Option<FrameCopy>, ReframeError> {
    let Some(layout) = js::get(frame, "format").as_string().as_deref().and_then(PixelLayout::from_format) else {
        return Ok(None);
    };
    let rect = js::get(frame, "visibleRect");
    let size = PixelSize::new(
        js::get(&rect, "width").as_f64().unwrap_or(0.0) as u32,
        js::get(&rect, "height").as_f64().unwrap_or(0.0) as u32,
    );
    let err = |e: &wasm_bindgen::JsValue| ReframeError::Internal(format!("frame copy: {}", js::describe(e).1));
    let bytes = frame.allocation_size().map_err(|e| err(&e))?;
    let buffer = js_sys::Uint8Array::new_with_length(bytes);
    let layouts = js::wait(frame.copy_to_with_u8_array(&buffer), err).await?;
    let planes = js_sys::Array::from(&layouts)
        .iter()
        .map(|p| Plane {
            offset: js::get(&p, "offset").as_f64().unwrap_or(0.0) as usize,
            stride: js::get(&p, "stride").as_f64().unwrap_or(0.0) as usize,
        })
        .collect();
    let space = js::get(frame, "colorSpace");
    let color = YuvColor::from_matrix(
        js::get(&space, "matrix").as_string().as_deref(),
        js::get(&space, "fullRange").as_bool(),
        size,
    );
    Ok(Some(FrameCopy { layout, size, data: buffer.to_vec(), planes, color }))
}

impl Sampler {
    /// `face_input`: the upright size of the face detector's copy (`PersonDetector::face_input_size`).
    pub fn new(detector_input: PixelSize, face_input: PixelSize, rotation: Rotation) -> Result<Sampler, ReframeError> {
        Ok(Sampler {
            input: Canvas::new(detector_input)?,
            faces: Canvas::new(face_input)?,
            stats: Canvas::new(STATS_SIZE)?,
            rotation,
        })
    }

    /// The frame for the face detector: upright RGBA at the face input size, from the copy when
    /// there is one.
    pub fn face_input(&self, frame: &VideoFrame, copy: Option<&FrameCopy>) -> Result<Vec<u8>, ReframeError> {
        match copy {
            Some(c) => c.upright_rgba(self.rotation, self.faces.size),
            None => self.faces.draw(frame, self.rotation),
        }
    }

    /// The frame for the detector: its planes as copied when `on_device` (the detector's device
    /// scales them), else upright RGBA at the detector's input size, from the copy when there is
    /// one.
    pub fn detector_input(
        &self,
        frame: &VideoFrame,
        copy: Option<FrameCopy>,
        on_device: bool,
    ) -> Result<DetectorInput, ReframeError> {
        match copy {
            Some(c) if on_device => Ok(DetectorInput::Planes(c)),
            Some(c) => Ok(DetectorInput::Rgba(c.upright_rgba(self.rotation, self.input.size)?)),
            None => Ok(DetectorInput::Rgba(self.input.draw(frame, self.rotation)?)),
        }
    }

    /// Shot statistics of the frame, from a tiny thumbnail's luma.
    pub fn stats(
        &self,
        frame: &VideoFrame,
        copy: Option<&FrameCopy>,
        t: TimestampUs,
    ) -> Result<FrameStats, ReframeError> {
        let luma: Vec<u8> = match copy {
            Some(c) => c.planes()?.luma_thumbnail(STATS_SIZE),
            None => self
                .stats
                .draw(frame, Rotation::R0)?
                .chunks_exact(4)
                .map(|p| ((p[0] as u32 * 77 + p[1] as u32 * 150 + p[2] as u32 * 29) >> 8) as u8)
                .collect(),
        };
        FrameStats::from_luma(t, &luma, STATS_SIZE.width, STATS_SIZE.height, STATS_SIZE.width)
            .map_err(|e| ReframeError::Internal(format!("frame statistics: {e}")))
    }
}

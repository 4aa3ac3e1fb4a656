//! Small copies of decoded frames for analysis (never for the output, which is cropped from the
//! full-resolution frame): an upright RGBA image at the detector's input size, and a tiny luma
//! thumbnail for shot-boundary statistics. The browser scales on its own (GPU when it has one)
//! through an `OffscreenCanvas`.

use reframe_core::shots::FrameStats;
use reframe_core::units::{PixelSize, Rotation, TimestampUs};
use reframe_core::ReframeError;
use wasm_bindgen::JsCast;
use web_sys::{OffscreenCanvas, OffscreenCanvasRenderingContext2d, VideoFrame};

/// Size of the thumbnail used for shot statistics.
pub const STATS_SIZE: PixelSize = PixelSize { width: 64, height: 36 };

pub struct Sampler {
    input: Canvas,
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

impl Sampler {
    pub fn new(detector_input: PixelSize, rotation: Rotation) -> Result<Sampler, ReframeError> {
        Ok(Sampler { input: Canvas::new(detector_input)?, stats: Canvas::new(STATS_SIZE)?, rotation })
    }

    /// The frame, upright, at the detector's input size (RGBA).
    pub fn detector_input(&self, frame: &VideoFrame) -> Result<Vec<u8>, ReframeError> {
        self.input.draw(frame, self.rotation)
    }

    /// Shot statistics of the frame, from a tiny thumbnail's luma.
    pub fn stats(&self, frame: &VideoFrame, t: TimestampUs) -> Result<FrameStats, ReframeError> {
        let rgba = self.stats.draw(frame, Rotation::R0)?;
        let luma: Vec<u8> = rgba
            .chunks_exact(4)
            .map(|p| ((p[0] as u32 * 77 + p[1] as u32 * 150 + p[2] as u32 * 29) >> 8) as u8)
            .collect();
        FrameStats::from_luma(t, &luma, STATS_SIZE.width, STATS_SIZE.height, STATS_SIZE.width)
            .map_err(|e| ReframeError::Internal(format!("frame statistics: {e}")))
    }
}

//! Split screens: output frames drawn from rectangles of a decoded frame onto an
//! `OffscreenCanvas` of the output's size, then made a `VideoFrame` for the encoder.
//!
//! A split screen's halves are drawn one to one (each crop at source resolution, no scaling); the
//! single-crop frames of such a video are drawn scaled to the same output size (every frame of
//! an output has one size).

use crate::frame::Frame;
use crate::js;
use reframe_core::crop::Draw;
use reframe_core::units::PixelSize;
use reframe_core::ReframeError;
use wasm_bindgen::JsCast;
use web_sys::{OffscreenCanvas, OffscreenCanvasRenderingContext2d, VideoFrame, VideoFrameInit};

pub struct Compositor {
    canvas: OffscreenCanvas,
    ctx: OffscreenCanvasRenderingContext2d,
}

fn error(what: &str, e: Option<&wasm_bindgen::JsValue>) -> ReframeError {
    let detail = e.map(|e| format!(": {}", js::describe(e).1)).unwrap_or_default();
    ReframeError::Encode(format!("split screen: {what}{detail}"))
}

impl Compositor {
    /// A compositor for output frames of `size` (coded orientation).
    pub fn new(size: PixelSize) -> Result<Compositor, ReframeError> {
        let canvas = OffscreenCanvas::new(size.width, size.height).map_err(|e| error("canvas", Some(&e)))?;
        let ctx = canvas
            .get_context("2d")
            .map_err(|e| error("context", Some(&e)))?
            .ok_or_else(|| error("no 2d context", None))?
            .unchecked_into::<OffscreenCanvasRenderingContext2d>();
        Ok(Compositor { canvas, ctx })
    }

    /// The output frame drawn from `frame` by `draws` (coded pixels, relative to the frame's
    /// visible area), with the frame's timestamp and duration.
    pub fn compose(&self, frame: &Frame, draws: &[Draw]) -> Result<Frame, ReframeError> {
        // A VideoFrame is drawn at its display size: convert visible pixels to it (they differ
        // only for non-square pixels).
        let (vw, vh) = frame.visible_rect().map(|r| (r.width(), r.height())).unwrap_or((1.0, 1.0));
        let (sx, sy) = (frame.display_width() as f64 / vw.max(1.0), frame.display_height() as f64 / vh.max(1.0));
        for d in draws {
            let (f, t) = (d.from, d.to);
            self.ctx
                .draw_image_with_video_frame_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
                    frame,
                    f.x as f64 * sx,
                    f.y as f64 * sy,
                    f.width as f64 * sx,
                    f.height as f64 * sy,
                    t.x as f64,
                    t.y as f64,
                    t.width as f64,
                    t.height as f64,
                )
                .map_err(|e| error("draw", Some(&e)))?;
        }
        let init = VideoFrameInit::new();
        init.set_timestamp_f64(frame.timestamp().0 as f64);
        if let Some(d) = frame.duration() {
            init.set_duration_f64(d);
        }
        VideoFrame::new_with_offscreen_canvas_and_video_frame_init(&self.canvas, &init)
            .map(Frame::new)
            .map_err(|e| error("frame", Some(&e)))
    }
}

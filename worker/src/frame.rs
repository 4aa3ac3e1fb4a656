//! A decoded `VideoFrame` that closes itself: a frame holds decoder memory (often a GPU
//! surface) until `close()`, and a decoder stalls once its frames are all held. Owning the
//! frame in a [`Frame`] closes it on every path, errors included, when the last owner drops it.

use crate::js;
use reframe_core::units::{PixelRect, TimestampUs};
use reframe_core::ReframeError;
use std::ops::Deref;
use web_sys::{VideoFrame, VideoFrameInit};

pub struct Frame(VideoFrame);

impl Frame {
    pub fn new(frame: VideoFrame) -> Frame {
        Frame(frame)
    }

    /// The frame's presentation time, as the decoder stamped it (the sample's time).
    pub fn timestamp(&self) -> TimestampUs {
        TimestampUs(self.0.timestamp().round() as i64)
    }

    /// A new frame showing `rect` (coded pixels, relative to this frame's own visible area) of
    /// the same picture: no pixel is copied or scaled.
    pub fn crop(&self, rect: PixelRect) -> Result<Frame, ReframeError> {
        let (vx, vy) = self.0.visible_rect().map(|r| (r.x(), r.y())).unwrap_or((0.0, 0.0));
        let visible = web_sys::DomRectInit::new();
        visible.set_x(vx + rect.x as f64);
        visible.set_y(vy + rect.y as f64);
        visible.set_width(rect.width as f64);
        visible.set_height(rect.height as f64);
        let init = VideoFrameInit::new();
        init.set_visible_rect(&visible);
        VideoFrame::new_with_video_frame_and_video_frame_init(&self.0, &init)
            .map(Frame)
            .map_err(|e| ReframeError::Encode(format!("crop: {}", js::describe(&e).1)))
    }
}

impl Frame {
    /// Another frame of the same picture (no copy), stamped `t`: it stands in for a frame the
    /// decoder lost to damaged data.
    pub fn restamped(&self, t: TimestampUs) -> Result<Frame, ReframeError> {
        let init = VideoFrameInit::new();
        js::set(&init, "timestamp", t.0 as f64);
        VideoFrame::new_with_video_frame_and_video_frame_init(&self.0, &init)
            .map(Frame)
            .map_err(|e| ReframeError::Decode(format!("stand-in frame: {}", js::describe(&e).1)))
    }

    /// Another handle on the same picture.
    pub fn share(&self) -> Result<Frame, ReframeError> {
        self.0.clone().map(Frame).map_err(|e| ReframeError::Decode(format!("frame clone: {}", js::describe(&e).1)))
    }
}

impl Deref for Frame {
    type Target = VideoFrame;

    fn deref(&self) -> &VideoFrame {
        &self.0
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        self.0.close();
    }
}

//! Video decoding with WebCodecs `VideoDecoder`: choosing a configuration the browser supports,
//! and a decoder that hands each decoded frame, as a self-closing [`Frame`], to a [`FrameSink`].

use crate::frame::Frame;
use crate::js;
use crate::signal::Signal;
use reframe_core::demux::{Sample, VideoTrack};
use reframe_core::units::ticks_to_us;
use reframe_core::ReframeError;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{
    CodecState, EncodedVideoChunk, EncodedVideoChunkInit, EncodedVideoChunkType, HardwareAcceleration, VideoDecoder,
    VideoDecoderConfig, VideoDecoderInit, VideoFrame,
};

/// A decoder configuration the browser accepted, and whether it asked for hardware decoding.
pub struct DecoderChoice {
    pub config: VideoDecoderConfig,
    pub hardware: bool,
}

fn config_for(track: &VideoTrack, acceleration: HardwareAcceleration) -> VideoDecoderConfig {
    let config = VideoDecoderConfig::new(&track.config.codec);
    config.set_coded_width(track.coded_size.width);
    config.set_coded_height(track.coded_size.height);
    if let Some(description) = &track.config.description {
        config.set_description(&js_sys::Uint8Array::from(description.as_slice()));
    }
    config.set_hardware_acceleration(acceleration);
    config
}

async fn supported(config: &VideoDecoderConfig) -> bool {
    match js::wait(VideoDecoder::is_config_supported(config), |_| ReframeError::Internal(String::new())).await {
        Ok(support) => js::get(&support, "supported").as_bool().unwrap_or(false),
        Err(_) => false,
    }
}

/// Hardware decoding when the browser offers it for this stream, else whatever it has.
pub async fn choose(track: &VideoTrack) -> Result<DecoderChoice, ReframeError> {
    if !has_webcodecs() {
        return Err(ReframeError::NoWebCodecs);
    }
    let hw = config_for(track, HardwareAcceleration::PreferHardware);
    if supported(&hw).await {
        return Ok(DecoderChoice { config: hw, hardware: true });
    }
    let any = config_for(track, HardwareAcceleration::NoPreference);
    if supported(&any).await {
        return Ok(DecoderChoice { config: any, hardware: false });
    }
    Err(ReframeError::UnsupportedCodec(track.config.codec.clone()))
}

/// Whether this browser exposes WebCodecs in workers.
pub fn has_webcodecs() -> bool {
    let global = js_sys::global();
    ["VideoDecoder", "VideoEncoder", "VideoFrame", "EncodedVideoChunk"]
        .iter()
        .all(|name| js::get(&global, name).is_function())
}

/// A configured `VideoDecoder` and the callbacks it calls. Dropping it closes the decoder before
/// the callbacks are freed, so no callback can run after its closure is gone.
pub struct Decoder {
    decoder: VideoDecoder,
    _output: Closure<dyn FnMut(VideoFrame)>,
    _error: Closure<dyn FnMut(JsValue)>,
    _dequeue: Closure<dyn FnMut()>,
}

impl Decoder {
    pub fn new(
        config: &VideoDecoderConfig,
        mut on_frame: impl FnMut(Frame) + 'static,
        mut on_error: impl FnMut(ReframeError) + 'static,
        on_dequeue: impl FnMut() + 'static,
    ) -> Result<Decoder, ReframeError> {
        let output = Closure::<dyn FnMut(VideoFrame)>::new(move |frame| on_frame(Frame::new(frame)));
        let error =
            Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| on_error(ReframeError::Decode(js::describe(&e).1)));
        let dequeue = Closure::<dyn FnMut()>::new(on_dequeue);
        let decoder =
            VideoDecoder::new(&VideoDecoderInit::new(error.as_ref().unchecked_ref(), output.as_ref().unchecked_ref()))
                .map_err(|e| ReframeError::Decode(js::describe(&e).1))?;
        decoder.set_ondequeue(Some(dequeue.as_ref().unchecked_ref()));
        decoder.configure(config).map_err(|e| ReframeError::Decode(js::describe(&e).1))?;
        Ok(Decoder { decoder, _output: output, _error: error, _dequeue: dequeue })
    }

    /// Queues one sample (bytes `data`) for decoding, stamped with its presentation time.
    pub fn decode(&self, track: &VideoTrack, sample: &Sample, data: &[u8]) -> Result<(), ReframeError> {
        let init = EncodedVideoChunkInit::new(
            &js_sys::Uint8Array::from(data),
            0,
            if sample.keyframe { EncodedVideoChunkType::Key } else { EncodedVideoChunkType::Delta },
        );
        // web-sys types the timestamp as i32; set it as a double so multi-hour files work.
        js::set(&init, "timestamp", track.presentation_time(sample).0 as f64);
        init.set_duration(ticks_to_us(sample.duration as i64, track.timescale).max(0) as u32);
        let chunk = EncodedVideoChunk::new(&init).map_err(|e| ReframeError::Decode(js::describe(&e).1))?;
        self.decoder.decode(&chunk).map_err(|e| ReframeError::Decode(js::describe(&e).1))
    }

    pub fn queue_size(&self) -> u32 {
        self.decoder.decode_queue_size()
    }

    /// Starts flushing: the promise settles once every queued sample came out.
    pub fn flush(&self) -> js_sys::Promise<js_sys::Undefined> {
        self.decoder.flush()
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        self.decoder.set_ondequeue(None);
        if self.decoder.state() != CodecState::Closed {
            let _ = self.decoder.close();
        }
    }
}

/// Where a decoder's output goes: every decoded frame, and errors (the first one wins). A sink
/// that keeps a frame keeps its [`Frame`]; dropping it closes the frame.
pub trait FrameSink {
    fn on_frame(&mut self, frame: Frame);
    fn on_error(&mut self, error: ReframeError);
}

impl Decoder {
    /// A decoder whose frames and errors go to `sink`; every callback (frame, error, dequeue) also
    /// wakes `signal`, on which the reading loop waits.
    pub fn feeding<S: FrameSink + 'static>(
        config: &VideoDecoderConfig,
        sink: &Rc<RefCell<S>>,
        signal: &Signal,
    ) -> Result<Decoder, ReframeError> {
        let (s1, s2, w1, w2, w3) = (sink.clone(), sink.clone(), signal.clone(), signal.clone(), signal.clone());
        Decoder::new(
            config,
            move |frame| {
                s1.borrow_mut().on_frame(frame);
                w1.wake();
            },
            move |e| {
                s2.borrow_mut().on_error(e);
                w2.wake();
            },
            move || w3.wake(),
        )
    }
}

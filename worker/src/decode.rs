//! Video decoding with WebCodecs `VideoDecoder`: choosing a configuration the browser supports,
//! and a decoder that hands each decoded frame, as a self-closing [`Frame`], to a [`FrameSink`].

use crate::frame::Frame;
use crate::js;
use crate::signal::Signal;
use reframe_core::demux::{Sample, VideoTrack};
use reframe_core::units::{ticks_to_us, TimestampUs};
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

/// Between a decoder and a pass's sink, when decoding goes on past damaged data: a decoder that
/// failed is started again at the next keyframe (`feed`), and each frame it lost is stood in for
/// by the last good picture, restamped with the lost frame's time. The pass then sees every frame
/// index with its timing, and the stand-ins are counted. It holds one extra handle on the last
/// good picture (closed as soon as the next one comes).
pub struct GapFill<S> {
    inner: Rc<RefCell<S>>,
    shown: Rc<Vec<TimestampUs>>,
    /// The last frame passed on, and its index among the shown frames.
    last: Option<(usize, Frame)>,
    /// Whether the decoder was started again since the last frame (a gap is expected).
    restarted: bool,
    /// Indices of the frames stood in for.
    pub filled: Vec<usize>,
}

impl<S: FrameSink> GapFill<S> {
    pub fn new(inner: Rc<RefCell<S>>, shown: Rc<Vec<TimestampUs>>) -> GapFill<S> {
        GapFill { inner, shown, last: None, restarted: false, filled: Vec::new() }
    }

    pub fn restarted(&mut self) {
        self.restarted = true;
    }

    /// Stands in for the frames after the last good one up to `end` (exclusive).
    pub fn fill_to(&mut self, end: usize) {
        let Some((from, picture)) = self.last.take() else { return };
        for k in from + 1..end.min(self.shown.len()) {
            match picture.restamped(self.shown[k]) {
                Ok(f) => {
                    self.filled.push(k);
                    self.inner.borrow_mut().on_frame(f);
                }
                Err(e) => {
                    self.inner.borrow_mut().on_error(e);
                    return;
                }
            }
        }
        self.last = Some((end.saturating_sub(1).max(from), picture));
    }
}

impl<S: FrameSink> FrameSink for GapFill<S> {
    fn on_frame(&mut self, frame: Frame) {
        if let Ok(i) = self.shown.binary_search(&frame.timestamp()) {
            if self.restarted && self.last.as_ref().is_some_and(|(j, _)| i > j + 1) {
                self.fill_to(i);
            }
            self.restarted = false;
            if self.last.as_ref().is_none_or(|(j, _)| i > *j) {
                match frame.share() {
                    Ok(copy) => self.last = Some((i, copy)),
                    Err(e) => self.inner.borrow_mut().on_error(e),
                }
            }
        }
        self.inner.borrow_mut().on_frame(frame);
    }

    fn on_error(&mut self, error: ReframeError) {
        self.inner.borrow_mut().on_error(error);
    }
}

/// A pass's decoder, which `feed` may start again after damaged data, with its gap filler.
pub struct Decoding<S> {
    pub decoder: Decoder,
    config: VideoDecoderConfig,
    pub sink: Rc<RefCell<GapFill<S>>>,
    signal: Signal,
    /// The decoder's own failure (damaged data), kept apart from the pass's errors.
    failure: Rc<RefCell<Option<ReframeError>>>,
    /// How many times the decoder was started again.
    pub restarts: u32,
}

impl<S: FrameSink + 'static> Decoding<S> {
    pub fn new(
        config: &VideoDecoderConfig,
        sink: &Rc<RefCell<S>>,
        shown: Rc<Vec<TimestampUs>>,
        signal: &Signal,
    ) -> Result<Decoding<S>, ReframeError> {
        let sink = Rc::new(RefCell::new(GapFill::new(sink.clone(), shown)));
        let failure = Rc::default();
        let decoder = Self::decoder(config, &sink, &failure, signal)?;
        Ok(Decoding { decoder, config: config.clone(), sink, signal: signal.clone(), failure, restarts: 0 })
    }

    fn decoder(
        config: &VideoDecoderConfig,
        sink: &Rc<RefCell<GapFill<S>>>,
        failure: &Rc<RefCell<Option<ReframeError>>>,
        signal: &Signal,
    ) -> Result<Decoder, ReframeError> {
        let (s1, f1, w1, w2, w3) = (sink.clone(), failure.clone(), signal.clone(), signal.clone(), signal.clone());
        Decoder::new(
            config,
            move |frame| {
                s1.borrow_mut().on_frame(frame);
                w1.wake();
            },
            move |e| {
                f1.borrow_mut().get_or_insert(e);
                w2.wake();
            },
            move || w3.wake(),
        )
    }

    /// The decoder's failure, if it failed since the last call.
    pub fn failed(&self) -> Option<ReframeError> {
        self.failure.borrow_mut().take()
    }

    /// Closes the failed decoder and starts a new one (fed from the next keyframe on).
    pub fn restart(&mut self) -> Result<(), ReframeError> {
        self.decoder = Self::decoder(&self.config, &self.sink, &self.failure, &self.signal)?;
        self.restarts += 1;
        self.sink.borrow_mut().restarted();
        Ok(())
    }

    /// Indices of the frames stood in for.
    pub fn filled(&self) -> Vec<usize> {
        self.sink.borrow().filled.clone()
    }

    /// Index of a presentation time among the shown frames (None: not a shown frame).
    pub fn shown_index(&self, t: TimestampUs) -> Option<usize> {
        self.sink.borrow().shown.binary_search(&t).ok()
    }
}

//! Video encoding with WebCodecs `VideoEncoder`: picking the best codec the browser can encode
//! at the output size, and reading the codec configuration the encoder reports.

use crate::frame::Frame;
use crate::js;
use reframe_core::encode_settings::codec_candidates;
use reframe_core::mux::VideoEncoding;
use reframe_core::units::PixelSize;
use reframe_core::ReframeError;
use wasm_bindgen::prelude::*;
use web_sys::{
    CodecState, EncodedVideoChunk, HardwareAcceleration, LatencyMode, VideoEncoder, VideoEncoderConfig,
    VideoEncoderEncodeOptions, VideoEncoderInit,
};

pub struct EncoderChoice {
    pub config: VideoEncoderConfig,
    pub codec: String,
}

fn config_for(codec: &str, size: PixelSize, bitrate: u32, fps: f64) -> VideoEncoderConfig {
    let config = VideoEncoderConfig::new(codec, size.height, size.width);
    config.set_bitrate(bitrate);
    config.set_framerate(fps);
    config.set_latency_mode(LatencyMode::Quality);
    config.set_hardware_acceleration(HardwareAcceleration::NoPreference);
    if codec.starts_with("avc1") {
        // Length-prefixed NAL units with an avcC record: what MP4 stores.
        let avc = js_sys::Object::new();
        js::set(&avc, "format", "avc");
        js::set(&config, "avc", avc);
    }
    config
}

/// The first of H.264 High, H.264 Main, VP9, AV1 that this browser encodes at `size`.
pub async fn choose(size: PixelSize, bitrate: u32, fps: f64) -> Result<EncoderChoice, ReframeError> {
    for codec in codec_candidates(size, fps) {
        let config = config_for(&codec, size, bitrate, fps);
        let ok = match js::wait(VideoEncoder::is_config_supported(&config), |_| ReframeError::NoEncoder).await {
            Ok(support) => js::get(&support, "supported").as_bool().unwrap_or(false),
            Err(_) => false,
        };
        if ok {
            return Ok(EncoderChoice { config, codec });
        }
    }
    Err(ReframeError::NoEncoder)
}

/// The codec configuration from an encoder output's metadata (sent with the first keyframe).
pub fn encoding_from_metadata(codec: &str, metadata: &JsValue) -> Option<VideoEncoding> {
    let decoder_config = js::get(metadata, "decoderConfig");
    if decoder_config.is_undefined() || decoder_config.is_null() {
        return None;
    }
    let description = js::get(&decoder_config, "description");
    let bytes = if description.is_undefined() || description.is_null() {
        None
    } else {
        Some(js_sys::Uint8Array::new(&description).to_vec())
    };
    if codec.starts_with("avc1") {
        bytes.map(|avcc| VideoEncoding::Avc { avcc })
    } else if codec.starts_with("vp09") {
        let parts: Vec<u8> = codec.split('.').skip(1).filter_map(|p| p.parse().ok()).collect();
        Some(VideoEncoding::Vp9 {
            profile: *parts.first().unwrap_or(&0),
            level: *parts.get(1).unwrap_or(&41),
            bit_depth: *parts.get(2).unwrap_or(&8),
        })
    } else if codec.starts_with("av01") {
        // Chrome reports the av1C record; skip its 4 header bytes handled by the muxer's parser.
        bytes.map(|av1c| VideoEncoding::Av1 { av1c })
    } else {
        None
    }
}

/// A configured `VideoEncoder` and its callbacks; dropping it closes the encoder first.
pub struct Encoder {
    encoder: VideoEncoder,
    _output: Closure<dyn FnMut(EncodedVideoChunk, JsValue)>,
    _error: Closure<dyn FnMut(JsValue)>,
    _dequeue: Closure<dyn FnMut()>,
}

impl Encoder {
    pub fn new(
        choice: &EncoderChoice,
        on_chunk: impl FnMut(EncodedVideoChunk, JsValue) + 'static,
        mut on_error: impl FnMut(ReframeError) + 'static,
        on_dequeue: impl FnMut() + 'static,
    ) -> Result<Encoder, ReframeError> {
        let output = Closure::<dyn FnMut(EncodedVideoChunk, JsValue)>::new(on_chunk);
        let error =
            Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| on_error(ReframeError::Encode(js::describe(&e).1)));
        let dequeue = Closure::<dyn FnMut()>::new(on_dequeue);
        let encoder =
            VideoEncoder::new(&VideoEncoderInit::new(error.as_ref().unchecked_ref(), output.as_ref().unchecked_ref()))
                .map_err(|e| ReframeError::Encode(js::describe(&e).1))?;
        encoder.set_ondequeue(Some(dequeue.as_ref().unchecked_ref()));
        encoder.configure(&choice.config).map_err(|e| ReframeError::Encode(js::describe(&e).1))?;
        Ok(Encoder { encoder, _output: output, _error: error, _dequeue: dequeue })
    }

    /// Queues a frame; the encoder keeps its own reference, so the caller's `frame` may be
    /// dropped (closed) right after.
    pub fn encode(&self, frame: &Frame, keyframe: bool) -> Result<(), ReframeError> {
        let options = VideoEncoderEncodeOptions::new();
        options.set_key_frame(keyframe);
        self.encoder.encode_with_options(frame, &options).map_err(|e| ReframeError::Encode(js::describe(&e).1))
    }

    pub fn queue_size(&self) -> u32 {
        self.encoder.encode_queue_size()
    }

    pub async fn flush(&self) -> Result<(), ReframeError> {
        js::wait(self.encoder.flush(), |e| ReframeError::Encode(js::describe(e).1)).await.map(|_| ())
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        self.encoder.set_ondequeue(None);
        if self.encoder.state() != CodecState::Closed {
            let _ = self.encoder.close();
        }
    }
}

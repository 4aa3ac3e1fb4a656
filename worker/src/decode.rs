//! Video decoding with WebCodecs `VideoDecoder`: choosing a configuration the browser supports.

use crate::js;
use reframe_core::demux::VideoTrack;
use reframe_core::ReframeError;
use web_sys::{HardwareAcceleration, VideoDecoder, VideoDecoderConfig};

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


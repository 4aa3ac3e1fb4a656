//! Sound an MP4 cannot hold (Vorbis, FLAC, MP3, PCM in Matroska), decoded with the browser's
//! `AudioDecoder` and encoded again as Opus with its `AudioEncoder`, for the assembly step.
//!
//! The decoder's output goes straight into the encoder (each `AudioData` closed once encoded);
//! the encoder's packets wait in a queue until the assembly writes them. The assembly feeds the
//! source packets a little ahead of the video it writes, and waits whenever either codec queue
//! is long, so neither the source's sound nor the decoded samples pile up in memory.

use crate::js;
use crate::source::FileSource;
use reframe_core::demux::{AudioToEncode, ByteSource};
use reframe_core::mux::{opus_sample_entry, start_edit, AudioSpec};
use reframe_core::ReframeError;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{
    AudioData, AudioDecoder, AudioDecoderConfig, AudioDecoderInit, AudioEncoder, AudioEncoderConfig, AudioEncoderInit,
    CodecState, EncodedAudioChunk, EncodedAudioChunkInit, EncodedAudioChunkType,
};

/// Opus packets are timed in 48 kHz samples.
pub const OPUS_RATE: u32 = 48_000;
/// Bits per second of the Opus sound: transparent for speech and music at these rates.
const BITRATE: u32 = 128_000;
/// The longest codec queue before the feeding waits.
const MAX_QUEUE: u32 = 16;
/// The Opus encoder's pre-skip when its header does not say (libopus at 48 kHz).
const DEFAULT_PRE_SKIP: u16 = 312;

/// One encoded Opus packet and its length in 48 kHz samples.
pub struct OpusPacket {
    pub data: Vec<u8>,
    pub samples: u32,
}

/// What the codec callbacks leave for the assembly.
#[derive(Default)]
struct Out {
    packets: VecDeque<OpusPacket>,
    /// The pre-skip from the encoder's Opus header, once it gave one.
    pre_skip: Option<u16>,
    error: Option<ReframeError>,
}

/// The two codecs and their callbacks. Dropping it closes both before the callbacks are freed.
pub struct AudioEncode {
    decoder: AudioDecoder,
    encoder: Rc<AudioEncoder>,
    out: Rc<RefCell<Out>>,
    channels: u16,
    input_rate: u32,
    /// The next source packet to decode.
    next: usize,
    /// Samples written so far (the next packet's decode time).
    written: i64,
    _decoded: Closure<dyn FnMut(AudioData)>,
    _decode_error: Closure<dyn FnMut(JsValue)>,
    _encoded: Closure<dyn FnMut(EncodedAudioChunk, JsValue)>,
    _encode_error: Closure<dyn FnMut(JsValue)>,
}

fn decoder_config(a: &AudioToEncode) -> AudioDecoderConfig {
    let config = AudioDecoderConfig::new(&a.codec, a.channels, a.sample_rate);
    if let Some(d) = &a.description {
        config.set_description(&js_sys::Uint8Array::from(d.as_slice()));
    }
    config
}

fn encoder_config(a: &AudioToEncode) -> AudioEncoderConfig {
    let config = AudioEncoderConfig::new("opus", a.channels, a.sample_rate);
    config.set_bitrate(BITRATE);
    config
}

fn failed(e: &JsValue) -> ReframeError {
    ReframeError::Encode(format!("the sound could not be encoded again: {}", js::describe(e).1))
}

impl AudioEncode {
    /// Whether this browser decodes the sound and encodes Opus of its shape (Opus here takes
    /// mono or stereo).
    pub async fn supported(a: &AudioToEncode) -> bool {
        if a.channels > 2 {
            return false;
        }
        let decodes =
            js::wait(AudioDecoder::is_config_supported(&decoder_config(a)), |_| ReframeError::Internal(String::new()))
                .await;
        let encodes =
            js::wait(AudioEncoder::is_config_supported(&encoder_config(a)), |_| ReframeError::Internal(String::new()))
                .await;
        let yes = |r: Result<JsValue, ReframeError>| r.is_ok_and(|r| js::get(&r, "supported").as_bool() == Some(true));
        yes(decodes) && yes(encodes)
    }

    pub fn new(a: &AudioToEncode) -> Result<AudioEncode, ReframeError> {
        let out: Rc<RefCell<Out>> = Rc::default();
        let (o1, o2, o3) = (out.clone(), out.clone(), out.clone());
        let encoded = Closure::<dyn FnMut(EncodedAudioChunk, JsValue)>::new(move |chunk: EncodedAudioChunk, meta| {
            let mut data = vec![0u8; chunk.byte_length() as usize];
            let mut o = o1.borrow_mut();
            if let Err(e) = chunk.copy_to_with_u8_slice(&mut data) {
                o.error.get_or_insert(failed(&e));
                return;
            }
            let us = chunk.duration().unwrap_or(20_000.0);
            let samples = (us * OPUS_RATE as f64 / 1e6).round() as u32;
            if o.pre_skip.is_none() {
                o.pre_skip = opus_pre_skip(&meta);
            }
            o.packets.push_back(OpusPacket { data, samples });
        });
        let encode_error = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            o2.borrow_mut().error.get_or_insert(failed(&e));
        });
        let encoder = Rc::new(
            AudioEncoder::new(&AudioEncoderInit::new(
                encode_error.as_ref().unchecked_ref(),
                encoded.as_ref().unchecked_ref(),
            ))
            .map_err(|e| failed(&e))?,
        );
        encoder.configure(&encoder_config(a)).map_err(|e| failed(&e))?;
        let enc = encoder.clone();
        let o4 = out.clone();
        let decoded = Closure::<dyn FnMut(AudioData)>::new(move |data: AudioData| {
            if let Err(e) = enc.encode(&data) {
                o4.borrow_mut().error.get_or_insert(failed(&e));
            }
            data.close();
        });
        let decode_error = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            o3.borrow_mut().error.get_or_insert(failed(&e));
        });
        let decoder = AudioDecoder::new(&AudioDecoderInit::new(
            decode_error.as_ref().unchecked_ref(),
            decoded.as_ref().unchecked_ref(),
        ))
        .map_err(|e| failed(&e))?;
        decoder.configure(&decoder_config(a)).map_err(|e| failed(&e))?;
        Ok(AudioEncode {
            decoder,
            encoder,
            out,
            channels: a.channels as u16,
            input_rate: a.sample_rate,
            next: 0,
            written: 0,
            _decoded: decoded,
            _decode_error: decode_error,
            _encoded: encoded,
            _encode_error: encode_error,
        })
    }

    /// Decodes the source packets that start before `until_us` (all of them when `None`),
    /// waiting while a codec queue is long. Returns the Opus packets ready so far.
    pub async fn feed_until(
        &mut self,
        a: &AudioToEncode,
        source: &mut FileSource,
        until_us: Option<i64>,
    ) -> Result<Vec<OpusPacket>, ReframeError> {
        while let Some(s) = a.samples.get(self.next) {
            if until_us.is_some_and(|u| s.cts > u) {
                break;
            }
            while self.decoder.decode_queue_size() > MAX_QUEUE || self.encoder.encode_queue_size() > MAX_QUEUE {
                js::sleep(1).await;
                self.check()?;
            }
            let mut data = vec![0u8; s.size as usize];
            source.read_at(s.offset, &mut data)?;
            let init =
                EncodedAudioChunkInit::new(&js_sys::Uint8Array::from(data.as_slice()), 0, EncodedAudioChunkType::Key);
            // web-sys types the timestamp as i32; set it as a double so multi-hour files work.
            js::set(&init, "timestamp", s.cts as f64);
            init.set_duration(s.duration);
            let chunk = EncodedAudioChunk::new(&init).map_err(|e| failed(&e))?;
            self.decoder.decode(&chunk).map_err(|e| failed(&e))?;
            self.next += 1;
        }
        self.check()?;
        Ok(self.take())
    }

    /// Flushes both codecs: the last Opus packets.
    pub async fn finish(&mut self) -> Result<Vec<OpusPacket>, ReframeError> {
        js::wait(self.decoder.flush(), failed).await?;
        js::wait(self.encoder.flush(), failed).await?;
        self.check()?;
        Ok(self.take())
    }

    /// The MP4 track of the Opus sound, once every packet is written (`media` samples in all):
    /// it starts where the source's sound starts (`start_us`), after the encoder's pre-skip.
    pub fn spec(&self, start_us: i64, media: i64, movie_timescale: u32) -> AudioSpec {
        let pre_skip = self.out.borrow().pre_skip.unwrap_or(DEFAULT_PRE_SKIP);
        let delay = (start_us as i128 * OPUS_RATE as i128 / 1_000_000) as i64;
        AudioSpec {
            sample_entry: opus_sample_entry(self.channels, self.input_rate, pre_skip),
            edts: start_edit(delay, pre_skip as i64, media, OPUS_RATE, movie_timescale),
            timescale: OPUS_RATE,
            language: "und".into(),
        }
    }

    /// Takes the next packet's decode time and moves it past `samples`.
    pub fn advance(&mut self, samples: u32) -> i64 {
        let t = self.written;
        self.written += samples as i64;
        t
    }

    fn check(&self) -> Result<(), ReframeError> {
        match self.out.borrow_mut().error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn take(&self) -> Vec<OpusPacket> {
        self.out.borrow_mut().packets.drain(..).collect()
    }
}

impl Drop for AudioEncode {
    fn drop(&mut self) {
        if self.decoder.state() != CodecState::Closed {
            let _ = self.decoder.close();
        }
        if self.encoder.state() != CodecState::Closed {
            let _ = self.encoder.close();
        }
    }
}

/// The pre-skip of the encoder's Opus header (`decoderConfig.description`, RFC 7845 5.1), when
/// the chunk's metadata carries it.
fn opus_pre_skip(meta: &JsValue) -> Option<u16> {
    let config = js::get(meta, "decoderConfig");
    let description = js::get(&config, "description");
    if description.is_undefined() || description.is_null() {
        return None;
    }
    let bytes = js_sys::Uint8Array::new(&description).to_vec();
    (bytes.len() >= 12 && &bytes[..8] == b"OpusHead").then(|| u16::from_le_bytes([bytes[10], bytes[11]]))
}

//! Reframe's pure logic, with no web dependencies, so `cargo test` checks it natively.
//!
//! - [`units`]: frame indices, timestamps, pixel rectangles, aspect ratios.
//! - [`crop`]: output size, window placement, display/coded orientation mapping.
//! - [`demux`]: reading an MP4/MOV's tracks and sample tables from any random-access byte source.
//! - [`mux`]: writing an MP4 progressively to any random-access byte sink.
//! - [`encode_settings`]: bitrate, keyframe interval and codec strings for the encoder.
//! - [`protocol`]: the messages between the page and the pipeline worker.
//! - [`error`]: errors, each with a message a user understands.
//! - [`fingerprint`], [`job`], [`records`], [`resume`]: finding a job again after a reload, what
//!   is stored of it, and which chunks are left to do.

pub mod crop;
pub mod demux;
pub mod encode_settings;
pub mod error;
pub mod fingerprint;
pub mod job;
pub mod mux;
pub mod protocol;
pub mod records;
pub mod resume;
pub mod units;

pub mod analysis;
pub mod batch_tuner;
pub mod busy_time;
pub mod camera_eval;
pub mod camera_path;
pub mod frame_path;
pub mod frame_scale;
pub mod shots;
pub mod subject;
pub mod synthetic;
pub mod taut_string;
pub mod track;

pub use error::{ReframeError, Result};

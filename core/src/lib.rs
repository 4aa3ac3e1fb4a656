//! Reframe's pure logic, with no web dependencies, so `cargo test` checks it natively. The
//! page (`app/`) and the worker (`worker/`) only wrap browser APIs around it.
//!
//! Units and geometry:
//! - [`units`]: frame indices, timestamps, pixel rectangles, aspect ratios, rotation.
//! - [`crop`]: output size, window placement, display/coded orientation mapping, the per-frame
//!   crop plan and path entries.
//!
//! The file, in and out:
//! - [`demux`]: reading an MP4/MOV, MKV or WebM file's tracks and sample index from any random-access byte source.
//! - [`mux`]: writing an MP4 progressively to any random-access byte sink.
//! - [`encode_settings`]: bitrate, keyframe interval and codec strings for the encoder.
//!
//! Analysis and the virtual camera:
//! - [`frame_scale`]: small images (luma thumbnail, detector input) from a decoded frame's planes.
//! - [`shots`]: cut detection from per-frame statistics.
//! - [`track`]: multi-person tracking over sampled frames.
//! - [`subject`]: who the camera frames in each shot.
//! - [`camera_path`] (with its solver [`taut_string`]) and [`frame_path`]: the planned path and
//!   one window per output frame.
//! - [`analysis`]: the stored, exportable analysis of a video, with the user's edits.
//! - [`editor`]: the editor's model (edits, undo/redo, re-planning, who is under a click).
//! - [`timeline`]: what the editor's timeline shows (people seen, camera state, cuts, pins).
//! - [`sampling`]: which frames the detector sees (more where the picture moves).
//! - [`batch_tuner`], [`busy_time`]: how many frames a detector run takes, and its busy time.
//! - [`camera_eval`], [`synthetic`]: measuring a path against ground truth on synthetic scenes.
//!
//! Jobs, storage and messages:
//! - [`settings`]: what the user chooses, with the fixed text each choice has in stored keys.
//! - [`models`]: the detector models the site ships (names, weights files and their checksums).
//! - [`test_aids`]: test and benchmark switches from the page's URL query (never stored).
//! - [`fingerprint`], [`job`], [`records`], [`resume`]: finding a job again after a reload, what
//!   is stored of it, and which stored pieces are sound and which are left to do.
//! - [`summary`]: a job's stages and the summary of a finished job.
//! - [`queue`]: several videos run one after another (order, retry, pause, kept across reloads).
//! - [`zip`]: the headers of a stored ZIP of finished videos ("Download all"), ZIP64 past 4 GiB.
//! - [`protocol`]: the message envelope between the page, the pipeline worker and its detector
//!   workers (above everything it carries).
//! - [`error`]: errors, each with a message a user understands and a stable code.

pub mod crop;
pub mod demux;
pub mod encode_settings;
pub mod error;
pub mod fingerprint;
pub mod job;
pub mod models;
pub mod mux;
pub mod protocol;
pub mod queue;
pub mod records;
pub mod resume;
pub mod sampling;
pub mod settings;
pub mod summary;
pub mod test_aids;
pub mod units;
pub mod zip;

pub mod analysis;
pub mod batch_tuner;
pub mod busy_time;
pub mod camera_eval;
pub mod camera_path;
pub mod editor;
pub mod frame_path;
pub mod frame_scale;
pub mod layout;
pub mod shots;
pub mod subject;
pub mod synthetic;
pub mod taut_string;
pub mod timeline;
pub mod track;

pub use error::{ReframeError, Result};

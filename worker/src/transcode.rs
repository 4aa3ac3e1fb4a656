//! The encoding pass: decode frames, crop each at source resolution, encode, and store the output
//! in segments (one per chunk of `reframe_core::resume`). One export may have several outputs
//! (one per ratio, each its own job): every frame is decoded once and cropped and encoded for
//! each output that still needs its segment.
//!
//! Every segment has its own `VideoEncoder`, started on the segment's first frame (so it starts on
//! a keyframe and does not depend on the frames before it), and its own OPFS file
//! (`jobs/<job>/seg-<n>.bin`, the encoded frames back to back). A segment is recorded as done in
//! IndexedDB only once its encoder is flushed and its file is flushed to disk. A resumed job
//! encodes only the segments without a sound record, decoding from the keyframe before them;
//! because a segment's encoder sees the same frames either way, its output is the same as in an
//! uninterrupted run.

use crate::compose::Compositor;
use crate::db::{now_epoch_ms, Db};
use crate::decode::{Decoder, Decoding, FrameSink};
use crate::encode::{encoding_from_metadata, Encoder, EncoderChoice};
use crate::feed::{self, FeedLoop, Stop, MAX_QUEUE};
use crate::frame::Frame;
use crate::js;
use crate::progress::post_progress;
use crate::signal::Signal;
use crate::source::FileSource;
use crate::store::{self, OpfsFile};
use reframe_core::crop::{CropPlan, FrameCrop};
use reframe_core::demux::Movie;
use reframe_core::encode_settings::KEYFRAME_INTERVAL;
use reframe_core::job::JobRecord;
use reframe_core::mux::{ByteSink, VideoEncoding};
use reframe_core::records::{SegmentIndex, SegmentSample};
use reframe_core::resume::{samples_for_frames, union_of_runs, ChunkLayout};
use reframe_core::summary::Stage;
use reframe_core::units::TimestampUs;
use reframe_core::ReframeError;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ops::Range;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use web_sys::{EncodedVideoChunk, EncodedVideoChunkType};

/// Room kept free on disk beyond the expected size of the next segment.
const DISK_MARGIN_BYTES: f64 = 16e6;

/// The output of one segment's encoder.
struct SegmentOut {
    index: u64,
    frames: Range<u64>,
    codec: String,
    encoding: Option<VideoEncoding>,
    samples: Vec<SegmentSample>,
    file: Option<OpfsFile>,
    /// Encoded bytes that arrived before the file was open.
    pending: Vec<u8>,
    written: u64,
    error: Option<ReframeError>,
    default_duration_us: i64,
}

impl SegmentOut {
    fn on_chunk(&mut self, chunk: &EncodedVideoChunk, metadata: &JsValue) {
        if let Err(e) = self.write_chunk(chunk, metadata) {
            self.error.get_or_insert(e);
        }
    }

    fn write_chunk(&mut self, chunk: &EncodedVideoChunk, metadata: &JsValue) -> Result<(), ReframeError> {
        if self.encoding.is_none() {
            self.encoding = Some(
                encoding_from_metadata(&self.codec, metadata)
                    .ok_or_else(|| ReframeError::Encode("the encoder did not describe its output".into()))?,
            );
        }
        let mut data = vec![0u8; chunk.byte_length() as usize];
        chunk.copy_to_with_u8_slice(&mut data).map_err(|e| ReframeError::Encode(js::describe(&e).1))?;
        self.samples.push(SegmentSample {
            size: data.len() as u32,
            pts_us: chunk.timestamp().round() as i64,
            duration_us: chunk.duration().map(|d| d.round() as i64).unwrap_or(self.default_duration_us).max(1),
            keyframe: chunk.type_() == EncodedVideoChunkType::Key,
        });
        match self.file.as_mut() {
            Some(f) => {
                f.write_at(self.written, &data)?;
                self.written += data.len() as u64;
            }
            None => self.pending.extend_from_slice(&data),
        }
        Ok(())
    }

    /// Writes what arrived before the file was open.
    fn attach(&mut self, mut file: OpfsFile) -> Result<(), ReframeError> {
        let pending = std::mem::take(&mut self.pending);
        file.write_at(self.written, &pending)?;
        self.written += pending.len() as u64;
        self.file = Some(file);
        Ok(())
    }
}

/// A segment being encoded.
struct Segment {
    out: Rc<RefCell<SegmentOut>>,
    encoder: Rc<Encoder>,
    last_keyframe: Option<i64>,
}

/// One output's encoding state, inside [`Shared`].
struct OutputState {
    plan: Rc<CropPlan>,
    choice: Rc<EncoderChoice>,
    /// Chunk runs this output encodes (the others are stored).
    todo: Vec<Range<u64>>,
    current: Option<Segment>,
    /// Segments whose last frame went to their encoder, oldest first.
    closing: VecDeque<Segment>,
    /// Draws the frames of a composed (split-screen) plan; made at the first such frame.
    compositor: Option<Compositor>,
}

/// State shared between the reading loop and the decoder's callbacks.
struct Shared {
    error: Option<ReframeError>,
    shown: Rc<Vec<TimestampUs>>,
    /// Frames decoded for output in this run.
    run: Range<u64>,
    seg: SegmentDefaults,
    outputs: Vec<OutputState>,
    frames_decoded: Rc<Cell<u64>>,
}

impl FrameSink for Shared {
    fn on_frame(&mut self, frame: Frame) {
        if let Err(e) = self.crop_and_encode(&frame) {
            self.on_error(e);
        }
    }

    fn on_error(&mut self, error: ReframeError) {
        self.error.get_or_insert(error);
    }
}

impl OutputState {
    fn start_segment(&self, index: u64, shared: &SegmentDefaults) -> Result<Segment, ReframeError> {
        let out = Rc::new(RefCell::new(SegmentOut {
            index,
            frames: shared.layout.range(index),
            codec: self.choice.codec.clone(),
            encoding: None,
            samples: Vec::new(),
            file: None,
            pending: Vec::new(),
            written: 0,
            error: None,
            default_duration_us: shared.default_duration_us,
        }));
        let (o1, o2) = (out.clone(), out.clone());
        let (w1, w2, w3) = (shared.signal.clone(), shared.signal.clone(), shared.signal.clone());
        let encoder = Encoder::new(
            &self.choice,
            move |chunk, meta| {
                o1.borrow_mut().on_chunk(&chunk, &meta);
                w1.wake();
            },
            move |e| {
                o2.borrow_mut().error.get_or_insert(e);
                w2.wake();
            },
            move || w3.wake(),
        )?;
        Ok(Segment { out, encoder: Rc::new(encoder), last_keyframe: None })
    }

    /// Crops shown frame `index` (`i`) for this output and encodes it, when its segment is to do.
    fn crop_and_encode(&mut self, frame: &Frame, index: usize, d: &SegmentDefaults) -> Result<(), ReframeError> {
        let i = index as u64;
        let seg_index = d.layout.chunk_of(i);
        if !self.todo.iter().any(|r| r.contains(&seg_index)) {
            return Ok(()); // this output's segment is stored already
        }
        if self.current.as_ref().is_none_or(|s| s.out.borrow().index != seg_index) {
            if let Some(old) = self.current.take() {
                self.closing.push_back(old);
            }
            self.current = Some(self.start_segment(seg_index, d)?);
        }
        let crop = self.plan.frame(index).ok_or_else(|| ReframeError::Internal("no crop for a frame".into()))?;
        let cropped = match crop {
            // The crop at source resolution: the same picture, another visible rectangle.
            FrameCrop::Window(window) => frame.crop(window.coded)?,
            FrameCrop::Composed(draws) => {
                if self.compositor.is_none() {
                    self.compositor = Some(Compositor::new(self.plan.encoded_size())?);
                }
                self.compositor.as_ref().expect("made above").compose(frame, draws)?
            }
        };
        let seg = self.current.as_mut().expect("a segment was started above");
        let t = frame.timestamp();
        let key = seg.last_keyframe.is_none_or(|k| t.0 - k >= KEYFRAME_INTERVAL.0);
        if key {
            seg.last_keyframe = Some(t.0);
        }
        seg.encoder.encode(&cropped, key)?;
        if i + 1 == d.layout.range(seg_index).end {
            let done = self.current.take().expect("current segment");
            self.closing.push_back(done);
        }
        Ok(())
    }

    fn encoded_in_flight(&self) -> u64 {
        let n = |seg: &Segment| seg.out.borrow().samples.len() as u64;
        self.current.as_ref().map(n).unwrap_or(0) + self.closing.iter().map(n).sum::<u64>()
    }
}

/// What every segment of a run is made with.
struct SegmentDefaults {
    layout: ChunkLayout,
    signal: Signal,
    default_duration_us: i64,
}

impl Shared {
    fn crop_and_encode(&mut self, frame: &Frame) -> Result<(), ReframeError> {
        let Ok(index) = self.shown.binary_search(&frame.timestamp()) else {
            // Outside the edit list: decoded only as a reference for other frames.
            return Ok(());
        };
        if !self.run.contains(&(index as u64)) {
            return Ok(()); // decoded to reach the run's frames
        }
        self.frames_decoded.set(self.frames_decoded.get() + 1);
        for out in &mut self.outputs {
            out.crop_and_encode(frame, index, &self.seg)?;
        }
        Ok(())
    }
}

/// One output of the encoding pass: its crop plan, encoder, and stored job.
pub struct Output<'a> {
    pub choice: Rc<EncoderChoice>,
    pub plan: Rc<CropPlan>,
    /// Runs of chunks to encode (`EncodeResume::runs`).
    pub runs: Vec<Range<u64>>,
    pub job: &'a mut JobRecord,
    /// Every stored segment; each segment encoded now is added.
    pub segments: &'a mut Vec<SegmentIndex>,
}

/// What the job passes to the encoding pass.
pub struct EncodeJob<'a> {
    pub movie: &'a Movie,
    pub decoder_config: &'a web_sys::VideoDecoderConfig,
    pub shown: Rc<Vec<TimestampUs>>,
    pub pres: &'a [Option<u64>],
    pub layout: ChunkLayout,
    pub cancel: &'a Cell<bool>,
}

/// Timing of the pass, for the summary.
#[derive(Default)]
pub struct EncodeStats {
    pub frames_decoded: u64,
    /// Frames the decoder lost to damaged data (stood in for by the last good picture), by
    /// index among the shown frames, sorted.
    pub damaged: Vec<u64>,
    /// Frames encoded now, per output.
    pub frames_encoded: Vec<u64>,
    pub seconds: f64,
}

/// The reading loop of one run of segments.
struct RunLoop<'a, 'b> {
    shared: Rc<RefCell<Shared>>,
    db: &'a Db,
    outputs: &'a mut [Output<'b>],
    /// Frames stored before this run, all outputs together.
    frames_done_before: u64,
    /// Frames committed in this run, per output.
    frames_committed: Vec<u64>,
    t_start: f64,
}

impl RunLoop<'_, '_> {
    /// Opens each output's current segment file when it has none yet (checking the disk first).
    async fn open_current(&mut self) -> Result<(), Stop> {
        for k in 0..self.outputs.len() {
            let out = {
                let s = self.shared.borrow();
                match s.outputs[k].current.as_ref() {
                    Some(seg) if seg.out.borrow().file.is_none() => seg.out.clone(),
                    _ => continue,
                }
            };
            let index = out.borrow().index;
            self.check_disk().await?;
            let file = OpfsFile::create(&store::segment_path(&self.outputs[k].job.id, index)).await?;
            out.borrow_mut().attach(file)?;
        }
        Ok(())
    }

    /// Refuses to start a segment when the disk cannot hold it (the job stays paused, resumable).
    async fn check_disk(&self) -> Result<(), Stop> {
        let last: f64 =
            self.outputs.iter().map(|o| o.segments.last().map(|s| s.file_bytes() as f64).unwrap_or(0.0)).sum();
        if let Some(free) = store::free_bytes().await {
            if free < 2.0 * last + DISK_MARGIN_BYTES {
                return Err(ReframeError::StorageFull.into());
            }
        }
        Ok(())
    }

    /// Flushes and records each output's segments whose last frame was sent.
    async fn close_segments(&mut self) -> Result<(), Stop> {
        for k in 0..self.outputs.len() {
            loop {
                let next = self.shared.borrow_mut().outputs[k].closing.pop_front();
                let Some(seg) = next else { break };
                self.close_segment(k, seg).await?;
            }
        }
        Ok(())
    }

    async fn close_segment(&mut self, k: usize, seg: Segment) -> Result<(), Stop> {
        let output = &mut self.outputs[k];
        seg.encoder.flush().await?;
        if seg.out.borrow().file.is_none() {
            let index = seg.out.borrow().index;
            let file = OpfsFile::create(&store::segment_path(&output.job.id, index)).await?;
            seg.out.borrow_mut().attach(file)?;
        }
        let (index, expected) = {
            let mut out = seg.out.borrow_mut();
            if let Some(e) = out.error.take() {
                return Err(e.into());
            }
            let expected = out.frames.end - out.frames.start;
            if out.samples.len() as u64 != expected {
                return Err(ReframeError::Internal(format!(
                    "segment {} has {} of {expected} frames",
                    out.index,
                    out.samples.len()
                ))
                .into());
            }
            let file = out.file.take().expect("attached above");
            file.flush()?;
            drop(file);
            let index = SegmentIndex {
                index: out.index,
                first_frame: out.frames.start,
                end_frame: out.frames.end,
                encoding: out
                    .encoding
                    .clone()
                    .ok_or_else(|| ReframeError::Encode("the encoder produced no frames".into()))?,
                samples: std::mem::take(&mut out.samples),
            };
            (index, expected)
        };
        let job = &mut *output.job;
        job.segments_done += 1;
        job.stored_bytes += index.file_bytes();
        job.updated_ms = now_epoch_ms();
        self.db.commit_segment(&index, job).await?;
        self.frames_committed[k] += expected;
        output.segments.push(index);
        Ok(())
    }
}

impl FeedLoop for RunLoop<'_, '_> {
    async fn ready(&mut self, decoder: &Decoder) -> Result<bool, Stop> {
        if let Some(e) = self.shared.borrow_mut().error.take() {
            return Err(e.into());
        }
        self.close_segments().await?;
        self.open_current().await?;
        let s = self.shared.borrow();
        let mut enc_queue = 0;
        for seg in s.outputs.iter().filter_map(|o| o.current.as_ref()) {
            if let Some(e) = seg.out.borrow_mut().error.take() {
                return Err(e.into());
            }
            enc_queue = enc_queue.max(seg.encoder.queue_size());
        }
        Ok(decoder.queue_size() < MAX_QUEUE && enc_queue < MAX_QUEUE)
    }

    fn progress(&mut self, now: f64) {
        // All outputs together, as frames of one video: the user waits for the last of them.
        let s = self.shared.borrow();
        let n = s.outputs.len().max(1) as u64;
        let session = self.frames_committed.iter().sum::<u64>()
            + s.outputs.iter().map(OutputState::encoded_in_flight).sum::<u64>();
        let total = s.seg.layout.frames;
        post_progress(
            Stage::Processing,
            (self.frames_done_before + session) / n,
            total,
            self.t_start,
            now,
            session / n,
        );
    }
}

/// Encodes the segments each output still needs (its `runs`), storing each as it completes:
/// every chunk that any output needs is decoded once.
pub async fn run(
    e: EncodeJob<'_>,
    outputs: &mut [Output<'_>],
    source: &mut FileSource,
    db: &Db,
) -> Result<EncodeStats, Stop> {
    let v = &e.movie.video;
    let t_start = js::now_ms();
    let default_duration_us = (e.movie.video_duration().0 / e.layout.frames.max(1) as i64).max(1);
    let frames_decoded = Rc::new(Cell::new(0));
    let mut stats = EncodeStats { frames_encoded: vec![0; outputs.len()], ..EncodeStats::default() };
    let mut frames_done_before: u64 =
        outputs.iter().flat_map(|o| o.segments.iter()).map(|s| s.end_frame - s.first_frame).sum();
    let runs = union_of_runs(&outputs.iter().map(|o| o.runs.clone()).collect::<Vec<_>>());
    for run in &runs {
        let frames = e.layout.frames_of(run);
        let samples = samples_for_frames(v, e.pres, frames.clone());
        let signal = Signal::default();
        let states = outputs
            .iter()
            .map(|o| OutputState {
                plan: o.plan.clone(),
                choice: o.choice.clone(),
                todo: o.runs.clone(),
                current: None,
                closing: VecDeque::new(),
                compositor: None,
            })
            .collect();
        let shared = Rc::new(RefCell::new(Shared {
            error: None,
            shown: e.shown.clone(),
            run: frames.clone(),
            seg: SegmentDefaults { layout: e.layout, signal: signal.clone(), default_duration_us },
            outputs: states,
            frames_decoded: frames_decoded.clone(),
        }));
        let mut decoding = Decoding::new(e.decoder_config, &shared, e.shown.clone(), &signal)?;
        let mut lp = RunLoop {
            shared: shared.clone(),
            db,
            outputs: &mut *outputs,
            frames_done_before,
            frames_committed: vec![0; stats.frames_encoded.len()],
            t_start,
        };
        feed::feed(&mut decoding, v, source, samples, &signal, e.cancel, &mut lp).await?;
        stats.damaged.extend(decoding.filled().into_iter().map(|i| i as u64).filter(|i| frames.contains(i)));
        if let Some(err) = shared.borrow_mut().error.take() {
            return Err(err.into());
        }
        for out in shared.borrow_mut().outputs.iter_mut() {
            if let Some(last) = out.current.take() {
                out.closing.push_back(last);
            }
        }
        lp.close_segments().await?;
        for (k, n) in lp.frames_committed.iter().enumerate() {
            stats.frames_encoded[k] += n;
            frames_done_before += n;
        }
        drop(decoding);
    }
    stats.damaged.sort_unstable();
    stats.damaged.dedup();
    stats.frames_decoded = frames_decoded.get();
    stats.seconds = (js::now_ms() - t_start) / 1000.0;
    Ok(stats)
}

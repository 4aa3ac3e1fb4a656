//! The binary records a job stores as it goes (IndexedDB in the browser), so that a reload loses at
//! most one chunk of work: analysis chunks, output segment indexes and the crop path.
//!
//! Every record is sealed in an envelope that makes a damaged or partial record detectable:
//!
//! ```text
//! "RFR" | kind: u8 | format version: u16 LE | payload length: u32 LE | payload (postcard) | xxh3-64 of all before: u64 LE
//! ```
//!
//! [`open`] checks the length and the checksum before decoding the payload, and refuses records of
//! another kind or of a newer format. A record that fails is redone, not trusted.

use crate::crop::{CropPathEntry, SplitLayout};
use crate::mux::VideoEncoding;
use crate::shots::FrameRecord;
use crate::track::Detection;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

const MAGIC: &[u8; 3] = b"RFR";
const HEADER: usize = 3 + 1 + 2 + 4;
const CHECKSUM: usize = 8;
/// The record format this code writes and reads.
/// - 1: the first. Analysis chunks written before detections carried faces do not decode
///   (postcard has no optional fields) and are redone like damaged ones.
/// - 2: crop paths carry split-screen windows and the output layout. Version-1 crop paths are
///   read as single-crop paths ([`open_crop_path`]), so a finished job stays finished.
/// - 3: the shot records of analysis chunks carry a small thumbnail (flashes, dissolves); older
///   chunks do not decode and are analysed again (an unfinished analysis only: a finished one is
///   stored as JSON).
pub const RECORD_VERSION: u16 = 3;

/// What a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RecordKind {
    AnalysisChunk = 1,
    Segment = 2,
    CropPath = 3,
}

/// Why a stored record cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordError {
    #[error("the record is damaged: {0}")]
    Damaged(String),
    #[error("the record holds kind {found}, not {expected:?}")]
    WrongKind { expected: RecordKind, found: u8 },
    #[error("the record was written by a newer Reframe (format {0})")]
    TooNew(u16),
}

/// Seals `value` as a record of `kind`.
pub fn seal<T: Serialize>(kind: RecordKind, value: &T) -> Vec<u8> {
    let payload = postcard::to_allocvec(value).expect("records serialise");
    let mut out = Vec::with_capacity(HEADER + payload.len() + CHECKSUM);
    out.extend_from_slice(MAGIC);
    out.push(kind as u8);
    out.extend_from_slice(&RECORD_VERSION.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&payload);
    let sum = xxh3_64(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// Opens a record of `kind`, checking its envelope and checksum.
pub fn open<T: DeserializeOwned>(kind: RecordKind, bytes: &[u8]) -> Result<T, RecordError> {
    let (_, payload) = unseal(kind, bytes)?;
    postcard::from_bytes(payload).map_err(|e| RecordError::Damaged(e.to_string()))
}

/// A crop-path record of any version.
pub fn open_crop_path(bytes: &[u8]) -> Result<CropPathRecord, RecordError> {
    /// A version-1 entry: no second window.
    #[derive(Deserialize)]
    struct EntryV1 {
        timestamp_us: crate::units::TimestampUs,
        x: u32,
        y: u32,
        width: u32,
        height: u32,
    }
    let (version, payload) = unseal(RecordKind::CropPath, bytes)?;
    let damaged = |e: postcard::Error| RecordError::Damaged(e.to_string());
    if version >= 2 {
        return postcard::from_bytes(payload).map_err(damaged);
    }
    let old: Vec<EntryV1> = postcard::from_bytes(payload).map_err(damaged)?;
    let entries = old
        .into_iter()
        .map(|e| CropPathEntry::new(e.timestamp_us, crate::units::PixelRect::new(e.x, e.y, e.width, e.height)))
        .collect();
    Ok(CropPathRecord { entries, split: None })
}

/// Checks a record's envelope and checksum; its format version and payload.
fn unseal(kind: RecordKind, bytes: &[u8]) -> Result<(u16, &[u8]), RecordError> {
    if bytes.len() < HEADER + CHECKSUM || &bytes[..3] != MAGIC {
        return Err(RecordError::Damaged(format!("{} bytes, no record header", bytes.len())));
    }
    if bytes[3] != kind as u8 {
        return Err(RecordError::WrongKind { expected: kind, found: bytes[3] });
    }
    let version = u16::from_le_bytes([bytes[4], bytes[5]]);
    if version > RECORD_VERSION {
        return Err(RecordError::TooNew(version));
    }
    let len = u32::from_le_bytes([bytes[6], bytes[7], bytes[8], bytes[9]]) as usize;
    if bytes.len() != HEADER + len + CHECKSUM {
        return Err(RecordError::Damaged(format!("{} bytes for a {len}-byte payload", bytes.len())));
    }
    let (body, sum) = bytes.split_at(HEADER + len);
    if xxh3_64(body) != u64::from_le_bytes(sum.try_into().expect("8 bytes")) {
        return Err(RecordError::Damaged("checksum mismatch".into()));
    }
    Ok((version, &body[HEADER..]))
}

/// The analysis of frames `first_frame..end_frame` (one chunk).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisChunk {
    pub index: u64,
    pub first_frame: u64,
    pub end_frame: u64,
    /// One shot-detector record per frame of the chunk.
    pub shots: Vec<FrameRecord>,
    /// The detector's output on the chunk's analysed frames.
    pub detections: Vec<Detection>,
}

/// One encoded frame of a segment; frames are stored back to back in the segment's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentSample {
    pub size: u32,
    pub pts_us: i64,
    pub duration_us: i64,
    pub keyframe: bool,
}

/// The index of one finished output segment (frames `first_frame..end_frame`, starting on a
/// keyframe). Its bytes are in the segment's OPFS file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentIndex {
    pub index: u64,
    pub first_frame: u64,
    pub end_frame: u64,
    pub encoding: VideoEncoding,
    pub samples: Vec<SegmentSample>,
}

impl SegmentIndex {
    /// Bytes of the segment's file.
    pub fn file_bytes(&self) -> u64 {
        self.samples.iter().map(|s| s.size as u64).sum()
    }
}

/// The planned crop of every output frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CropPathRecord {
    pub entries: Vec<CropPathEntry>,
    /// The output layout, when some frames are split screens.
    pub split: Option<SplitLayout>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::PersonBox;
    use crate::units::{FrameIndex, TimestampUs};

    fn chunk() -> AnalysisChunk {
        AnalysisChunk {
            index: 3,
            first_frame: 300,
            end_frame: 400,
            shots: (300..400)
                .map(|i| FrameRecord {
                    timestamp_us: TimestampUs(i * 33_333),
                    diff: 0.01,
                    skip_diff: 0.02,
                    dark: false,
                    small: [0; crate::shots::SMALL_CELLS],
                })
                .collect(),
            detections: vec![Detection {
                timestamp_us: TimestampUs(300 * 33_333),
                frame: FrameIndex(300),
                boxes: vec![PersonBox::new(10.5, 20.0, 100.0, 250.0, 0.9)],
                faces: vec![],
            }],
        }
    }

    #[test]
    fn a_record_round_trips_and_is_compact() {
        let c = chunk();
        let bytes = seal(RecordKind::AnalysisChunk, &c);
        assert!(bytes.len() < 100 * 40 + 100, "{} bytes", bytes.len());
        assert_eq!(open::<AnalysisChunk>(RecordKind::AnalysisChunk, &bytes).unwrap(), c);
    }

    #[test]
    fn damaged_partial_and_foreign_records_are_refused() {
        let bytes = seal(RecordKind::AnalysisChunk, &chunk());
        // Any flipped byte is caught.
        for i in [0, 5, 12, bytes.len() / 2, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[i] ^= 0x40;
            assert!(open::<AnalysisChunk>(RecordKind::AnalysisChunk, &bad).is_err(), "byte {i}");
        }
        // Cut short (killed mid-write).
        assert!(matches!(
            open::<AnalysisChunk>(RecordKind::AnalysisChunk, &bytes[..bytes.len() - 3]),
            Err(RecordError::Damaged(_))
        ));
        assert!(matches!(open::<AnalysisChunk>(RecordKind::AnalysisChunk, &[]), Err(RecordError::Damaged(_))));
        assert!(matches!(open::<SegmentIndex>(RecordKind::Segment, &bytes), Err(RecordError::WrongKind { .. })));
        let mut newer = bytes.clone();
        newer[4] = 0xff;
        assert!(matches!(open::<AnalysisChunk>(RecordKind::AnalysisChunk, &newer), Err(RecordError::TooNew(_))));
    }

    #[test]
    fn crop_paths_of_both_versions_read() {
        use crate::crop::Stack;
        use crate::units::{PixelRect, PixelSize};
        let r = PixelRect::new(10, 0, 608, 1080);
        let split = CropPathRecord {
            entries: vec![
                CropPathEntry::new(TimestampUs(0), r),
                CropPathEntry::split(
                    TimestampUs(1),
                    PixelRect::new(0, 0, 1080, 960),
                    PixelRect::new(840, 0, 1080, 960),
                ),
            ],
            split: Some(SplitLayout { half: PixelSize::new(1080, 960), stack: Stack::Vertical }),
        };
        assert_eq!(open_crop_path(&seal(RecordKind::CropPath, &split)).unwrap(), split);
        // A version-1 record (a finished job of an earlier Reframe): the same bytes as then.
        let mut v1 = Vec::new();
        v1.extend_from_slice(MAGIC);
        v1.push(RecordKind::CropPath as u8);
        v1.extend_from_slice(&1u16.to_le_bytes());
        let payload = postcard::to_allocvec(&vec![(TimestampUs(7), 10u32, 0u32, 608u32, 1080u32)]).unwrap();
        v1.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        v1.extend_from_slice(&payload);
        let sum = xxh3_64(&v1);
        v1.extend_from_slice(&sum.to_le_bytes());
        let old = open_crop_path(&v1).unwrap();
        assert_eq!(old, CropPathRecord { entries: vec![CropPathEntry::new(TimestampUs(7), r)], split: None });
    }

    #[test]
    fn segment_size_is_the_sum_of_its_frames() {
        let s = SegmentIndex {
            index: 0,
            first_frame: 0,
            end_frame: 2,
            encoding: VideoEncoding::Avc { avcc: vec![1, 2, 3] },
            samples: vec![
                SegmentSample { size: 1000, pts_us: 0, duration_us: 33_333, keyframe: true },
                SegmentSample { size: 200, pts_us: 33_333, duration_us: 33_333, keyframe: false },
            ],
        };
        assert_eq!(s.file_bytes(), 1200);
        let back: SegmentIndex = open(RecordKind::Segment, &seal(RecordKind::Segment, &s)).unwrap();
        assert_eq!(back, s);
    }
}

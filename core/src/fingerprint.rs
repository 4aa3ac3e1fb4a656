//! Identifying an input file cheaply, even a multi-GB one, so that a job can be found again after
//! a reload: the file's name, size and modification time, and a hash of a few sampled byte ranges
//! (the start, the end, and evenly spaced ranges in between: [`sample_ranges`]). Reading them costs
//! at most [`SAMPLE_COUNT`] x [`SAMPLE_BYTES`] = 1 MiB whatever the file size.
//!
//! Jobs are keyed by [`job_id`] (the file and every setting that changes the output) and analyses
//! by [`analysis_id`] (the file and the settings that change the analysis), so that a second export
//! with another aspect ratio or smoothness reuses the analysis.

use crate::settings::JobSettings;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

/// Bytes hashed in each sampled range.
pub const SAMPLE_BYTES: u64 = 128 * 1024;
/// Number of sampled ranges (first and last included).
pub const SAMPLE_COUNT: u64 = 8;

/// What identifies an input file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileFingerprint {
    pub name: String,
    pub size: u64,
    /// `File.lastModified`, milliseconds since 1970.
    pub last_modified_ms: f64,
    /// xxh3-64 of the sampled ranges, hex.
    pub content_hash: String,
}

impl FileFingerprint {
    /// A short stable key for the file.
    pub fn key(&self) -> String {
        let mut h = Xxh3::new();
        h.update(self.name.as_bytes());
        h.update(&self.size.to_le_bytes());
        h.update(&self.last_modified_ms.to_le_bytes());
        h.update(self.content_hash.as_bytes());
        format!("{:016x}", h.digest())
    }

    /// Why `other` is not the same file, in words, or `None` when it is.
    pub fn mismatch(&self, other: &FileFingerprint) -> Option<String> {
        if self.size != other.size {
            return Some(format!(
                "\"{}\" has {} bytes, the job's file \"{}\" had {}",
                other.name, other.size, self.name, self.size
            ));
        }
        if self.content_hash != other.content_hash {
            return Some(format!("\"{}\" has different content from the job's file \"{}\"", other.name, self.name));
        }
        if self.name != other.name || self.last_modified_ms != other.last_modified_ms {
            return Some(format!(
                "\"{}\" is not the job's file \"{}\" (its name or modification time differs)",
                other.name, self.name
            ));
        }
        None
    }
}

/// The byte ranges `(offset, length)` hashed for a file of `size` bytes: the whole file when it
/// is small, else [`SAMPLE_COUNT`] ranges of [`SAMPLE_BYTES`] from the first to the last byte.
pub fn sample_ranges(size: u64) -> Vec<(u64, u64)> {
    if size <= SAMPLE_BYTES * SAMPLE_COUNT {
        return if size == 0 { Vec::new() } else { vec![(0, size)] };
    }
    let last_start = size - SAMPLE_BYTES;
    (0..SAMPLE_COUNT).map(|i| (last_start * i / (SAMPLE_COUNT - 1), SAMPLE_BYTES)).collect()
}

/// Fingerprints a file: `read(offset, buf)` fills `buf` from the file.
pub fn fingerprint<E>(
    name: &str,
    size: u64,
    last_modified_ms: f64,
    mut read: impl FnMut(u64, &mut [u8]) -> Result<(), E>,
) -> Result<FileFingerprint, E> {
    let mut h = Xxh3::new();
    let mut buf = Vec::new();
    for (offset, len) in sample_ranges(size) {
        buf.resize(len as usize, 0);
        read(offset, &mut buf)?;
        h.update(&offset.to_le_bytes());
        h.update(&buf);
    }
    Ok(FileFingerprint { name: name.to_string(), size, last_modified_ms, content_hash: format!("{:016x}", h.digest()) })
}

/// The key of a job: the file and every setting that changes its output.
pub fn job_id(file: &FileFingerprint, settings: &JobSettings) -> String {
    let mut h = Xxh3::new();
    h.update(file.key().as_bytes());
    h.update(settings.output_key().as_bytes());
    format!("job-{:016x}", h.digest())
}

/// The key of an analysis: the file, the profile (analysis rate) and the model.
pub fn analysis_id(file: &FileFingerprint, settings: &JobSettings) -> String {
    let mut h = Xxh3::new();
    h.update(file.key().as_bytes());
    h.update(format!("{} {}", settings.profile.key(), settings.model.analysis_key()).as_bytes());
    format!("analysis-{:016x}", h.digest())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera_path::Smoothness;
    use crate::settings::{CropMode, DetectorModel, Profile};
    use crate::units::AspectRatio;

    fn fp_of(data: &[u8], name: &str) -> FileFingerprint {
        fingerprint(name, data.len() as u64, 1000.0, |off, buf: &mut [u8]| {
            buf.copy_from_slice(&data[off as usize..off as usize + buf.len()]);
            Ok::<(), ()>(())
        })
        .unwrap()
    }

    #[test]
    fn ranges_cover_start_and_end_and_stay_small() {
        assert!(sample_ranges(0).is_empty());
        assert_eq!(sample_ranges(1000), vec![(0, 1000)]);
        let size = 4_400_000_000u64;
        let r = sample_ranges(size);
        assert_eq!(r.len(), SAMPLE_COUNT as usize);
        assert_eq!(r[0].0, 0);
        assert_eq!(r.last().unwrap().0 + r.last().unwrap().1, size);
        assert!(r.windows(2).all(|w| w[0].0 + w[0].1 <= w[1].0));
        assert_eq!(r.iter().map(|x| x.1).sum::<u64>(), SAMPLE_BYTES * SAMPLE_COUNT);
    }

    #[test]
    fn a_changed_byte_in_a_sampled_range_changes_the_fingerprint() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let a = fp_of(&data, "a.mp4");
        assert_eq!(a, fp_of(&data, "a.mp4"));
        let mut changed = data.clone();
        *changed.last_mut().unwrap() ^= 1;
        let b = fp_of(&changed, "a.mp4");
        assert_ne!(a.content_hash, b.content_hash);
        assert!(a.mismatch(&b).unwrap().contains("different content"));
        let shorter = fp_of(&data[..data.len() - 1], "a.mp4");
        assert!(a.mismatch(&shorter).unwrap().contains("bytes"));
        assert!(a.mismatch(&fp_of(&data, "b.mp4")).is_some());
        assert_eq!(a.mismatch(&a.clone()), None);
    }

    #[test]
    fn job_ids_follow_the_settings_that_change_the_output() {
        let f = fp_of(b"hello video", "v.mp4");
        let base = JobSettings::default();
        let mut other_ratio = base.clone();
        other_ratio.ratio = AspectRatio::new(1, 1).unwrap();
        assert_ne!(job_id(&f, &base), job_id(&f, &other_ratio));

        let auto = JobSettings { mode: CropMode::Auto, ..base.clone() };
        let calm = JobSettings { smoothness: Smoothness::Calm, ..auto.clone() };
        assert_ne!(job_id(&f, &auto), job_id(&f, &calm));
        // Same analysis for another ratio or smoothness, not for another profile.
        assert_eq!(analysis_id(&f, &auto), analysis_id(&f, &calm));
        assert_eq!(
            analysis_id(&f, &auto),
            analysis_id(&f, &JobSettings { ratio: AspectRatio::new(1, 1).unwrap(), ..auto.clone() })
        );
        let follow = JobSettings { subject_track: Some(3), ..auto.clone() };
        assert_ne!(job_id(&f, &auto), job_id(&f, &follow));
        assert_eq!(analysis_id(&f, &auto), analysis_id(&f, &follow));
        let fast = JobSettings { profile: Profile::Fast, ..auto.clone() };
        assert_ne!(analysis_id(&f, &auto), analysis_id(&f, &fast));
        // Another model: another output and another analysis.
        let quality = JobSettings { model: DetectorModel::Quality, ..auto.clone() };
        assert_ne!(job_id(&f, &auto), job_id(&f, &quality));
        assert_ne!(analysis_id(&f, &auto), analysis_id(&f, &quality));
        assert_eq!(
            job_id(&f, &JobSettings { model: DetectorModel::Quality, ..base.clone() }),
            job_id(&f, &base),
            "fixed crops use no model"
        );
    }

    #[test]
    fn stored_keys_do_not_change_between_versions() {
        // Keys of jobs and analyses stored by earlier versions: a user's stored work is found
        // again only while these stay the same.
        let f = fp_of(b"hello video", "v.mp4");
        let fixed = JobSettings::default();
        let auto = JobSettings { mode: CropMode::Auto, ..fixed.clone() };
        let other = JobSettings {
            model: DetectorModel::Quality,
            smoothness: Smoothness::Calm,
            profile: Profile::Fast,
            subject_track: Some(3),
            ..auto.clone()
        };
        assert_eq!(job_id(&f, &fixed), "job-f650f61a4e71944e");
        assert_eq!(job_id(&f, &auto), "job-ccbb53b9fdbf027d");
        assert_eq!(job_id(&f, &other), "job-67a82fe5b544f906");
        assert_eq!(analysis_id(&f, &auto), "analysis-1acc23d2379a3d06");
        assert_eq!(analysis_id(&f, &other), "analysis-222ab4103ffda609");
    }
}

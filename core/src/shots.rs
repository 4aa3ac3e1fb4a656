//! Shot boundaries (cuts) from cheap per-frame statistics.
//!
//! The worker computes a [`FrameStats`] for every decoded frame with [`FrameStats::from_luma`]
//! (a 32-bin luma histogram and a 16x9 thumbnail of mean luma, from every 4th pixel of every 4th row
//! of the Y plane) and feeds it to a [`ShotDetector`], which keeps only one difference score per
//! frame, so memory stays small for long videos. [`ShotDetector::finish`] returns the cut times.
//!
//! ## Hard cuts
//! The difference between consecutive frames `a`, `b` is
//! `d = (hist_l1(a, b) + 2 * thumb_mad(a, b)).min(1)`, where `hist_l1` is half the L1 distance of the
//! normalised histograms (0 = same, 1 = disjoint) and `thumb_mad` is the mean absolute difference of
//! the thumbnails divided by 255. A frame starts a new shot when
//! - `d >= cut_threshold` (an absolute floor), and
//! - `d >= local_ratio * m`, where `m` is the median of `d` over the `window` frames on each side
//!   (camera motion or a busy scene raises every frame's `d`; a cut stands out from its neighbours),
//! - and it is not a **flash**: when the frame after the candidate looks like the frame before it
//!   (`d(prev, next) < cut_threshold / 2`) the candidate was a one-frame flash or glitch; and
//!   when, within [`MAX_FLASH_FRAMES`] frames, the picture jumps back to one like the frame before
//!   the candidate (the small thumbnails of [`FrameRecord::small`] within `cut_threshold / 2`),
//!   both jumps were a flash (a photographer's flash, a lightning strike, a glitch of a few
//!   frames) and neither is a cut: the camera does not jump for it.
//!
//! ## Fades through black
//! A run of dark frames (mean luma <= `dark_luma` and at least 95% of the histogram in the darkest
//! bins) between two non-dark frames marks a fade out/fade in; its cut is placed at the first frame
//! after the dark run (the first frame of the new shot). Runs at the very start or end are not cuts.
//!
//! ## Cross-dissolves
//! One picture blending into another over `K` frames ([`DISSOLVE_SPANS`], 0.3 to 1.5 s at 30 fps)
//! has no single large difference. A dissolve from frame `s` to frame `e = s + K` is found on the
//! small thumbnails when
//! - the two ends differ (`2 x` mean absolute difference >= [`DISSOLVE_MIN_CHANGE`]) and are not
//!   the same picture brighter or darker (correlation of their cells below
//!   [`DISSOLVE_MAX_CORRELATION`]: exposure changes are not dissolves),
//! - no single step between them carries more than half of that change (a cut is not a dissolve),
//! - the frames at a quarter, half and three quarters of the way are the ends blended in that
//!   proportion, within [`DISSOLVE_MAX_ERROR`] of the change (a pan or someone walking is not a
//!   blend of its ends),
//! - and the pictures are steady just before and just after (a pan that goes on is not a dissolve).
//!
//! The cut is placed at the dissolve's middle frame, so each half of the blend belongs to the shot
//! it mostly shows and the camera never swims from one shot's framing to the other's. Overlapping
//! detections keep the largest change.
//!
//! Cuts closer than `min_shot` to the previous accepted cut are dropped, keeping the stronger one.

use crate::units::{DurationUs, TimestampUs};
use serde::{Deserialize, Serialize};

/// Number of luma histogram bins.
pub const HIST_BINS: usize = 32;
/// Thumbnail width in cells.
pub const THUMB_W: usize = 16;
/// Thumbnail height in cells.
pub const THUMB_H: usize = 9;
/// Pixels skipped in each direction when sampling the Y plane.
const STEP: usize = 4;
/// Cells of the small thumbnail kept per frame in [`FrameRecord::small`]: 8 x 3 (each the mean of
/// 2 x 3 cells of the thumbnail).
pub const SMALL_CELLS: usize = 24;
/// Longest flash (frames) that is not a cut: the picture comes back within this many frames.
pub const MAX_FLASH_FRAMES: usize = 6;
/// Lengths (frames) of the cross-dissolves looked for.
pub const DISSOLVE_SPANS: [usize; 6] = [10, 14, 20, 28, 36, 45];
/// A dissolve's ends differ at least this much (`2 x` mean absolute difference of the small
/// thumbnails / 255, the thumbnail term of the frame difference).
pub const DISSOLVE_MIN_CHANGE: f32 = 0.12;
/// A dissolve's ends are less alike than this (Pearson correlation of their small thumbnails).
pub const DISSOLVE_MAX_CORRELATION: f32 = 0.9;
/// Largest mean distance of the frames inside a dissolve from the blend of its ends, as a share of
/// the ends' mean absolute difference.
pub const DISSOLVE_MAX_ERROR: f32 = 0.2;

/// Per-frame statistics for shot detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameStats {
    pub timestamp_us: TimestampUs,
    /// Share of sampled pixels in each of [`HIST_BINS`] equal luma bins; sums to 1.
    pub histogram: Vec<f32>,
    /// Mean luma of each cell of a [`THUMB_W`] x [`THUMB_H`] grid over the frame, row by row.
    pub thumbnail: Vec<u8>,
    /// Mean luma of the sampled pixels, 0..255.
    pub mean_luma: f32,
}

/// Why a Y plane could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("the luma plane is empty ({width}x{height})")]
    Empty { width: u32, height: u32 },
    #[error("the luma plane is too small: {len} bytes for {width}x{height} with stride {stride}")]
    TooSmall { len: usize, width: u32, height: u32, stride: u32 },
}

impl FrameStats {
    /// Statistics of a frame from its luma (Y) plane: `width` x `height` pixels, `stride` bytes
    /// between rows (`stride >= width`), one byte per pixel (8-bit video, e.g. the Y plane of I420
    /// or NV12). The plane may be in coded orientation: the statistics do not depend on rotation
    /// for the purpose of comparing consecutive frames.
    pub fn from_luma(
        timestamp_us: TimestampUs,
        luma: &[u8],
        width: u32,
        height: u32,
        stride: u32,
    ) -> Result<FrameStats, StatsError> {
        if width == 0 || height == 0 {
            return Err(StatsError::Empty { width, height });
        }
        let (w, h, s) = (width as usize, height as usize, stride as usize);
        let needed = (h - 1).saturating_mul(s).saturating_add(w);
        if s < w || luma.len() < needed {
            return Err(StatsError::TooSmall { len: luma.len(), width, height, stride });
        }
        let mut hist = [0u32; HIST_BINS];
        let mut cell_sum = [0u64; THUMB_W * THUMB_H];
        let mut cell_n = [0u32; THUMB_W * THUMB_H];
        let mut total: u64 = 0;
        let mut n: u64 = 0;
        // Sample the centre of each STEP x STEP block (or the only row/column of a tiny frame).
        let first_y = (STEP / 2).min(h - 1);
        let first_x = (STEP / 2).min(w - 1);
        for y in (first_y..h).step_by(STEP) {
            let row = &luma[y * s..y * s + w];
            let cy = y * THUMB_H / h;
            for x in (first_x..w).step_by(STEP) {
                let v = row[x];
                hist[v as usize * HIST_BINS / 256] += 1;
                let cell = cy * THUMB_W + x * THUMB_W / w;
                cell_sum[cell] += v as u64;
                cell_n[cell] += 1;
                total += v as u64;
                n += 1;
            }
        }
        let n = n.max(1);
        let histogram = hist.iter().map(|&c| c as f32 / n as f32).collect();
        let mean_luma = total as f32 / n as f32;
        // Cells that no sample fell in (frames smaller than the grid) take the frame's mean.
        let thumbnail = cell_sum
            .iter()
            .zip(cell_n.iter())
            .map(|(&sum, &cnt)| if cnt == 0 { mean_luma.round() as u8 } else { (sum / cnt as u64) as u8 })
            .collect();
        Ok(FrameStats { timestamp_us, histogram, thumbnail, mean_luma })
    }

    /// The 8 x 3 small thumbnail of [`FrameRecord::small`].
    pub fn small(&self) -> [u8; SMALL_CELLS] {
        let mut out = [0u8; SMALL_CELLS];
        for (k, v) in out.iter_mut().enumerate() {
            let (cx, cy) = (k % 8, k / 8);
            let mut sum = 0u32;
            for y in cy * 3..cy * 3 + 3 {
                for x in cx * 2..cx * 2 + 2 {
                    sum += self.thumbnail.get(y * THUMB_W + x).copied().unwrap_or(0) as u32;
                }
            }
            *v = (sum / 6) as u8;
        }
        out
    }

    /// Whether the frame is (nearly) black: a fade's middle.
    pub fn is_dark(&self, dark_luma: f32) -> bool {
        // Bins covering luma 0..=dark_luma (inclusive of the bin holding dark_luma).
        let last_bin = ((dark_luma.max(0.0) as usize) * HIST_BINS / 256).min(HIST_BINS - 1);
        let dark_share: f32 = self.histogram.iter().take(last_bin + 1).sum();
        self.mean_luma <= dark_luma && dark_share >= 0.95
    }
}

/// Difference of two frames in [0, 1]: `(hist_l1 + 2 * thumb_mad).min(1)` (see the module docs).
pub fn frame_difference(a: &FrameStats, b: &FrameStats) -> f32 {
    let hist: f32 = a.histogram.iter().zip(b.histogram.iter()).map(|(x, y)| (x - y).abs()).sum::<f32>() * 0.5;
    let cells = a.thumbnail.len().min(b.thumbnail.len()).max(1);
    let mad: f32 = a.thumbnail.iter().zip(b.thumbnail.iter()).map(|(&x, &y)| (x as f32 - y as f32).abs()).sum::<f32>()
        / cells as f32
        / 255.0;
    (hist + 2.0 * mad).min(1.0)
}

/// Tuning of the shot detector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ShotConfig {
    /// Absolute floor of the difference score for a cut.
    pub cut_threshold: f32,
    /// A cut's score must be this many times the median of its neighbours' scores.
    pub local_ratio: f32,
    /// Neighbours on each side for the median.
    pub window: usize,
    /// Mean luma (0..255) at or below which a frame counts as black.
    pub dark_luma: f32,
    /// Shortest shot: cuts closer than this to the previous one are merged (stronger kept).
    pub min_shot: DurationUs,
}

impl Default for ShotConfig {
    fn default() -> Self {
        ShotConfig { cut_threshold: 0.25, local_ratio: 3.0, window: 8, dark_luma: 30.0, min_shot: DurationUs(500_000) }
    }
}

/// What the detector remembers of each frame (about 40 bytes; stored in the analysis chunks so that
/// a resumed analysis does not need the frames again).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FrameRecord {
    pub timestamp_us: TimestampUs,
    /// Difference to the previous frame (0 for the first).
    pub diff: f32,
    /// Difference between the previous and the next frame, filled when the next frame arrives.
    pub skip_diff: f32,
    pub dark: bool,
    /// An 8 x 3 thumbnail of mean luma ([`FrameStats::small`]), for flashes and dissolves.
    pub small: [u8; SMALL_CELLS],
}

/// `2 x` the mean absolute difference of two small thumbnails / 255.
fn small_distance(a: &[u8; SMALL_CELLS], b: &[u8; SMALL_CELLS]) -> f32 {
    let sum: u32 = a.iter().zip(b).map(|(&x, &y)| (x as i32 - y as i32).unsigned_abs()).sum();
    2.0 * sum as f32 / SMALL_CELLS as f32 / 255.0
}

/// Pearson correlation of two small thumbnails (1 when either is flat).
fn correlation(a: &[u8; SMALL_CELLS], b: &[u8; SMALL_CELLS]) -> f32 {
    let n = SMALL_CELLS as f32;
    let (ma, mb) = (a.iter().map(|&v| v as f32).sum::<f32>() / n, b.iter().map(|&v| v as f32).sum::<f32>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (x as f32 - ma, y as f32 - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa < 1.0 || sbb < 1.0 {
        return 1.0;
    }
    sab / (saa * sbb).sqrt()
}

/// The cross-dissolves in `r` (see the module docs), as `(start, end, change)` frame indices,
/// overlapping detections reduced to the one with the largest change.
fn dissolves(r: &[FrameRecord]) -> Vec<(usize, usize, f32)> {
    let n = r.len();
    let mut found: Vec<(usize, usize, f32)> = Vec::new();
    for e in 0..n {
        for &k in &DISSOLVE_SPANS {
            let Some(s) = e.checked_sub(k) else { continue };
            if s < 2 || e + 2 >= n {
                continue;
            }
            let (a, b) = (&r[s].small, &r[e].small);
            let change = small_distance(a, b);
            if change < DISSOLVE_MIN_CHANGE || correlation(a, b) >= DISSOLVE_MAX_CORRELATION {
                continue;
            }
            if (s + 1..=e).any(|i| small_distance(&r[i - 1].small, &r[i].small) > 0.5 * change) {
                continue;
            }
            let steady = small_distance(&r[s - 2].small, a) <= 0.15 * change
                && small_distance(b, &r[e + 2].small) <= 0.15 * change;
            let blended = [k / 4, k / 2, 3 * k / 4].iter().all(|&off| {
                let f = off as f32 / k as f32;
                let m = &r[s + off].small;
                let err: f32 = (0..SMALL_CELLS)
                    .map(|c| (m[c] as f32 - ((1.0 - f) * a[c] as f32 + f * b[c] as f32)).abs())
                    .sum::<f32>()
                    / SMALL_CELLS as f32;
                // `change` is 2 x the mean absolute difference / 255.
                err <= DISSOLVE_MAX_ERROR * change * 255.0 / 2.0
            });
            if steady && blended {
                found.push((s, e, change));
            }
        }
    }
    found.sort_by(|x, y| y.2.total_cmp(&x.2).then(x.0.cmp(&y.0)));
    let mut kept: Vec<(usize, usize, f32)> = Vec::new();
    for d in found {
        if kept.iter().all(|k| d.1 < k.0 || d.0 > k.1) {
            kept.push(d);
        }
    }
    kept
}

/// Streaming shot detector: [`push`](ShotDetector::push) each frame's stats in presentation order,
/// then [`finish`](ShotDetector::finish).
///
/// A video can also be analysed in pieces (a resumed job): start a piece with
/// [`warm_up`](ShotDetector::warm_up) on the two frames before it, push its frames, end it with
/// [`peek`](ShotDetector::peek) on the frame after it, take its [`records`](ShotDetector::records),
/// and join the pieces' records with [`from_records`](ShotDetector::from_records): the cuts are the
/// same as in one pass.
#[derive(Debug, Clone)]
pub struct ShotDetector {
    config: ShotConfig,
    prev2: Option<FrameStats>,
    prev: Option<FrameStats>,
    records: Vec<FrameRecord>,
}

impl ShotDetector {
    pub fn new(config: ShotConfig) -> Self {
        ShotDetector { config, prev2: None, prev: None, records: Vec::new() }
    }

    /// A detector holding the records of a whole video, gathered piece by piece.
    pub fn from_records(config: ShotConfig, records: Vec<FrameRecord>) -> Self {
        ShotDetector { config, prev2: None, prev: None, records }
    }

    /// The records pushed so far, one per frame.
    pub fn records(&self) -> &[FrameRecord] {
        &self.records
    }

    /// A frame before the piece being analysed: remembered for the next differences, not recorded.
    pub fn warm_up(&mut self, stats: FrameStats) {
        self.prev2 = self.prev.take();
        self.prev = Some(stats);
    }

    /// The frame after the piece: completes the last record, adds none.
    pub fn peek(&mut self, stats: &FrameStats) {
        if let (Some(p2), Some(last)) = (self.prev2.as_ref(), self.records.last_mut()) {
            last.skip_diff = frame_difference(p2, stats);
        }
    }

    pub fn push(&mut self, stats: FrameStats) {
        let diff = self.prev.as_ref().map_or(0.0, |p| frame_difference(p, &stats));
        self.peek(&stats);
        self.records.push(FrameRecord {
            timestamp_us: stats.timestamp_us,
            diff,
            skip_diff: 1.0,
            dark: stats.is_dark(self.config.dark_luma),
            small: stats.small(),
        });
        self.prev2 = self.prev.take();
        self.prev = Some(stats);
    }

    /// The cut times: the timestamp of the first frame of each new shot, sorted.
    pub fn finish(&self) -> Vec<TimestampUs> {
        let cfg = self.config;
        let r = &self.records;
        // (index of the first frame of the new shot, strength)
        let mut candidates: Vec<(usize, f32)> = Vec::new();

        for i in 1..r.len() {
            let d = r[i].diff;
            if d < cfg.cut_threshold || r[i].dark || r[i - 1].dark {
                continue; // transitions into or out of black are handled as fades below
            }
            let lo = i.saturating_sub(cfg.window);
            let hi = (i + cfg.window + 1).min(r.len());
            let mut neighbours: Vec<f32> = (lo.max(1)..hi).filter(|&j| j != i).map(|j| r[j].diff).collect();
            let median = median(&mut neighbours);
            if d < cfg.local_ratio * median {
                continue;
            }
            // Flash: the frame after looks like the frame before.
            if r[i].skip_diff < cfg.cut_threshold * 0.5 {
                continue;
            }
            // The frame after a flash: the frame two back looks like this one.
            if i >= 2 && r[i - 1].skip_diff < cfg.cut_threshold * 0.5 {
                continue;
            }
            candidates.push((i, d));
        }
        // Flashes of a few frames: a jump, and within MAX_FLASH_FRAMES a jump back to a picture
        // like the one before the first: neither is a cut.
        let like = |a: usize, b: usize| small_distance(&r[a].small, &r[b].small) < cfg.cut_threshold * 0.5;
        let flash: Vec<bool> = candidates
            .iter()
            .enumerate()
            .map(|(k, &(i, _))| {
                let back =
                    candidates[k + 1..].iter().take_while(|c| c.0 <= i + MAX_FLASH_FRAMES).any(|c| like(i - 1, c.0));
                let into =
                    candidates[..k].iter().rev().take_while(|c| c.0 + MAX_FLASH_FRAMES >= i).any(|c| like(c.0 - 1, i));
                back || into
            })
            .collect();
        let mut candidates: Vec<(usize, f32)> =
            candidates.into_iter().zip(flash).filter(|(_, f)| !f).map(|(c, _)| c).collect();

        // Cross-dissolves: a cut at the middle frame.
        candidates.extend(dissolves(r).into_iter().map(|(s, e, change)| ((s + e).div_ceil(2), change)));

        // Fades through black: a dark run strictly inside the video.
        let mut i = 0;
        while i < r.len() {
            if !r[i].dark {
                i += 1;
                continue;
            }
            let start = i;
            while i < r.len() && r[i].dark {
                i += 1;
            }
            if start > 0 && i < r.len() {
                candidates.push((i, 1.0));
            }
        }

        candidates.sort_by_key(|c| c.0);
        let mut accepted: Vec<(usize, f32)> = Vec::new();
        for (idx, strength) in candidates {
            let t = r[idx].timestamp_us;
            match accepted.last_mut() {
                Some(last) if t.since(r[last.0].timestamp_us) < cfg.min_shot => {
                    if strength > last.1 {
                        *last = (idx, strength);
                    }
                }
                _ => accepted.push((idx, strength)),
            }
        }
        accepted.into_iter().map(|(idx, _)| r[idx].timestamp_us).collect()
    }
}

fn median(v: &mut [f32]) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Cut times for a whole sequence of frame statistics (in presentation order).
pub fn detect_cuts(stats: &[FrameStats], config: ShotConfig) -> Vec<TimestampUs> {
    let mut d = ShotDetector::new(config);
    for s in stats {
        d.push(s.clone());
    }
    d.finish()
}

/// Index of the shot that contains `t`: the number of cuts at or before `t` (a cut's timestamp is
/// the first frame of its new shot).
pub fn shot_index(cuts: &[TimestampUs], t: TimestampUs) -> usize {
    cuts.partition_point(|c| *c <= t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(t: i64, v: u8, w: u32, h: u32) -> FrameStats {
        let plane = vec![v; (w * h) as usize];
        FrameStats::from_luma(TimestampUs(t), &plane, w, h, w).unwrap()
    }

    #[test]
    fn stats_of_a_flat_frame() {
        let s = flat(0, 200, 64, 36);
        assert_eq!(s.thumbnail.len(), THUMB_W * THUMB_H);
        assert!(s.thumbnail.iter().all(|&v| v == 200));
        assert_eq!(s.histogram[200 * HIST_BINS / 256], 1.0);
        assert_eq!(s.mean_luma, 200.0);
        assert!(!s.is_dark(30.0));
        assert!(flat(0, 16, 64, 36).is_dark(30.0));
    }

    #[test]
    fn stats_respect_the_stride() {
        // Left half 50, right half 150, with 8 bytes of padding (255) at the end of each row.
        let (w, h, stride) = (128u32, 72u32, 136u32);
        let mut plane = vec![255u8; (stride * h) as usize];
        for y in 0..h {
            for x in 0..w {
                plane[(y * stride + x) as usize] = if x < w / 2 { 50 } else { 150 };
            }
        }
        let s = FrameStats::from_luma(TimestampUs(0), &plane, w, h, stride).unwrap();
        assert_eq!(s.thumbnail[0], 50);
        assert_eq!(s.thumbnail[THUMB_W - 1], 150);
        assert!((s.mean_luma - 100.0).abs() < 1e-3);
        assert_eq!(s.histogram[255 * HIST_BINS / 256], 0.0, "padding must not be read");
    }

    #[test]
    fn bad_planes_are_errors() {
        assert!(FrameStats::from_luma(TimestampUs(0), &[], 0, 10, 10).is_err());
        assert!(FrameStats::from_luma(TimestampUs(0), &[0; 99], 10, 10, 10).is_err());
        assert!(FrameStats::from_luma(TimestampUs(0), &[0; 100], 10, 10, 9).is_err());
        // The last row needs only `width` bytes, not a full stride.
        assert!(FrameStats::from_luma(TimestampUs(0), &[0; 9 * 12 + 10], 10, 10, 12).is_ok());
    }

    #[test]
    fn a_jump_between_flat_levels_is_a_cut_and_a_flash_is_not() {
        let mut stats = Vec::new();
        for i in 0..60 {
            let v = if i < 30 { 80 } else { 170 };
            // Frame 15 is a one-frame flash.
            let v = if i == 15 { 250 } else { v };
            stats.push(flat(i * 33_333, v, 64, 36));
        }
        assert_eq!(detect_cuts(&stats, ShotConfig::default()), vec![TimestampUs(30 * 33_333)]);
    }

    #[test]
    fn a_fade_through_black_is_one_cut() {
        let mut stats = Vec::new();
        // 30 frames at 150, fade out over 10 frames to 16, 5 black frames, fade in to 120.
        let mut t = 0;
        let mut push = |v: f32| {
            stats.push(flat(t * 33_333, v.round() as u8, 64, 36));
            t += 1;
        };
        for _ in 0..30 {
            push(150.0);
        }
        for k in 1..=10 {
            push(150.0 - (150.0 - 16.0) * k as f32 / 10.0);
        }
        for _ in 0..5 {
            push(16.0);
        }
        for k in 1..=10 {
            push(16.0 + (120.0 - 16.0) * k as f32 / 10.0);
        }
        for _ in 0..30 {
            push(120.0);
        }
        let cuts = detect_cuts(&stats, ShotConfig::default());
        assert_eq!(cuts.len(), 1, "{cuts:?}");
        // The first frame after the black run (frames 38..=44 have mean <= 30).
        let first_after =
            stats.iter().position(|s| s.timestamp_us > TimestampUs(40 * 33_333) && !s.is_dark(30.0)).unwrap();
        assert_eq!(cuts[0], stats[first_after].timestamp_us);
    }

    #[test]
    fn analysing_in_pieces_gives_the_same_records_and_cuts() {
        // Levels with two cuts, a flash and a fade.
        let levels: Vec<u8> = (0..60)
            .map(|i| match i {
                0..=14 => 60 + (i % 3) as u8,
                15..=29 => 200,
                30 => 10,
                31..=40 => 120 - (i % 2) as u8,
                41..=45 => 5,
                _ => 160,
            })
            .collect();
        let frames: Vec<FrameStats> =
            levels.iter().enumerate().map(|(i, &v)| flat(i as i64 * 40_000, v, 64, 36)).collect();
        let mut whole = ShotDetector::new(ShotConfig::default());
        for f in &frames {
            whole.push(f.clone());
        }
        // Pieces [0, 13), [13, 31), [31, 60): each warmed up on the two frames before it and
        // completed with the frame after it.
        let mut records = Vec::new();
        for (a, b) in [(0usize, 13usize), (13, 31), (31, 60)] {
            let mut piece = ShotDetector::new(ShotConfig::default());
            for f in &frames[a.saturating_sub(2)..a] {
                piece.warm_up(f.clone());
            }
            for f in &frames[a..b] {
                piece.push(f.clone());
            }
            if let Some(next) = frames.get(b) {
                piece.peek(next);
            }
            records.extend_from_slice(piece.records());
        }
        assert_eq!(records, whole.records());
        let joined = ShotDetector::from_records(ShotConfig::default(), records);
        assert_eq!(joined.finish(), whole.finish());
        assert!(!whole.finish().is_empty());
    }

    /// A 64x36 luma picture: a smooth pattern of `seed`, shifted right by `shift` px, brightness `gain`.
    fn picture(seed: u32, shift: f32, gain: f32) -> Vec<u8> {
        let (fx, fy, ph) = (0.07 + 0.03 * (seed % 5) as f32, 0.11 + 0.05 * (seed % 3) as f32, seed as f32);
        (0..64 * 36)
            .map(|i| {
                let (x, y) = ((i % 64) as f32 - shift, (i / 64) as f32);
                let v = 128.0 + 60.0 * (x * fx + ph).sin() + 50.0 * (y * fy + 2.0 * ph).cos();
                (v * gain).clamp(0.0, 255.0) as u8
            })
            .collect()
    }

    fn stats_of(frames: &[Vec<u8>]) -> Vec<FrameStats> {
        frames
            .iter()
            .enumerate()
            .map(|(i, p)| FrameStats::from_luma(TimestampUs(i as i64 * 33_333), p, 64, 36, 64).unwrap())
            .collect()
    }

    fn blend(a: &[u8], b: &[u8], f: f32) -> Vec<u8> {
        a.iter().zip(b).map(|(&x, &y)| ((1.0 - f) * x as f32 + f * y as f32).round() as u8).collect()
    }

    #[test]
    fn a_flash_of_a_few_frames_is_not_a_cut() {
        let (a, b) = (picture(1, 0.0, 1.0), picture(2, 0.0, 1.0));
        for len in 1..=MAX_FLASH_FRAMES - 1 {
            // 40 frames of A, `len` white frames, 40 of A, then a real cut to B.
            let mut frames: Vec<Vec<u8>> = vec![a.clone(); 40];
            frames.extend(std::iter::repeat_n(vec![250u8; 64 * 36], len));
            frames.extend(std::iter::repeat_n(a.clone(), 40));
            frames.extend(std::iter::repeat_n(b.clone(), 40));
            let stats = stats_of(&frames);
            let cuts = detect_cuts(&stats, ShotConfig::default());
            assert_eq!(cuts, vec![stats[80 + len].timestamp_us], "flash of {len} frames");
        }
    }

    #[test]
    fn a_cross_dissolve_is_one_cut_at_its_middle() {
        for (k, (sa, sb)) in [(15usize, (1u32, 2u32)), (30, (3, 4)), (24, (2, 5))] {
            let (a, b) = (picture(sa, 0.0, 1.0), picture(sb, 0.0, 0.9));
            let mut frames: Vec<Vec<u8>> = vec![a.clone(); 40];
            frames.extend((1..k).map(|i| blend(&a, &b, i as f32 / k as f32)));
            frames.extend(std::iter::repeat_n(b.clone(), 40));
            let stats = stats_of(&frames);
            let cuts = detect_cuts(&stats, ShotConfig::default());
            assert_eq!(cuts.len(), 1, "{k}-frame dissolve: {cuts:?}");
            let at = stats.iter().position(|s| s.timestamp_us == cuts[0]).unwrap();
            let middle = 40 + k / 2;
            assert!(at.abs_diff(middle) <= 3, "{k}-frame dissolve: cut at frame {at}, middle {middle}");
        }
    }

    #[test]
    fn pans_and_exposure_changes_are_not_dissolves() {
        let a = picture(3, 0.0, 1.0);
        // A pan that goes on through the whole clip, and one that starts and stops.
        let pan: Vec<Vec<u8>> = (0..120).map(|i| picture(3, i as f32 * 0.8, 1.0)).collect();
        assert!(detect_cuts(&stats_of(&pan), ShotConfig::default()).is_empty());
        let mut stop: Vec<Vec<u8>> = vec![a.clone(); 30];
        stop.extend((0..30).map(|i| picture(3, i as f32 * 1.5, 1.0)));
        stop.extend(std::iter::repeat_n(picture(3, 45.0, 1.0), 30));
        assert!(detect_cuts(&stats_of(&stop), ShotConfig::default()).is_empty());
        // Auto exposure: the same picture darkening by a third over a second.
        let mut dim: Vec<Vec<u8>> = vec![a.clone(); 30];
        dim.extend((0..30).map(|i| picture(3, 0.0, 1.0 - i as f32 / 90.0)));
        dim.extend(std::iter::repeat_n(picture(3, 0.0, 0.67), 30));
        assert!(detect_cuts(&stats_of(&dim), ShotConfig::default()).is_empty());
    }

    #[test]
    fn shot_index_counts_cuts_at_or_before() {
        let cuts = [TimestampUs(100), TimestampUs(200)];
        assert_eq!(shot_index(&cuts, TimestampUs(99)), 0);
        assert_eq!(shot_index(&cuts, TimestampUs(100)), 1);
        assert_eq!(shot_index(&cuts, TimestampUs(250)), 2);
    }
}

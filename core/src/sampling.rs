//! Which frames the person detector sees: detect where it matters.
//!
//! The profile's rate ([`Profile::analysis_interval`]) is the most the detector sees: the first
//! frame of each interval ([`is_analysed`]) is a candidate. A candidate goes to the detector when
//! - the picture changed since the last detected frame (a person or the camera moved, a cut): one
//!   cell of the 16x9 luma grid ([`FrameStats::thumbnail`]) differs by at least
//!   [`SamplingRule::cell_change`] levels, or
//! - [`SamplingRule::max_gap`] has passed since the last detected frame, or
//! - it is the first candidate of its chunk.
//!
//! So a still shot is looked at once every `max_gap` and a moving one at the full rate. The choice
//! depends only on the frames of its own chunk, so a resumed analysis picks the same frames as
//! an uninterrupted one.

use crate::resume::is_analysed;
use crate::settings::Profile;
use crate::shots::FrameStats;
use crate::units::{DurationUs, TimestampUs};

/// When a candidate frame goes to the detector (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplingRule {
    /// Time between candidates: the profile's rate.
    pub interval: DurationUs,
    /// The longest time between two detected frames of a chunk.
    pub max_gap: DurationUs,
    /// The change of one grid cell's mean luma (0..255) that counts as motion.
    pub cell_change: u8,
}

impl SamplingRule {
    /// The longest gap of an adaptive rule: a still shot is looked at once a second.
    pub const MAX_GAP: DurationUs = DurationUs(1_000_000);
    /// Motion: one cell of the 16x9 grid (at 1080p, 120x120 pixels) changed its mean luma by 8
    /// levels, as a person moving a tenth of their width in it does; compression noise moves the
    /// mean of such a cell by 1-3 levels.
    pub const CELL_CHANGE: u8 = 8;

    /// What the app uses: the profile's rate where the picture moves, once a second where it
    /// stands still.
    pub fn adaptive(profile: Profile) -> SamplingRule {
        let interval = profile.analysis_interval();
        SamplingRule { interval, max_gap: Self::MAX_GAP.max(interval), cell_change: Self::CELL_CHANGE }
    }

    /// Every candidate (the profile's rate throughout), for comparison.
    pub fn uniform(interval: DurationUs) -> SamplingRule {
        SamplingRule { interval, max_gap: interval, cell_change: 0 }
    }
}

/// Applies a [`SamplingRule`] to the shown frames of a chunk, in order.
#[derive(Debug, Clone)]
pub struct FrameChooser {
    rule: SamplingRule,
    /// The last detected frame of the chunk: its time and luma grid.
    last: Option<(TimestampUs, Vec<u8>)>,
}

impl FrameChooser {
    pub fn new(rule: SamplingRule) -> FrameChooser {
        FrameChooser { rule, last: None }
    }

    /// Whether shown frame `i` (with its statistics) goes to the detector. Called for every shown
    /// frame of a chunk in order; `starts_chunk` when frame `i` is its chunk's first.
    pub fn choose(&mut self, shown: &[TimestampUs], i: usize, stats: &FrameStats, starts_chunk: bool) -> bool {
        if starts_chunk {
            self.last = None;
        }
        if !is_analysed(shown, i, self.rule.interval) {
            return false;
        }
        let t = shown[i];
        let pick = match &self.last {
            None => true,
            Some((last_t, grid)) => {
                // Half an interval of slack: timestamps rounded to the time base land either side.
                let due = t.0 - last_t.0 >= self.rule.max_gap.0 - self.rule.interval.0 / 2;
                due || largest_change(grid, &stats.thumbnail) >= self.rule.cell_change
            }
        };
        if pick {
            self.last = Some((t, stats.thumbnail.clone()));
        }
        pick
    }
}

/// The largest difference between two luma grids' cells.
fn largest_change(a: &[u8], b: &[u8]) -> u8 {
    a.iter().zip(b).map(|(&x, &y)| x.abs_diff(y)).max().unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shots::{THUMB_H, THUMB_W};

    fn stats(t: TimestampUs, grid: &[u8]) -> FrameStats {
        FrameStats { timestamp_us: t, histogram: vec![], thumbnail: grid.to_vec(), mean_luma: 0.0 }
    }

    /// 30 fps for `seconds`, the grid of frame `i` from `grid(i)`; the chosen frames' indices.
    fn chosen(rule: SamplingRule, seconds: usize, chunk_frames: usize, grid: impl Fn(usize) -> Vec<u8>) -> Vec<usize> {
        let shown: Vec<TimestampUs> = (0..30 * seconds).map(|i| TimestampUs(i as i64 * 1_000_000 / 30)).collect();
        let mut chooser = FrameChooser::new(rule);
        (0..shown.len())
            .filter(|&i| chooser.choose(&shown, i, &stats(shown[i], &grid(i)), i.is_multiple_of(chunk_frames)))
            .collect()
    }

    const CELLS: usize = THUMB_W * THUMB_H;

    #[test]
    fn a_still_picture_is_looked_at_once_a_second() {
        let rule = SamplingRule::adaptive(Profile::Fast);
        let picked = chosen(rule, 4, 300, |_| vec![100; CELLS]);
        assert_eq!(picked, vec![0, 30, 60, 90]);
        // Noise below the threshold changes nothing.
        let noisy = chosen(rule, 4, 300, |i| vec![100 + (i % 3) as u8 * 3; CELLS]);
        assert_eq!(noisy, picked);
    }

    #[test]
    fn motion_is_looked_at_at_the_profiles_rate() {
        let rule = SamplingRule::adaptive(Profile::Fast);
        // One cell brightens steadily (a person moving through it): every third of a second.
        let moving = chosen(rule, 2, 300, |i| {
            let mut g = vec![100; CELLS];
            g[40] = (100 + i * 2).min(255) as u8;
            g
        });
        assert_eq!(moving, vec![0, 10, 20, 30, 40, 50]);
        // The uniform rule takes every candidate whatever the picture.
        assert_eq!(chosen(SamplingRule::uniform(rule.interval), 2, 300, |_| vec![100; CELLS]), moving);
    }

    #[test]
    fn a_cut_is_looked_at_at_once_and_each_chunk_starts_afresh() {
        let rule = SamplingRule::adaptive(Profile::Fast);
        // A new picture from frame 45: detected at the next candidate (50), then still again.
        let cut = chosen(rule, 3, 300, |i| vec![if i < 45 { 100 } else { 30 }; CELLS]);
        assert_eq!(cut, vec![0, 30, 50, 80]);
        // Chunks of 40 frames: each chunk's first candidate is detected, whatever came before.
        let chunks = chosen(rule, 3, 40, |_| vec![100; CELLS]);
        assert_eq!(chunks, vec![0, 30, 40, 70, 80]);
    }
}

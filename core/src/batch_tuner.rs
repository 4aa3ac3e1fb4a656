//! How many frames the person detector takes per run, chosen by measuring on the user's machine.
//!
//! Batching frames (one upload, one network run, one readback for `n` frames) pays where each
//! run has a fixed cost to amortise (GPU dispatches and the readback round trip), and costs where
//! the work is already memory-bound (burn's CPU backend: measured slower per frame at 2, 4 and 8,
//! see `detect/examples/bench.rs`). Which one holds depends on the device, so the analysis tries
//! the sizes on the real frames of the job, from 1 upwards, and keeps the fastest:
//!
//! * each size's first run is a warm-up (new tensor shapes compile kernels and allocate buffers;
//!   the very first run also uploads the weights) and is not timed;
//! * the next [`TIMED_RUNS`] runs give the size's time per frame: the fastest of them, since
//!   whatever else the machine does only ever adds time (a busy machine otherwise makes a larger
//!   batch look better or worse by chance);
//! * a larger size is kept only if it is at least [`MIN_GAIN`] faster per frame than the best so
//!   far; the first size that is not stops the search.
//!
//! Every run's frames are real work: the trial costs only the difference in speed. Runs with
//! fewer frames than asked for (the end of the video) are not timed.

/// Timed runs per size, after its warm-up.
pub const TIMED_RUNS: u32 = 3;
/// A larger batch must be this much faster per frame (fraction) to be kept.
pub const MIN_GAIN: f64 = 0.1;

/// One size's measured time.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BatchTrial {
    /// Frames per run.
    pub size: u32,
    /// Wall time per frame of the fastest timed run, milliseconds.
    pub ms_per_frame: f64,
}

/// Chooses the detector's batch size while the analysis runs.
#[derive(Debug, Clone)]
pub struct BatchTuner {
    /// Sizes to try, ascending, starting at 1.
    sizes: Vec<u32>,
    /// Index in `sizes` of the size being tried (or chosen).
    stage: usize,
    /// Runs of the current size so far (the first is the warm-up).
    runs: u32,
    /// The fastest timed run of the current size so far, milliseconds per frame.
    best_ms: f64,
    trials: Vec<BatchTrial>,
    /// The size in use once the search is over.
    chosen: Option<u32>,
}

impl BatchTuner {
    /// Tries 1, 2, 4, ... up to `max` frames per run.
    pub fn new(max: u32) -> BatchTuner {
        let sizes = std::iter::successors(Some(1u32), |s| Some(s * 2)).take_while(|s| *s <= max.max(1)).collect();
        BatchTuner { sizes, stage: 0, runs: 0, best_ms: f64::INFINITY, trials: Vec::new(), chosen: None }
    }

    /// Always `size` frames per run (tests and benchmarks).
    pub fn fixed(size: u32) -> BatchTuner {
        let size = size.max(1);
        BatchTuner {
            sizes: vec![size],
            stage: 0,
            runs: 0,
            best_ms: f64::INFINITY,
            trials: Vec::new(),
            chosen: Some(size),
        }
    }

    /// How many frames the next run should take.
    pub fn next_size(&self) -> u32 {
        self.chosen.unwrap_or(self.sizes[self.stage])
    }

    /// The size chosen, once the search is over.
    pub fn chosen(&self) -> Option<u32> {
        self.chosen
    }

    /// The sizes measured so far, in the order tried.
    pub fn trials(&self) -> &[BatchTrial] {
        &self.trials
    }

    /// A run of `frames` frames took `ms` milliseconds of wall time.
    pub fn record(&mut self, frames: u32, ms: f64) {
        if self.chosen.is_some() || frames != self.next_size() {
            return;
        }
        self.runs += 1;
        if self.runs == 1 {
            return; // warm-up
        }
        self.best_ms = self.best_ms.min(ms / frames as f64);
        if self.runs < 1 + TIMED_RUNS {
            return;
        }
        let trial = BatchTrial { size: self.sizes[self.stage], ms_per_frame: self.best_ms };
        let best = self.trials.iter().copied().min_by(|a, b| a.ms_per_frame.total_cmp(&b.ms_per_frame));
        self.trials.push(trial);
        let better = best.is_none_or(|b| trial.ms_per_frame < b.ms_per_frame * (1.0 - MIN_GAIN));
        if better && self.stage + 1 < self.sizes.len() {
            self.stage += 1;
            (self.runs, self.best_ms) = (0, f64::INFINITY);
        } else {
            self.chosen = Some(if better { trial.size } else { best.map_or(trial.size, |b| b.size) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds the tuner runs timed by `ms_per_frame(size)` until it chooses; returns the choice
    /// and how many frames went through.
    fn tune(max: u32, ms_per_frame: impl Fn(u32) -> f64) -> (u32, u32) {
        let mut t = BatchTuner::new(max);
        let mut frames = 0;
        while t.chosen().is_none() {
            let n = t.next_size();
            t.record(n, ms_per_frame(n) * n as f64);
            frames += n;
            assert!(frames < 1000, "the search must end");
        }
        (t.chosen().unwrap(), frames)
    }

    #[test]
    fn keeps_one_frame_when_batches_are_slower_per_frame() {
        // burn's CPU backend natively: 34, 45, 43, 57 ms per frame at 1, 2, 4, 8.
        let (size, frames) = tune(8, |n| [34.0, 45.0, 43.0, 57.0][n.trailing_zeros() as usize]);
        assert_eq!(size, 1);
        assert_eq!(frames, 4 + 4 * 2, "stops after the first size that does not pay");
    }

    #[test]
    fn grows_while_it_pays_and_stops_at_the_first_that_does_not() {
        // A fixed 20 ms per run plus 5 ms per frame: 25, 15, 10, 7.5 ms per frame.
        let (size, _) = tune(8, |n| 20.0 / n as f64 + 5.0);
        assert_eq!(size, 8);
        // Same, but 8 no longer gains 10 % over 4.
        let (size, _) = tune(8, |n| if n == 8 { 9.5 } else { 20.0 / n as f64 + 5.0 });
        assert_eq!(size, 4);
    }

    #[test]
    fn warm_up_runs_and_short_runs_are_not_timed() {
        let mut t = BatchTuner::new(2);
        t.record(1, 5000.0); // first run: weights upload, shader compilation
        t.record(1, 10.0);
        t.record(1, 30.0); // something else ran meanwhile
        t.record(1, 11.0);
        assert_eq!(t.trials(), &[BatchTrial { size: 1, ms_per_frame: 10.0 }]);
        assert_eq!(t.next_size(), 2);
        t.record(1, 1.0); // the end of a run of chunks: fewer frames than asked for
        t.record(2, 900.0); // warm-up of the new shape
        t.record(2, 12.0);
        t.record(2, 40.0);
        t.record(2, 13.0);
        assert_eq!(t.chosen(), Some(2));
        assert_eq!(t.trials()[1], BatchTrial { size: 2, ms_per_frame: 6.0 });
        t.record(2, 1e6); // after the choice nothing changes
        assert_eq!(t.chosen(), Some(2));
    }

    #[test]
    fn fixed_and_degenerate_limits() {
        assert_eq!(BatchTuner::fixed(4).next_size(), 4);
        assert_eq!(BatchTuner::fixed(0).next_size(), 1);
        let t = BatchTuner::new(1);
        assert_eq!(t.next_size(), 1);
        let (size, _) = tune(1, |_| 3.0);
        assert_eq!(size, 1);
        let (size, _) = tune(0, |_| 3.0);
        assert_eq!(size, 1);
    }
}

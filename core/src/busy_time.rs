//! Wall time with at least one run going, from runs that may overlap (the detector's runs in
//! helper workers): the time the analysis spent detecting, whatever the number of helpers.

/// Runs are added in the order they started; each adds only the time no earlier run covered.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BusyTime {
    total_ms: f64,
    /// The latest end of a run added so far.
    until_ms: f64,
}

impl BusyTime {
    /// Adds a run from `start_ms` to `end_ms` (clock milliseconds); its start must not be before
    /// the start of a run added earlier.
    pub fn add(&mut self, start_ms: f64, end_ms: f64) {
        self.total_ms += (end_ms - start_ms.max(self.until_ms)).max(0.0);
        self.until_ms = self.until_ms.max(end_ms);
    }

    /// Milliseconds with at least one run going.
    pub fn total_ms(&self) -> f64 {
        self.total_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy(runs: &[(f64, f64)]) -> f64 {
        let mut b = BusyTime::default();
        for &(s, e) in runs {
            b.add(s, e);
        }
        b.total_ms()
    }

    #[test]
    fn runs_one_after_another_add_up() {
        assert_eq!(busy(&[(0.0, 10.0), (10.0, 15.0), (20.0, 30.0)]), 25.0);
    }

    #[test]
    fn overlapping_runs_count_once() {
        // Two helpers: 0-10 and 2-12, then 11-20 (starts while the second still runs).
        assert_eq!(busy(&[(0.0, 10.0), (2.0, 12.0), (11.0, 20.0)]), 20.0);
    }

    #[test]
    fn a_run_inside_another_adds_nothing() {
        assert_eq!(busy(&[(0.0, 10.0), (3.0, 7.0), (4.0, 12.0)]), 12.0);
    }

    #[test]
    fn starts_at_the_first_run_not_at_zero() {
        assert_eq!(busy(&[(1000.0, 1080.0), (1100.0, 1180.0)]), 160.0);
    }
}

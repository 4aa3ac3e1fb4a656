//! Switches for tests and benchmarks, set in the page's URL query (`?decode_only=1&chunk_s=2`)
//! and by `tests/process-headless`. They change how a job runs, never what it makes, so they
//! travel next to the job's settings (`ToWorker::Start::test_aids`), are never stored with the
//! job, and never reach a stored key.

use crate::units::DurationUs;
use serde::{Deserialize, Serialize};

/// Where the person detector should run. `Auto` picks WebGPU on a hardware adapter and the CPU
/// otherwise (a software WebGPU adapter such as SwiftShader is slower than the CPU backend).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DetectorBackend {
    #[default]
    Auto,
    Webgpu,
    Cpu,
}

/// Where sampled frames are scaled to the detector's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Preprocess {
    /// On the detector's device when that is a hardware GPU, else on the CPU.
    #[default]
    Auto,
    /// In Rust on the CPU, from the frame's copied planes (`frame_scale`).
    Cpu,
    /// As tensor ops on the detector's device from the frame's planes (`reframe_detect::planes`),
    /// whatever that device is.
    Gpu,
}

/// Every test and benchmark switch, parsed once from the page's query ([`TestAids::from_query`]).
/// The default is what a user gets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct TestAids {
    /// `?decode_only=1`: decode every frame and stop (no crop, encode or output).
    #[serde(default)]
    pub decode_only: bool,
    /// `?detector=webgpu|cpu`: where the detector runs.
    #[serde(default)]
    pub detector: DetectorBackend,
    /// `?preprocess=cpu|gpu`: where sampled frames are scaled for the detector.
    #[serde(default)]
    pub preprocess: Preprocess,
    /// `?chunk_s=N`: seconds of video per stored chunk, instead of `resume::CHUNK_DURATION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_seconds: Option<f64>,
    /// `?detect_batch=N` (1 to 64): frames per detector run, instead of measuring the sizes on
    /// this machine and keeping the fastest (`batch_tuner`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detect_batch: Option<u32>,
    /// `?detect_workers=N` (1 to 16): detector workers running the CPU detector side by side.
    /// Unset: [`default_detector_workers`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detect_workers: Option<u32>,
    /// `?crash_detector_worker_at=N`: the helper worker given this detection request (0-based,
    /// counted over the analysis) crashes while running it, to check that the analysis
    /// replaces the helper and still finds every frame's people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash_detector_worker_at: Option<u32>,
}

impl TestAids {
    /// Reads the switches from a URL query (`location.search`, with or without its `?`).
    /// Unknown names and values out of range are ignored: the page then runs as for a user.
    pub fn from_query(query: &str) -> TestAids {
        let mut aids = TestAids::default();
        for pair in query.trim_start_matches('?').split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match name {
                "decode_only" => aids.decode_only = value == "1",
                "detector" => {
                    aids.detector = match value {
                        "webgpu" => DetectorBackend::Webgpu,
                        "cpu" => DetectorBackend::Cpu,
                        _ => DetectorBackend::Auto,
                    }
                }
                "preprocess" => {
                    aids.preprocess = match value {
                        "cpu" => Preprocess::Cpu,
                        "gpu" => Preprocess::Gpu,
                        _ => Preprocess::Auto,
                    }
                }
                "chunk_s" => aids.chunk_seconds = value.parse::<f64>().ok().filter(|v| v.is_finite() && *v > 0.0),
                "detect_batch" => aids.detect_batch = value.parse::<u32>().ok().filter(|v| (1..=64).contains(v)),
                "detect_workers" => aids.detect_workers = value.parse::<u32>().ok().filter(|v| (1..=16).contains(v)),
                "crash_detector_worker_at" => aids.crash_detector_worker_at = value.parse::<u32>().ok(),
                _ => {}
            }
        }
        aids
    }

    /// Video per stored chunk.
    pub fn chunk_duration(&self) -> Option<DurationUs> {
        self.chunk_seconds.map(DurationUs::from_seconds)
    }

    /// How many detector workers run the CPU detector: `detect_workers` when set, else
    /// [`default_detector_workers`] for this machine.
    pub fn detector_workers(&self, hardware_concurrency: u32, device_memory_gb: Option<f64>) -> u32 {
        self.detect_workers.unwrap_or_else(|| default_detector_workers(hardware_concurrency, device_memory_gb))
    }
}

/// How many detector workers run the CPU detector by default: one per core the browser reports,
/// at most 4, at least one. Each holds its own copy of the model and its working memory
/// (measured: about 90 MB with FAST, 145 MB with QUALITY), so a device that reports little
/// memory (`navigator.deviceMemory`, GB, rounded down by the browser; Chromium only) gets one
/// per 2 GB (and one below 4 GB).
pub fn default_detector_workers(hardware_concurrency: u32, device_memory_gb: Option<f64>) -> u32 {
    let by_memory =
        device_memory_gb.filter(|gb| gb.is_finite() && *gb > 0.0).map_or(u32::MAX, |gb| (gb / 2.0).floor() as u32);
    hardware_concurrency.min(4).min(by_memory).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_query_is_what_a_user_gets() {
        assert_eq!(TestAids::from_query(""), TestAids::default());
        assert_eq!(TestAids::from_query("?"), TestAids::default());
        assert_eq!(TestAids::from_query("?mode=auto&x"), TestAids::default());
    }

    #[test]
    fn every_switch_is_read() {
        let q = "?decode_only=1&detector=cpu&preprocess=gpu&chunk_s=2.5&detect_batch=4&detect_workers=1\
                 &crash_detector_worker_at=3";
        let a = TestAids::from_query(q);
        assert_eq!(
            a,
            TestAids {
                decode_only: true,
                detector: DetectorBackend::Cpu,
                preprocess: Preprocess::Gpu,
                chunk_seconds: Some(2.5),
                detect_batch: Some(4),
                detect_workers: Some(1),
                crash_detector_worker_at: Some(3),
            }
        );
        assert_eq!(a.chunk_duration(), Some(DurationUs(2_500_000)));
        assert_eq!(TestAids::from_query("detector=webgpu&preprocess=cpu").detector, DetectorBackend::Webgpu);
        assert_eq!(TestAids::from_query("detector=webgpu&preprocess=cpu").preprocess, Preprocess::Cpu);
        // The crash switch does not set the detector.
        assert_eq!(TestAids::from_query("crash_detector_worker_at=1").detector, DetectorBackend::Auto);
    }

    #[test]
    fn values_out_of_range_are_ignored() {
        let a = TestAids::from_query(
            "decode_only=0&chunk_s=-1&detect_batch=0&detect_workers=17&detect_workers=0&crash_detector_worker_at=x",
        );
        assert_eq!(a, TestAids::default());
        assert_eq!(TestAids::from_query("chunk_s=NaN").chunk_seconds, None);
        assert_eq!(TestAids::from_query("detect_batch=65").detect_batch, None);
        assert_eq!(TestAids::from_query("detect_batch=64").detect_batch, Some(64));
    }

    #[test]
    fn detector_workers_one_per_core_up_to_four_at_least_one() {
        let got: Vec<u32> = [0, 1, 2, 3, 4, 8, 64].iter().map(|&cores| default_detector_workers(cores, None)).collect();
        assert_eq!(got, vec![1, 1, 2, 3, 4, 4, 4]);
        // Little memory: one per 2 GB (the browser reports 0.25 to 8).
        let got: Vec<u32> =
            [0.25, 1.0, 2.0, 4.0, 8.0].iter().map(|&gb| default_detector_workers(8, Some(gb))).collect();
        assert_eq!(got, vec![1, 1, 1, 2, 4]);
        assert_eq!(default_detector_workers(2, Some(8.0)), 2, "the cores still limit");
        assert_eq!(default_detector_workers(4, Some(f64::NAN)), 4, "an unreadable figure is ignored");
        let fixed = TestAids { detect_workers: Some(1), ..TestAids::default() };
        assert_eq!(fixed.detector_workers(8, None), 1);
        assert_eq!(TestAids::default().detector_workers(8, None), 4);
    }
}

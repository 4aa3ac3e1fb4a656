//! How long re-planning takes (a new ratio, camera style, subject, two-people choice or pin),
//! natively, for 1, 10 and 60 minutes of analysis: synthetic detections at 3 analysed frames a
//! second of a 1920x1080 30 fps video, a cut every 8 s, two to four people walking per shot. The
//! tracker runs once (as when the analysis finishes); each figure after it is a re-plan from the
//! stored tracks, including one crop window per output frame. A second table times what the
//! page's editor does: read the analysis JSON, open the editor (plan), one edit (pin, follow:
//! each re-plans) and the timeline's 1000 columns.
//!
//! ```sh
//! cargo run --release -p reframe-core --example plan_bench
//! ```

use reframe_core::analysis::{Analysis, Edits};
use reframe_core::camera_path::{CameraSettings, Pin, Smoothness};
use reframe_core::editor::Editor;
use reframe_core::layout::TwoPeople;
use reframe_core::synthetic::long_detections;
use reframe_core::timeline;
use reframe_core::units::{AspectRatio, PixelSize, TimestampUs};
use std::time::Instant;

const FPS: f64 = 30.0;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let source = PixelSize::new(1920, 1080);
    println!(
        "{:>8} {:>9} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "video", "samples", "frames", "track ms", "plan ms", "+ratio ms", "+split ms", "+3 pins ms"
    );
    let mut analyses = Vec::new();
    for minutes in [1.0, 10.0, 60.0] {
        let (detections, cuts) = long_detections(minutes);
        let frames: Vec<TimestampUs> =
            (0..(minutes * 60.0 * FPS) as i64).map(|i| TimestampUs((i as f64 * 1e6 / FPS).round() as i64)).collect();
        let samples = detections.len();
        let t = Instant::now();
        let mut analysis = Analysis::new(source, detections, cuts);
        let track_ms = ms(t);
        let base = CameraSettings::new(AspectRatio::PORTRAIT_9_16, Smoothness::Balanced);
        let mut time = |settings: &CameraSettings, pins: &[Pin]| {
            let t = Instant::now();
            let path = analysis.crop_path(settings, pins, &frames);
            assert_eq!(path.len(), frames.len());
            ms(t)
        };
        let plan_ms = time(&base, &[]);
        let ratio_ms = time(&CameraSettings { ratio: AspectRatio::new(4, 5).unwrap(), ..base }, &[]);
        let split_ms = time(&CameraSettings { two_people: TwoPeople::Split, ..base }, &[]);
        let pins: Vec<Pin> = [0.2, 0.5, 0.8]
            .iter()
            .map(|f| Pin { t_us: TimestampUs((minutes * 60e6 * f) as i64), x: 300, y: 0 })
            .collect();
        let pins_ms = time(&base, &pins);
        println!(
            "{:>6.0} m {samples:>9} {:>8} {track_ms:>10.1} {plan_ms:>10.1} {ratio_ms:>10.1} {split_ms:>10.1} {pins_ms:>10.1}",
            minutes,
            frames.len()
        );
        analyses.push((minutes, analysis));
    }
    println!();
    println!(
        "{:>8} {:>9} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "editor", "JSON MB", "read ms", "open ms", "pin ms", "follow ms", "timeline ms"
    );
    for (minutes, analysis) in analyses {
        let json = analysis.to_json().expect("serialises");
        let t = Instant::now();
        let read = Analysis::from_json(&json).expect("reads back");
        let read_ms = ms(t);
        let base = CameraSettings::new(AspectRatio::PORTRAIT_9_16, Smoothness::Balanced);
        let t = Instant::now();
        let mut editor = Editor::new(read, base, Edits::default());
        let open_ms = ms(t);
        let middle = TimestampUs((minutes * 30e6) as i64);
        let t = Instant::now();
        assert!(editor.pin(middle, 700.0, 0.0));
        let pin_ms = ms(t);
        let someone = editor.analysis().people().first().map(|p| p.track_id);
        let t = Instant::now();
        editor.follow(someone);
        let follow_ms = ms(t);
        let t = Instant::now();
        let columns = timeline::columns(editor.analysis(), editor.plan(), (minutes * 60e6) as i64, 1000);
        let timeline_ms = ms(t);
        assert_eq!(columns.len(), 1000);
        println!(
            "{:>6.0} m {:>9.1} {read_ms:>10.1} {open_ms:>10.1} {pin_ms:>10.1} {follow_ms:>10.1} {timeline_ms:>12.1}",
            minutes,
            json.len() as f64 / 1e6
        );
    }
}

//! Writes the analysis file (JSON, as "Export analysis" saves it) of a synthetic 1920x1080 video
//! of MINUTES minutes (`reframe_core::synthetic::long_detections`), for `tests/bench-editor`,
//! which imports it into the page to time the editor on a long video.
//!
//! ```sh
//! cargo run --release -p reframe-core --example long_analysis -- 60 /tmp/analysis-60m.json
//! ```

use reframe_core::analysis::Analysis;
use reframe_core::synthetic::long_detections;
use reframe_core::units::PixelSize;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(minutes), Some(out)) = (args.first().and_then(|m| m.parse::<f64>().ok()), args.get(1)) else {
        eprintln!("usage: long_analysis MINUTES OUT.json");
        std::process::exit(2);
    };
    let (detections, cuts) = long_detections(minutes);
    let analysis = Analysis::new(PixelSize::new(1920, 1080), detections, cuts);
    let json = analysis.to_json().expect("an analysis serialises");
    std::fs::write(out, &json).unwrap_or_else(|e| panic!("cannot write {out}: {e}"));
    println!(
        "{out}: {} analysed frames, {} tracks, {:.1} MB",
        analysis.detections.len(),
        analysis.tracks.len(),
        json.len() as f64 / 1e6
    );
}

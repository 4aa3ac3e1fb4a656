//! Prints the camera path metrics of the planner and of the naive baseline on the synthetic
//! scenes (ground truth known), for each smoothness.
//!
//! Run: `cargo run --release -p reframe-core --example camera_eval [ratio] [smoothness]`
//! e.g. `... --example camera_eval 9:16 balanced` (defaults: 9:16, all three smoothness settings).
//!
//! Cuts are detected from frames rendered at 192x108 (not taken from the scene), so shot detection
//! is part of what is measured. Columns: share of frames with the subject fully inside the crop;
//! share of still frame steps; mean |acceleration| of the crop centre in px/frame^2, frame by frame
//! and over 5 frames, and the largest 5-frame value; direction reversals per minute (see
//! `reframe_core::camera_eval`). The "mean" row averages the scenes (max for "max 5f").

use reframe_core::camera_eval::Metrics;
use reframe_core::camera_path::{CameraSettings, Smoothness};
use reframe_core::synthetic::{run_scene, standard_scenes};
use reframe_core::units::{AspectRatio, PixelSize};

fn row(scene: &str, who: &str, m: &Metrics) {
    println!(
        "{:<12} {:<9} {:>8.2}% {:>8.1}% {:>10.3} {:>10.3} {:>10.2} {:>9.1}",
        scene,
        who,
        100.0 * m.subject_inside,
        100.0 * m.still_share,
        m.mean_abs_accel,
        m.mean_abs_accel_5f,
        m.max_abs_accel_5f,
        m.reversals_per_minute
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let ratio = args.get(1).and_then(|a| AspectRatio::parse(a)).unwrap_or(AspectRatio::PORTRAIT_9_16);
    let smoothness: Vec<Smoothness> = match args.get(2).and_then(|a| Smoothness::parse(a)) {
        Some(s) => vec![s],
        None => vec![Smoothness::Calm, Smoothness::Balanced, Smoothness::Responsive],
    };
    for s in smoothness {
        let settings = CameraSettings::new(ratio, s);
        println!("\nratio {ratio}, smoothness {s:?}");
        println!(
            "{:<12} {:<9} {:>9} {:>9} {:>10} {:>10} {:>10} {:>9}",
            "scene", "path", "inside", "still", "|acc|", "|acc| 5f", "max 5f", "rev/min"
        );
        let (mut sum_p, mut sum_b, mut n) = (Metrics::default(), Metrics::default(), 0.0);
        for scene in standard_scenes() {
            let run = run_scene(&scene, &settings, 7, Some(PixelSize::new(192, 108)));
            if run.cuts != scene.cuts() {
                println!("{:<12} cuts detected {:?}, expected {:?}", scene.name, run.cuts, scene.cuts());
            }
            row(scene.name, "planner", &run.planner_metrics);
            row("", "baseline", &run.baseline_metrics);
            for (sum, m) in [(&mut sum_p, &run.planner_metrics), (&mut sum_b, &run.baseline_metrics)] {
                sum.subject_inside += m.subject_inside;
                sum.still_share += m.still_share;
                sum.mean_abs_accel += m.mean_abs_accel;
                sum.mean_abs_accel_5f += m.mean_abs_accel_5f;
                sum.max_abs_accel_5f = sum.max_abs_accel_5f.max(m.max_abs_accel_5f);
                sum.reversals_per_minute += m.reversals_per_minute;
            }
            n += 1.0;
        }
        for m in [&mut sum_p, &mut sum_b] {
            m.subject_inside /= n;
            m.still_share /= n;
            m.mean_abs_accel /= n;
            m.mean_abs_accel_5f /= n;
            m.reversals_per_minute /= n;
        }
        row("mean", "planner", &sum_p);
        row("", "baseline", &sum_b);
    }
}

//! Prints the shot cuts `reframe_core::shots` finds in a video, for checking the shot detector on
//! real footage without the browser or a person detector:
//!
//! ```sh
//! ffmpeg -v error -i IN.mp4 -pix_fmt gray -f rawvideo - | cargo run -p reframe-core --example cuts -- W H FPS
//! ```
//!
//! W x H is the video's size, FPS its frame rate (frame n is at n / FPS seconds).

use reframe_core::shots::{FrameStats, ShotConfig, ShotDetector};
use reframe_core::units::TimestampUs;
use std::io::Read;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [w, h, fps] = args.as_slice() else {
        eprintln!("usage: ffmpeg -i IN -pix_fmt gray -f rawvideo - | cuts W H FPS");
        std::process::exit(2);
    };
    let (w, h): (u32, u32) = (w.parse().expect("width"), h.parse().expect("height"));
    let fps: f64 = fps.parse().expect("fps");
    let mut frame = vec![0u8; (w * h) as usize];
    let mut input = std::io::stdin().lock();
    let mut detector = ShotDetector::new(ShotConfig::default());
    let mut n = 0u64;
    while input.read_exact(&mut frame).is_ok() {
        let t = TimestampUs((n as f64 * 1e6 / fps).round() as i64);
        detector.push(FrameStats::from_luma(t, &frame, w, h, w).expect("a luma plane"));
        n += 1;
    }
    let cuts = detector.finish();
    println!("{n} frames, {} cuts", cuts.len());
    for c in cuts {
        println!("  cut at frame {:.0} ({:.2} s)", c.0 as f64 * fps / 1e6, c.0 as f64 / 1e6);
    }
}

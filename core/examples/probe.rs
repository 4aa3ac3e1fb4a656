//! Prints what Reframe reads of a video file: container, codec, size, frames, sound, and the
//! notices the page would show (a silent output, a file cut short, damaged parts skipped).
//!
//!   cargo run -p reframe-core --example probe -- FILE...

use reframe_core::demux::read_movie;

fn main() {
    for path in std::env::args().skip(1) {
        let mut bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                println!("{path}: {e}");
                continue;
            }
        };
        match read_movie(&mut bytes) {
            Err(e) => println!("{path}: [{}] {e}", e.code()),
            Ok(m) => {
                let v = &m.video;
                let keys = v.samples.iter().filter(|s| s.keyframe).count();
                println!(
                    "{path}: {} · {} {} · {} frames ({keys} keyframes) · {:.3} s · {}",
                    m.container,
                    v.config.codec,
                    v.display_size(),
                    v.shown_frames(),
                    m.video_duration().0 as f64 / 1e6,
                    match (&m.audio, &m.audio_to_encode) {
                        (Some(a), _) => format!("{} ({} packets at {} Hz)", a.codec_name, a.samples.len(), a.timescale),
                        (None, Some(a)) => format!("{} to encode again ({} packets)", a.codec_name, a.samples.len()),
                        (None, None) => "no sound".to_string(),
                    },
                );
                for n in &m.notices {
                    println!("  notice: {n}");
                }
            }
        }
    }
}

//! What the demux/mux tests share: the fixtures, copying a file's samples into an MP4 with
//! `Mp4Writer` (as the worker does, audio interleaved by time), and ffmpeg's view of a file.

#![allow(dead_code)] // each test file uses part of it

use reframe_core::demux::{read_movie, ByteSource, Movie, Sample};
use reframe_core::mux::{AudioSpec, Mp4Writer, VideoEncoding, VideoSpec};
use reframe_core::units::ticks_to_us;
use std::path::{Path, PathBuf};

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = fixture_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn movie(name: &str) -> (Movie, Vec<u8>) {
    let mut bytes = fixture(name);
    let m = read_movie(&mut bytes).unwrap_or_else(|e| panic!("demux {name}: {e}"));
    (m, bytes)
}

/// Reads one sample's bytes.
pub fn sample_bytes(src: &mut Vec<u8>, s: &Sample) -> Vec<u8> {
    let mut buf = vec![0u8; s.size as usize];
    src.read_at(s.offset, &mut buf).unwrap();
    buf
}

/// The writer's video encoding for the source's own codec (the samples are copied, not coded).
fn encoding_of(m: &Movie) -> VideoEncoding {
    let c = &m.video.config;
    let field = |i: usize| c.codec.split('.').nth(i).and_then(|f| f.parse::<u8>().ok()).unwrap();
    match c.codec.split('.').next().unwrap() {
        "avc1" | "avc3" => VideoEncoding::Avc { avcc: c.description.clone().unwrap() },
        "vp09" => VideoEncoding::Vp9 { profile: field(1), level: field(2), bit_depth: field(3) },
        "av01" => VideoEncoding::Av1 { av1c: c.description.clone().unwrap() },
        other => panic!("no copy for {other}"),
    }
}

/// Copies every video sample (and the audio, interleaved by time) into a new MP4.
pub fn copy_to_mp4(m: &Movie, bytes: &mut Vec<u8>) -> Vec<u8> {
    let v = &m.video;
    let audio = m.audio.as_ref().map(|a| AudioSpec {
        sample_entry: a.sample_entry.clone(),
        edts: a.edts.clone(),
        timescale: a.timescale,
        language: a.language.clone(),
    });
    let spec = VideoSpec { size: v.coded_size, rotation: v.rotation, timescale: v.timescale };
    let mut w = Mp4Writer::new(Vec::new(), m.movie_timescale, spec, audio).unwrap();
    w.set_video_encoding(encoding_of(m));
    let mut audio_iter = m.audio.as_ref().map(|a| a.samples.iter().peekable());
    for s in &v.samples {
        let pts = v.presentation_time(s);
        if let (Some(it), Some(a)) = (audio_iter.as_mut(), m.audio.as_ref()) {
            while let Some(asmp) = it.next_if(|x| ticks_to_us(x.dts, a.timescale) <= pts.0 + 500_000) {
                w.push_audio(&sample_bytes(bytes, asmp), asmp.dts, asmp.duration).unwrap();
            }
        }
        let dur = ticks_to_us(s.duration as i64, v.timescale);
        w.push_video(&sample_bytes(bytes, s), pts, dur, s.keyframe).unwrap();
    }
    for asmp in audio_iter.into_iter().flatten() {
        w.push_audio(&sample_bytes(bytes, asmp), asmp.dts, asmp.duration).unwrap();
    }
    let (out, len) = w.finish().unwrap();
    assert_eq!(out.len() as u64, len);
    out
}

pub fn has_ffmpeg() -> bool {
    let found = std::process::Command::new("ffmpeg").arg("-version").output().is_ok();
    if !found {
        eprintln!("ffmpeg not installed; skipping");
    }
    found
}

/// ffmpeg's decoded frames of one stream ("v" or "a"): (timestamp in its time base, md5).
pub fn decoded_frames(path: &Path, stream: &str) -> Vec<(i64, String)> {
    let o = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-map", &format!("0:{stream}"), "-f", "framemd5", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            (f[2].parse().unwrap(), f[5].to_string())
        })
        .collect()
}

/// A scratch file for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("reframe-core-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

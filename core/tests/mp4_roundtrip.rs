//! Demux of small fixture files made by ffmpeg (see fixtures/README.md), and a mux round trip:
//! copying a file's samples through `Mp4Writer` and reading the result back.

mod common;

use common::{copy_to_mp4, decoded_frames, fixture, fixture_path, has_ffmpeg, movie, scratch};
use reframe_core::demux::{read_movie, Movie};
use reframe_core::units::{PixelSize, Rotation, TimestampUs};
use reframe_core::ReframeError;

#[test]
fn bframes_file_has_all_frames_in_presentation_order() {
    let (m, _) = movie("bframes_aac.mp4");
    let v = &m.video;
    assert!(v.config.codec.starts_with("avc1.64"), "{}", v.config.codec);
    assert!(v.config.description.as_ref().is_some_and(|d| d[0] == 1), "avcC record");
    assert_eq!(v.coded_size, PixelSize::new(160, 90));
    assert_eq!(v.rotation, Rotation::R0);
    // ffprobe -count_frames says 60.
    assert_eq!(v.shown_frames(), 60);
    // B-frames: decode order differs from presentation order, and the edit list makes the first
    // shown frame start at 0.
    let pts: Vec<i64> = v.samples.iter().map(|s| v.presentation_time(s).0).collect();
    assert!(pts.windows(2).any(|w| w[1] < w[0]), "expected reordered frames");
    let ts = v.shown_timestamps();
    assert_eq!(ts[0], TimestampUs(0));
    for (i, t) in ts.iter().enumerate() {
        let expected = (i as f64 * 1e6 / 30.0).round() as i64;
        assert!((t.0 - expected).abs() <= 1, "frame {i}: {} vs {expected}", t.0);
    }
    let d = m.video_duration().0;
    assert!((d - 2_000_000).abs() <= 1, "duration {d}");
    let a = m.audio.as_ref().expect("audio track");
    assert_eq!(a.samples.len(), 95); // ffprobe -count_packets; 94 decoded after priming
    assert!(a.codec_name.contains("AAC"));
}

#[test]
fn hevc_is_read_with_its_codec_string_and_hvcc() {
    // Made by libx265 (Main profile) with the `hvc1` tag, as phones write HEVC in MOV/MP4.
    let (m, _) = movie("hevc.mp4");
    let v = &m.video;
    // RFC 6381 / ISO 14496-15 E.3: hvc1.<profile>.<compatibility>.<tier><level>[.<constraints>].
    assert!(v.config.codec.starts_with("hvc1.1.6.L"), "{}", v.config.codec);
    // The hvcC body, which VideoDecoder takes as its description: configurationVersion 1,
    // then profile space/tier/profile (Main = 1).
    let hvcc = v.config.description.as_ref().expect("hvcC record");
    assert_eq!(hvcc[0], 1);
    assert_eq!(hvcc[1] & 0x1f, 1);
    assert_eq!(v.coded_size, PixelSize::new(160, 90));
    // ffprobe -count_frames says 6.
    assert_eq!(v.shown_frames(), 6);
    assert!(m.audio.is_none());
}

#[test]
fn rotation_metadata_is_read() {
    let (m, _) = movie("rotated.mp4");
    // Made with ffmpeg 5.1 `-metadata:s:v rotate=270`, which writes the matrix (0,1,-1,0) phones
    // write for portrait video (ffprobe: rotation=-90): shown turned a quarter clockwise.
    assert_eq!(m.video.rotation, Rotation::R90);
    assert_eq!(m.video.display_size(), PixelSize::new(90, 160));
}

#[test]
fn variable_frame_rate_keeps_each_timestamp() {
    let (m, _) = movie("vfr.mp4");
    let ts = m.video.shown_timestamps();
    assert_eq!(ts.len(), 59);
    let gaps: Vec<i64> = ts.windows(2).map(|w| w[1].0 - w[0].0).collect();
    let min = *gaps.iter().min().unwrap();
    let max = *gaps.iter().max().unwrap();
    assert!(max > min + 10_000, "expected uneven frame gaps, got {min}..{max}");
}

#[test]
fn truncated_files_are_reported_not_panicking() {
    let full = fixture("bframes_aac.mp4");
    for cut in [full.len() / 2, full.len() - 10, 40, 9] {
        let mut part = full[..cut].to_vec();
        match read_movie(&mut part) {
            Err(ReframeError::Corrupt(msg)) => assert!(!msg.is_empty()),
            other => panic!("cut at {cut}: expected Corrupt, got {other:?}"),
        }
    }
}

fn copy_through_writer(name: &str) -> (Movie, Movie) {
    let (m, mut bytes) = movie(name);
    let mut out = copy_to_mp4(&m, &mut bytes);
    let back = read_movie(&mut out).expect("read back our own MP4");
    (m, back)
}

#[test]
fn writer_round_trip_keeps_frames_timing_and_audio() {
    for name in ["bframes_aac.mp4", "rotated.mp4", "vfr.mp4"] {
        let (src, out) = copy_through_writer(name);
        assert_eq!(out.video.shown_frames(), src.video.shown_frames(), "{name}");
        assert_eq!(out.video.shown_timestamps(), src.video.shown_timestamps(), "{name}");
        assert_eq!(out.video.rotation, src.video.rotation, "{name}");
        assert_eq!(out.video.coded_size, src.video.coded_size);
        assert_eq!(out.video_duration(), src.video_duration(), "{name}");
        let keys_src = src.video.samples.iter().filter(|s| s.keyframe).count();
        let keys_out = out.video.samples.iter().filter(|s| s.keyframe).count();
        assert_eq!(keys_src, keys_out);
        match (&src.audio, &out.audio) {
            (Some(a), Some(b)) => {
                assert_eq!(a.samples.len(), b.samples.len());
                assert_eq!(a.edts, b.edts);
                assert_eq!(a.sample_entry, b.sample_entry);
                let da: Vec<_> = a.samples.iter().map(|s| (s.dts, s.duration, s.size)).collect();
                let db: Vec<_> = b.samples.iter().map(|s| (s.dts, s.duration, s.size)).collect();
                assert_eq!(da, db);
            }
            (None, None) => {}
            _ => panic!("{name}: audio presence changed"),
        }
    }
}

/// ffmpeg, when installed, must decode our file to the same frames as the source.
#[test]
fn ffmpeg_reads_our_output_identically() {
    if !has_ffmpeg() {
        return;
    }
    let (m, mut bytes) = movie("bframes_aac.mp4");
    let out_path = scratch("bframes_copy.mp4");
    std::fs::write(&out_path, copy_to_mp4(&m, &mut bytes)).unwrap();
    let md5s = |p: &std::path::Path| decoded_frames(p, "v").into_iter().map(|f| f.1).collect::<Vec<_>>();
    let a = md5s(&fixture_path("bframes_aac.mp4"));
    assert_eq!(a.len(), 60);
    assert_eq!(a, md5s(&out_path));
}

#[test]
fn fragmented_mp4_is_read_from_its_fragments() {
    let (m, _) = movie("fragmented.mp4");
    assert_eq!(m.container, "fragmented MP4");
    assert_eq!(m.video.shown_frames(), 60);
    let (plain, _) = movie("bframes_aac.mp4");
    // ffmpeg writes no edit list in a fragmented file, so its frames start 2 frames late (the
    // B-frame delay; ffprobe shows the first at 0.066667 s): the same times after that shift.
    let from_first = |mv: &Movie| {
        let ts = mv.video.shown_timestamps();
        ts.iter().map(|t| t.0 - ts[0].0).collect::<Vec<_>>()
    };
    assert_eq!(m.video.shown_timestamps()[0], TimestampUs(66_667));
    for (x, y) in from_first(&m).iter().zip(from_first(&plain)) {
        assert!((x - y).abs() <= 1, "{x} vs {y} (rounding to microseconds only)");
    }
    let keys = |mv: &Movie| mv.video.samples.iter().map(|s| s.keyframe).collect::<Vec<_>>();
    assert_eq!(keys(&m), keys(&plain));
    let (a, b) = (m.audio.as_ref().unwrap(), plain.audio.as_ref().unwrap());
    // Audio: the same packets (ffmpeg folds the AAC priming into the first fragment's first
    // duration, 3200, instead of an edit list).
    let timing = |t: &reframe_core::demux::AudioTrack| {
        t.samples.iter().skip(1).map(|s| (s.duration, s.size)).collect::<Vec<_>>()
    };
    assert_eq!(timing(a), timing(b));
    assert_eq!(a.samples[0].size, b.samples[0].size);
    // The same bytes at the offsets the fragments give.
    let (mut frag_bytes, mut plain_bytes) = (fixture("fragmented.mp4"), fixture("bframes_aac.mp4"));
    for (x, y) in m.video.samples.iter().zip(&plain.video.samples) {
        assert_eq!(common::sample_bytes(&mut frag_bytes, x), common::sample_bytes(&mut plain_bytes, y));
    }
}

#[test]
fn an_mp4_with_its_index_first_cut_short_keeps_the_part_that_is_there() {
    if !has_ffmpeg() {
        return;
    }
    let path = scratch("faststart.mp4");
    let ok = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(fixture_path("bframes_aac.mp4"))
        .args(["-c", "copy", "-movflags", "+faststart"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(ok.success());
    let full = std::fs::read(&path).unwrap();
    let mut part = full[..full.len() * 6 / 10].to_vec();
    let m = read_movie(&mut part).expect("the part before the cut");
    let n = m.video.shown_frames();
    assert!(n > 20 && n < 60, "{n} frames");
    assert!(m
        .video
        .samples
        .iter()
        .chain(&m.audio.as_ref().unwrap().samples)
        .all(|s| s.offset + s.size as u64 <= part.len() as u64));
    assert!(m.notices.iter().any(|t| t.contains("cut short") && t.contains("of its 60 frames")), "{:?}", m.notices);
}

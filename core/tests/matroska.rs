//! Matroska and WebM files made by ffmpeg (see fixtures/README.md): what the demux reads, and
//! that their samples copied into an MP4 decode (in ffmpeg) to exactly the source's pictures
//! and sound.

mod common;

use common::{copy_to_mp4, decoded_frames, fixture, fixture_path, has_ffmpeg, movie, scratch};
use reframe_core::demux::read_movie;
use reframe_core::units::PixelSize;
use reframe_core::ReframeError;

/// Copies a fixture into an MP4 and checks ffmpeg decodes the same video and audio from both.
fn copies_exactly(name: &str, audio: bool) {
    if !has_ffmpeg() {
        return;
    }
    let (m, mut bytes) = movie(name);
    let out = scratch(&format!("{name}.mp4"));
    std::fs::write(&out, copy_to_mp4(&m, &mut bytes)).unwrap();
    let md5s = |p: &std::path::Path, s| decoded_frames(p, s).into_iter().map(|f| f.1).collect::<Vec<_>>();
    let src = fixture_path(name);
    let (video_in, video_out) = (md5s(&src, "v"), md5s(&out, "v"));
    assert_eq!(video_in.len() as u64, m.video.shown_frames(), "{name}");
    assert_eq!(video_in, video_out, "{name}: video");
    if audio {
        let (mut audio_in, mut audio_out) = (md5s(&src, "a"), md5s(&out, "a"));
        assert_eq!(audio_in.len(), audio_out.len(), "{name}: audio packets");
        // The last packet may differ: WebM trims its padding (DiscardPadding), which an MP4
        // track has no place for (a few ms of silence at the end).
        audio_in.pop();
        audio_out.pop();
        assert!(!audio_in.is_empty());
        assert_eq!(audio_in, audio_out, "{name}: audio");
    }
}

#[test]
fn webm_vp9_with_opus() {
    let (m, _) = movie("vp9_opus.webm");
    assert_eq!(m.container, "WebM");
    assert_eq!(m.video.config.codec, "vp09.00.10.08");
    assert_eq!(m.video.coded_size, PixelSize::new(160, 90));
    assert_eq!(m.video.shown_frames(), 60);
    // 30 fps: 33.3 ms apart in presentation order.
    let ts = m.video.shown_timestamps();
    for w in ts.windows(2) {
        assert!((w[1].0 - w[0].0 - 33_333).abs() <= 1000, "{w:?}");
    }
    let a = m.audio.as_ref().expect("Opus is copied");
    assert_eq!(a.codec_name, "opus");
    assert_eq!(a.timescale, 48_000);
    // 20 ms packets; the edit list skips the decoder's pre-roll (312 samples).
    assert!(a.samples.iter().rev().skip(1).all(|s| s.duration == 960), "{:?}", &a.samples[..3]);
    let elst = a.edts.as_ref().and_then(|e| e.elst.as_ref()).expect("edit list");
    assert_eq!(elst.entries.last().unwrap().media_time, Some(312));
    assert!(m.notices.is_empty(), "{:?}", m.notices);
    copies_exactly("vp9_opus.webm", true);
}

#[test]
fn mkv_h264_with_b_frames_and_aac() {
    let (m, _) = movie("bframes_aac.mkv");
    assert_eq!(m.container, "Matroska");
    assert!(m.video.config.codec.starts_with("avc1.64"), "{}", m.video.config.codec);
    assert_eq!(m.video.shown_frames(), 60);
    let pts: Vec<i64> = m.video.samples.iter().map(|s| m.video.presentation_time(s).0).collect();
    assert!(pts.windows(2).any(|w| w[1] < w[0]), "B-frames are stored out of presentation order");
    assert!(m.video.samples.iter().all(|s| s.dts <= s.cts), "no frame decodes after it shows");
    let keys = m.video.samples.iter().filter(|s| s.keyframe).count();
    assert_eq!(keys, 2, "a keyframe every 30 frames");
    let a = m.audio.as_ref().expect("AAC is copied");
    assert_eq!((a.timescale, a.samples.len()), (48_000, 95));
    assert!(a.samples.iter().all(|s| s.duration == 1024));
    copies_exactly("bframes_aac.mkv", true);
}

#[test]
fn av1_in_matroska() {
    let (m, _) = movie("av1.mkv");
    assert!(m.video.config.codec.starts_with("av01.0."), "{}", m.video.config.codec);
    assert!(m.video.config.codec.ends_with(".08"));
    assert!(m.video.config.description.is_some(), "av1C from CodecPrivate");
    assert_eq!(m.video.shown_frames(), 30);
    assert!(m.audio.is_none());
    copies_exactly("av1.mkv", false);
}

#[test]
fn vorbis_sound_is_handed_over_to_be_encoded_again() {
    let (m, _) = movie("vp8_vorbis.webm");
    assert_eq!(m.video.config.codec, "vp8");
    assert_eq!(m.video.shown_frames(), 25);
    assert!(m.audio.is_none(), "Vorbis cannot be copied into an MP4");
    let a = m.audio_to_encode.as_ref().expect("Vorbis to encode again");
    assert_eq!((a.codec.as_str(), a.sample_rate, a.channels), ("vorbis", 44_100, 1));
    // Xiph-laced headers (identification, comment, setup), as WebCodecs takes them.
    let d = a.description.as_ref().expect("the three Vorbis headers");
    assert_eq!(d[0], 2);
    assert_eq!(&d[4..10], b"vorbis");
    // ffprobe -count_packets: 45 packets, in time order, in microseconds.
    assert_eq!(a.samples.len(), 45);
    assert!(a.samples.windows(2).all(|w| w[1].cts > w[0].cts));
    assert_eq!(m.notices.len(), 1);
    assert!(m.notices[0].contains("Vorbis") && m.notices[0].contains("Opus"), "{}", m.notices[0]);
}

#[test]
fn a_file_cut_short_keeps_the_frames_before_the_cut() {
    let full = fixture("vp9_opus.webm");
    for share in [0.5, 0.9] {
        let mut part = full[..(full.len() as f64 * share) as usize].to_vec();
        let m = read_movie(&mut part).unwrap_or_else(|e| panic!("cut at {share}: {e}"));
        let n = m.video.shown_frames();
        assert!(n > 10 && n < 60, "cut at {share}: {n} frames");
        assert!(m.video.samples.iter().all(|s| s.offset + s.size as u64 <= part.len() as u64));
        assert!(m.notices.iter().any(|t| t.contains("cut short")), "{:?}", m.notices);
    }
    // Cut inside the header: nothing to make.
    let mut head = full[..200].to_vec();
    assert!(matches!(read_movie(&mut head), Err(ReframeError::Corrupt(_))));
}

#[test]
fn damaged_bytes_are_skipped_to_the_next_cluster() {
    let mut bytes = fixture("vp9_opus.webm");
    // Overwrite 600 bytes a third of the way in with a pattern that is no element.
    let at = bytes.len() / 3;
    bytes[at..at + 600].fill(0x00);
    let m = read_movie(&mut bytes).expect("the rest of the file is read");
    let n = m.video.shown_frames();
    assert!((20..60).contains(&n), "{n} frames");
    assert!(m.notices.iter().any(|t| t.contains("damaged")), "{:?}", m.notices);
}

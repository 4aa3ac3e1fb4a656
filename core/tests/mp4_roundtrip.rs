//! Demux of small fixture files made by ffmpeg (see fixtures/README.md), and a mux round trip:
//! copying a file's samples through `Mp4Writer` and reading the result back.

use reframe_core::demux::{read_movie, ByteSource, Movie};
use reframe_core::mux::{AudioSpec, Mp4Writer, VideoEncoding, VideoSpec};
use reframe_core::units::{PixelSize, Rotation, TimestampUs};
use reframe_core::ReframeError;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn movie(name: &str) -> (Movie, Vec<u8>) {
    let mut bytes = fixture(name);
    let m = read_movie(&mut bytes).expect("demux");
    (m, bytes)
}

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

/// Reads every sample's bytes.
fn sample_bytes(src: &mut Vec<u8>, s: &reframe_core::demux::Sample) -> Vec<u8> {
    let mut buf = vec![0u8; s.size as usize];
    src.read_at(s.offset, &mut buf).unwrap();
    buf
}

fn copy_through_writer(name: &str) -> (Movie, Movie) {
    let (m, mut bytes) = movie(name);
    let v = &m.video;
    let audio = m.audio.as_ref().map(|a| AudioSpec {
        sample_entry: a.sample_entry.clone(),
        edts: a.edts.clone(),
        timescale: a.timescale,
        language: a.language.clone(),
    });
    let spec = VideoSpec { size: v.coded_size, rotation: v.rotation, timescale: v.timescale };
    let mut w = Mp4Writer::new(Vec::new(), m.movie_timescale, spec, audio).unwrap();
    w.set_video_encoding(VideoEncoding::Avc { avcc: v.config.description.clone().unwrap() });
    // Interleave audio by time, as the worker does.
    let mut audio_iter = m.audio.as_ref().map(|a| a.samples.iter().peekable());
    for s in &v.samples {
        let pts = v.presentation_time(s);
        if let (Some(it), Some(a)) = (audio_iter.as_mut(), m.audio.as_ref()) {
            while let Some(asmp) = it.peek() {
                if reframe_core::units::ticks_to_us(asmp.dts, a.timescale) > pts.0 + 500_000 {
                    break;
                }
                let data = sample_bytes(&mut bytes, asmp);
                w.push_audio(&data, asmp.dts, asmp.duration).unwrap();
                it.next();
            }
        }
        let data = sample_bytes(&mut bytes, s);
        let dur = reframe_core::units::ticks_to_us(s.duration as i64, v.timescale);
        w.push_video(&data, pts, dur, s.keyframe).unwrap();
    }
    if let (Some(it), Some(_)) = (audio_iter.as_mut(), m.audio.as_ref()) {
        for asmp in it {
            let data = sample_bytes(&mut bytes, asmp);
            w.push_audio(&data, asmp.dts, asmp.duration).unwrap();
        }
    }
    let (mut out, len) = w.finish().unwrap();
    assert_eq!(out.len() as u64, len);
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
    if std::process::Command::new("ffmpeg").arg("-version").output().is_err() {
        eprintln!("ffmpeg not installed; skipping");
        return;
    }
    let dir = std::env::temp_dir().join(format!("reframe-mux-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_path = dir.join("out.mp4");
    let src_path = format!("{}/tests/fixtures/bframes_aac.mp4", env!("CARGO_MANIFEST_DIR"));
    let bytes = write_copy("bframes_aac.mp4");
    std::fs::write(&out_path, bytes).unwrap();
    let md5 = |p: &str| {
        let o = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-i", p, "-map", "0:v", "-f", "framemd5", "-"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.rsplit(',').next().unwrap().trim().to_string())
            .collect::<Vec<_>>()
    };
    let a = md5(&src_path);
    let b = md5(out_path.to_str().unwrap());
    assert_eq!(a.len(), 60);
    assert_eq!(a, b);
}

fn write_copy(name: &str) -> Vec<u8> {
    let (m, mut bytes) = movie(name);
    let v = &m.video;
    let spec = VideoSpec { size: v.coded_size, rotation: v.rotation, timescale: v.timescale };
    let mut w = Mp4Writer::new(Vec::new(), m.movie_timescale, spec, None).unwrap();
    w.set_video_encoding(VideoEncoding::Avc { avcc: v.config.description.clone().unwrap() });
    for s in &v.samples {
        let data = sample_bytes(&mut bytes, s);
        let dur = reframe_core::units::ticks_to_us(s.duration as i64, v.timescale);
        w.push_video(&data, v.presentation_time(s), dur, s.keyframe).unwrap();
    }
    w.finish().unwrap().0
}

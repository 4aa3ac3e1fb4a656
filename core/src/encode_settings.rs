//! Encoder settings: which codecs to try, H.264 level, bitrate and keyframe interval.

use crate::units::{DurationUs, PixelSize};

/// Seconds between keyframes in the output.
pub const KEYFRAME_INTERVAL: DurationUs = DurationUs(2_000_000);

/// H.264 levels: (level_idc, max macroblocks per second, max frame size in macroblocks).
const H264_LEVELS: [(u8, u64, u64); 12] = [
    (30, 40_500, 1_620),
    (31, 108_000, 3_600),
    (32, 216_000, 5_120),
    (40, 245_760, 8_192),
    (41, 245_760, 8_192),
    (42, 522_240, 8_704),
    (50, 589_824, 22_080),
    (51, 983_040, 36_864),
    (52, 2_073_600, 36_864),
    (60, 4_177_920, 139_264),
    (61, 8_355_840, 139_264),
    (62, 16_711_680, 139_264),
];

/// The smallest H.264 level that allows `size` at `fps`.
pub fn h264_level(size: PixelSize, fps: f64) -> u8 {
    let mbs = (size.width as u64).div_ceil(16) * (size.height as u64).div_ceil(16);
    let rate = (mbs as f64 * fps.max(1.0)).ceil() as u64;
    H264_LEVELS.iter().find(|(_, max_rate, max_fs)| mbs <= *max_fs && rate <= *max_rate).map(|l| l.0).unwrap_or(62)
}

/// WebCodecs codec strings to try, best first: H.264 High, H.264 Main, VP9, AV1.
pub fn codec_candidates(size: PixelSize, fps: f64) -> Vec<String> {
    let level = h264_level(size, fps);
    // VP9 level: 4.1 covers 1080p60-ish; 5.1 for 4K; 6.1 above.
    let vp9_level = if size.area() <= 2_228_224 {
        41
    } else if size.area() <= 8_912_896 {
        51
    } else {
        61
    };
    // AV1 seq_level_idx: 8 = 4.0 (1080p), 12 = 5.0 (4K), 16 = 6.0.
    let av1_level = if size.area() <= 2_228_224 {
        8
    } else if size.area() <= 8_912_896 {
        12
    } else {
        16
    };
    vec![
        format!("avc1.6400{level:02x}"),
        format!("avc1.4d00{level:02x}"),
        format!("vp09.00.{vp9_level}.08"),
        format!("av01.0.{av1_level:02}M.08"),
    ]
}

/// Bits per second for the cropped output: the source's bits per pixel per frame (so the crop
/// keeps the source's quality), raised by a quarter for the generation loss of re-encoding,
/// and kept within sane bounds.
pub fn output_bitrate(source_bits_per_second: f64, source: PixelSize, output: PixelSize, fps: f64) -> u32 {
    let fps = fps.clamp(1.0, 240.0);
    let src_pixels_per_s = source.area().max(1) as f64 * fps;
    let bpp = if source_bits_per_second > 0.0 { source_bits_per_second / src_pixels_per_s } else { 0.1 };
    let bpp = (bpp * 1.25).clamp(0.04, 0.4);
    let bps = bpp * output.area() as f64 * fps;
    bps.clamp(300_000.0, 80_000_000.0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(h264_level(PixelSize::new(608, 1080), 30.0), 31);
        assert_eq!(h264_level(PixelSize::new(1080, 1920), 30.0), 40);
        assert_eq!(h264_level(PixelSize::new(1080, 1920), 60.0), 42);
        assert_eq!(h264_level(PixelSize::new(2160, 3840), 30.0), 51);
        assert_eq!(codec_candidates(PixelSize::new(608, 1080), 30.0)[0], "avc1.64001f");
    }

    #[test]
    fn bitrate_follows_source_bits_per_pixel() {
        let src = PixelSize::new(1920, 1080);
        let out = PixelSize::new(608, 1080);
        // An 8 Mb/s 1080p30 source: about 0.129 bpp -> 0.161 bpp on the crop.
        let b = output_bitrate(8_000_000.0, src, out, 30.0);
        let expected = 8_000_000.0 * 1.25 * (608.0 * 1080.0) / (1920.0 * 1080.0);
        assert!((b as f64 - expected).abs() < 1000.0, "{b} vs {expected}");
        // A starved source still gets a watchable floor; a huge one is capped.
        assert!(output_bitrate(10_000.0, src, out, 30.0) >= 300_000);
        assert!(output_bitrate(1e10, src, out, 30.0) <= 80_000_000);
    }
}

//! Domain units: frame indices, timestamps, pixel sizes and rectangles, aspect ratios.
//!
//! Every number that crosses a module boundary carries its unit in its type, so a timestamp in
//! microseconds cannot be mixed up with a frame index or a timescale tick.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Index of a frame in presentation order, counting from 0 at the first presented frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct FrameIndex(pub u64);

/// A point on the presentation timeline in microseconds (the unit WebCodecs uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct TimestampUs(pub i64);

/// A length of time in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct DurationUs(pub i64);

impl TimestampUs {
    pub fn seconds(self) -> f64 {
        self.0 as f64 / 1e6
    }
    pub fn plus(self, d: DurationUs) -> TimestampUs {
        TimestampUs(self.0 + d.0)
    }
    pub fn since(self, earlier: TimestampUs) -> DurationUs {
        DurationUs(self.0 - earlier.0)
    }
}

impl DurationUs {
    pub fn seconds(self) -> f64 {
        self.0 as f64 / 1e6
    }
    pub fn from_seconds(s: f64) -> DurationUs {
        DurationUs((s * 1e6).round() as i64)
    }
}

/// Converts a count of ticks in a track's timescale to microseconds, rounding to nearest,
/// without overflow for multi-hour files at any common timescale.
pub fn ticks_to_us(ticks: i64, timescale: u32) -> i64 {
    let ts = timescale.max(1) as i128;
    let num = ticks as i128 * 1_000_000;
    // Round half away from zero.
    let q = if num >= 0 { (num + ts / 2) / ts } else { (num - ts / 2) / ts };
    q as i64
}

/// Converts microseconds to ticks of a timescale, rounding to nearest.
pub fn us_to_ticks(us: i64, timescale: u32) -> i64 {
    let num = us as i128 * timescale as i128;
    let q = if num >= 0 { (num + 500_000) / 1_000_000 } else { (num - 500_000) / 1_000_000 };
    q as i64
}

/// A size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct PixelSize {
    pub width: u32,
    pub height: u32,
}

impl PixelSize {
    pub fn new(width: u32, height: u32) -> Self {
        PixelSize { width, height }
    }
    pub fn area(self) -> u64 {
        self.width as u64 * self.height as u64
    }
    /// The same size seen after a rotation by `rotation` (90/270 swap the axes).
    pub fn rotated(self, rotation: Rotation) -> PixelSize {
        match rotation {
            Rotation::R0 | Rotation::R180 => self,
            Rotation::R90 | Rotation::R270 => PixelSize::new(self.height, self.width),
        }
    }
}

impl fmt::Display for PixelSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// An axis-aligned rectangle in pixels of some frame (which frame is said by the context:
/// display orientation or coded orientation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct PixelRect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl PixelRect {
    pub fn new(x: u32, y: u32, width: u32, height: u32) -> Self {
        PixelRect { x, y, width, height }
    }
    pub fn size(self) -> PixelSize {
        PixelSize::new(self.width, self.height)
    }
    pub fn right(self) -> u32 {
        self.x + self.width
    }
    pub fn bottom(self) -> u32 {
        self.y + self.height
    }
    /// True when the rectangle lies fully inside a frame of `frame` size.
    pub fn fits_in(self, frame: PixelSize) -> bool {
        self.right() <= frame.width && self.bottom() <= frame.height
    }
}

/// Clockwise rotation that a player applies to decoded frames before showing them
/// (from the track's transformation matrix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Rotation {
    #[default]
    R0,
    R90,
    R180,
    R270,
}

impl Rotation {
    pub fn degrees(self) -> u32 {
        match self {
            Rotation::R0 => 0,
            Rotation::R90 => 90,
            Rotation::R180 => 180,
            Rotation::R270 => 270,
        }
    }
}

/// An aspect ratio as two positive integers, e.g. 9:16. Stored reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AspectRatio {
    pub w: u32,
    pub h: u32,
}

impl AspectRatio {
    pub const PORTRAIT_9_16: AspectRatio = AspectRatio { w: 9, h: 16 };

    /// A ratio from two positive integers; `None` when either is zero or the ratio is absurd
    /// (more than 10:1 either way).
    pub fn new(w: u32, h: u32) -> Option<AspectRatio> {
        if w == 0 || h == 0 || w > 10 * h || h > 10 * w {
            return None;
        }
        let g = gcd(w, h);
        Some(AspectRatio { w: w / g, h: h / g })
    }

    /// Parses "W:H" (also "WxH" or "W/H"), e.g. "9:16".
    pub fn parse(text: &str) -> Option<AspectRatio> {
        let t = text.trim();
        let (a, b) = t.split_once([':', 'x', 'X', '/'])?;
        AspectRatio::new(a.trim().parse().ok()?, b.trim().parse().ok()?)
    }

    /// "9x16": the form used in file names.
    pub fn file_tag(self) -> String {
        format!("{}x{}", self.w, self.h)
    }
}

impl fmt::Display for AspectRatio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.w, self.h)
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_round_trip() {
        assert_eq!(ticks_to_us(90_000, 90_000), 1_000_000);
        assert_eq!(ticks_to_us(1001, 30_000), 33_367);
        assert_eq!(us_to_ticks(33_367, 30_000), 1001);
        // Two hours at 90 kHz does not overflow.
        assert_eq!(ticks_to_us(7200 * 90_000, 90_000), 7_200_000_000);
        assert_eq!(ticks_to_us(-1024, 48_000), -21_333);
    }

    #[test]
    fn ratio_parsing() {
        assert_eq!(AspectRatio::parse("9:16"), Some(AspectRatio { w: 9, h: 16 }));
        assert_eq!(AspectRatio::parse(" 18 : 32 "), Some(AspectRatio { w: 9, h: 16 }));
        assert_eq!(AspectRatio::parse("4x5"), Some(AspectRatio { w: 4, h: 5 }));
        assert_eq!(AspectRatio::parse("0:5"), None);
        assert_eq!(AspectRatio::parse("100:1"), None);
        assert_eq!(AspectRatio::parse("abc"), None);
        assert_eq!(AspectRatio::PORTRAIT_9_16.file_tag(), "9x16");
    }

    #[test]
    fn rotated_sizes() {
        assert_eq!(PixelSize::new(1920, 1080).rotated(Rotation::R90), PixelSize::new(1080, 1920));
        assert_eq!(PixelSize::new(1920, 1080).rotated(Rotation::R180), PixelSize::new(1920, 1080));
    }
}

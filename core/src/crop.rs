//! Crop geometry: the output size for an aspect ratio, placing the window, and mapping a window
//! between display orientation (what the user sees) and coded orientation (what the decoder gives).
//!
//! All rectangles handed to the encoder have even x, y, width and height, because 4:2:0 chroma is
//! subsampled by two in both directions.

use crate::settings::CropPosition;
use crate::units::{AspectRatio, PixelRect, PixelSize, Rotation, TimestampUs};
use serde::{Deserialize, Serialize};

pub(crate) fn floor_even(v: u32) -> u32 {
    v & !1
}

pub(crate) fn round_even(v: f64) -> u32 {
    ((v / 2.0).round() * 2.0).max(0.0) as u32
}

/// The largest window of `ratio` that fits in `source` (display orientation), with even sides.
/// The side that limits the window uses the full (even-floored) source length; the other side is
/// rounded to the nearest even length that still fits.
pub fn output_size(source: PixelSize, ratio: AspectRatio) -> PixelSize {
    let sw = floor_even(source.width).max(2);
    let sh = floor_even(source.height).max(2);
    // Source wider than the ratio: the height limits.
    if source.width as u64 * ratio.h as u64 >= source.height as u64 * ratio.w as u64 {
        let w = round_even(source.height as f64 * ratio.w as f64 / ratio.h as f64).clamp(2, sw);
        PixelSize::new(w, sh)
    } else {
        let h = round_even(source.width as f64 * ratio.h as f64 / ratio.w as f64).clamp(2, sh);
        PixelSize::new(sw, h)
    }
}

/// Places a window of `size` inside `source` (display orientation) at `position`
/// (0 = left/top, 1 = right/bottom), on even coordinates.
pub fn place(source: PixelSize, size: PixelSize, position: CropPosition) -> PixelRect {
    let free_x = source.width.saturating_sub(size.width);
    let free_y = source.height.saturating_sub(size.height);
    let x = round_even(free_x as f64 * position.x.clamp(0.0, 1.0)).min(floor_even(free_x));
    let y = round_even(free_y as f64 * position.y.clamp(0.0, 1.0)).min(floor_even(free_y));
    PixelRect::new(x, y, size.width, size.height)
}

/// Maps a rectangle in display orientation to the decoded (coded) frame of size `coded`, which a
/// player rotates clockwise by `rotation` to show it.
pub fn display_to_coded(r: PixelRect, coded: PixelSize, rotation: Rotation) -> PixelRect {
    let (w, h) = (coded.width, coded.height);
    match rotation {
        Rotation::R0 => r,
        // Coded (cx, cy) is shown at (h - 1 - cy, cx).
        Rotation::R90 => PixelRect::new(r.y, h - r.x - r.width, r.height, r.width),
        Rotation::R180 => PixelRect::new(w - r.x - r.width, h - r.y - r.height, r.width, r.height),
        // Coded (cx, cy) is shown at (cy, w - 1 - cx).
        Rotation::R270 => PixelRect::new(w - r.y - r.height, r.x, r.height, r.width),
    }
}

/// The inverse of [`display_to_coded`].
pub fn coded_to_display(r: PixelRect, coded: PixelSize, rotation: Rotation) -> PixelRect {
    let (w, h) = (coded.width, coded.height);
    match rotation {
        Rotation::R0 => r,
        Rotation::R90 => PixelRect::new(h - r.y - r.height, r.x, r.height, r.width),
        Rotation::R180 => PixelRect::new(w - r.x - r.width, h - r.y - r.height, r.width, r.height),
        Rotation::R270 => PixelRect::new(r.y, w - r.x - r.width, r.height, r.width),
    }
}

/// A crop window resolved for both orientations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropWindow {
    /// In the source as displayed (what the report and the preview use).
    pub display: PixelRect,
    /// In the decoded frame (what `VideoFrame.visibleRect` takes); even x, y, width, height.
    pub coded: PixelRect,
}

/// Resolves a display-orientation window to one whose coded rectangle is on even coordinates,
/// moving it by at most one pixel per axis, and keeping it inside the frame.
pub fn resolve(display: PixelRect, coded_size: PixelSize, rotation: Rotation) -> CropWindow {
    let c = display_to_coded(display, coded_size, rotation);
    let max_x = floor_even(coded_size.width.saturating_sub(c.width));
    let max_y = floor_even(coded_size.height.saturating_sub(c.height));
    let coded = PixelRect::new(floor_even(c.x).min(max_x), floor_even(c.y).min(max_y), c.width, c.height);
    CropWindow { display: coded_to_display(coded, coded_size, rotation), coded }
}

/// How the two halves of a split screen share the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stack {
    /// One above the other (portrait and square outputs).
    Vertical,
    /// Side by side (landscape outputs).
    Horizontal,
}

/// The output of a video with split-screen parts: two crops of `half` size (display orientation),
/// each taken from the source at its own resolution, stacked along `stack`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitLayout {
    pub half: PixelSize,
    pub stack: Stack,
}

impl SplitLayout {
    /// The split layout for an output of `ratio` from `source` (display orientation): halves of
    /// the half ratio (9:16 gives 9:8 halves), as large as fits in the source but no longer than
    /// the source's short side across the stack (a 1920x1080 source gives two 1080x960 halves of
    /// a 1080x1920 output), so that no pixel is scaled. `None` for ratios whose halves would be
    /// absurd (more than 10:1).
    pub fn for_output(source: PixelSize, ratio: AspectRatio) -> Option<SplitLayout> {
        let stack = if ratio.w <= ratio.h { Stack::Vertical } else { Stack::Horizontal };
        let half_ratio = match stack {
            Stack::Vertical => AspectRatio::new(2 * ratio.w, ratio.h)?,
            Stack::Horizontal => AspectRatio::new(ratio.w, 2 * ratio.h)?,
        };
        let largest = output_size(source, half_ratio);
        let short = floor_even(source.width.min(source.height)).max(2);
        let (rw, rh) = (half_ratio.w as f64, half_ratio.h as f64);
        let half = match stack {
            Stack::Vertical if largest.width > short => {
                PixelSize::new(short, round_even(short as f64 * rh / rw).clamp(2, largest.height))
            }
            Stack::Horizontal if largest.height > short => {
                PixelSize::new(round_even(short as f64 * rw / rh).clamp(2, largest.width), short)
            }
            _ => largest,
        };
        Some(SplitLayout { half, stack })
    }

    /// The output frame's size (display orientation).
    pub fn output(&self) -> PixelSize {
        match self.stack {
            Stack::Vertical => PixelSize::new(self.half.width, 2 * self.half.height),
            Stack::Horizontal => PixelSize::new(2 * self.half.width, self.half.height),
        }
    }

    /// Where half `part` (0: top or left, 1: bottom or right) goes in the output.
    pub fn part_rect(&self, part: usize) -> PixelRect {
        let k = part.min(1) as u32;
        let (w, h) = (self.half.width, self.half.height);
        match self.stack {
            Stack::Vertical => PixelRect::new(0, k * h, w, h),
            Stack::Horizontal => PixelRect::new(k * w, 0, w, h),
        }
    }
}

/// The crop window of one output frame, in display-orientation pixels of the source: the camera
/// path as stored, reported and drawn by the preview. A split-screen frame has two windows: this
/// one (the top or left half) and `second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CropPathEntry {
    pub timestamp_us: TimestampUs,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    /// The bottom or right half's window, on split-screen frames.
    #[serde(default)]
    pub second: Option<PixelRect>,
}

impl CropPathEntry {
    pub fn new(timestamp_us: TimestampUs, r: PixelRect) -> Self {
        CropPathEntry { timestamp_us, x: r.x, y: r.y, width: r.width, height: r.height, second: None }
    }

    /// A split-screen frame: `first` for the top or left half, `second` for the other.
    pub fn split(timestamp_us: TimestampUs, first: PixelRect, second: PixelRect) -> Self {
        CropPathEntry { second: Some(second), ..CropPathEntry::new(timestamp_us, first) }
    }

    pub fn rect(&self) -> PixelRect {
        PixelRect::new(self.x, self.y, self.width, self.height)
    }
}

/// One rectangle of a composed output frame: `from` (coded pixels of the decoded frame) is drawn
/// at `to` (coded pixels of the output frame), scaled where their sizes differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draw {
    pub from: PixelRect,
    pub to: PixelRect,
}

/// How one shown frame becomes an output frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FrameCrop<'a> {
    /// The decoded frame shown through this window (no pixel copied or scaled).
    Window(CropWindow),
    /// The output frame drawn from these rectangles of the decoded frame (a split screen, or a
    /// single crop of a video whose output is a split screen's size).
    Composed(&'a [Draw]),
}

/// The crop of every shown frame, as the encoding pass takes it.
#[derive(Debug, Clone, PartialEq)]
pub enum CropPlan {
    /// One window for the whole video.
    Fixed(CropWindow),
    /// One window per shown frame, in presentation order.
    PerFrame(Vec<CropWindow>),
    /// A video with split-screen parts: every frame is drawn into an output frame of `output`
    /// size (coded orientation), in presentation order.
    Composed { output: PixelSize, frames: Vec<Vec<Draw>> },
}

impl CropPlan {
    /// The crops of a stored or planned camera path, resolved for the decoded frames; `split` is
    /// the output layout when the path has split-screen frames.
    pub fn from_path(
        path: &[CropPathEntry],
        split: Option<SplitLayout>,
        coded_size: PixelSize,
        rotation: Rotation,
    ) -> CropPlan {
        let window = |r: PixelRect| resolve(r, coded_size, rotation).coded;
        let Some(layout) = split else {
            return CropPlan::PerFrame(path.iter().map(|e| resolve(e.rect(), coded_size, rotation)).collect());
        };
        // The output's own rotation is the source's: its halves are placed in coded orientation
        // so that the player, rotating the output, shows them where the layout says.
        let shown = layout.output();
        let output = shown.rotated(rotation);
        let to = |r: PixelRect| display_to_coded(r, output, rotation);
        let frames = path
            .iter()
            .map(|e| match e.second {
                None => vec![Draw { from: window(e.rect()), to: to(PixelRect::new(0, 0, shown.width, shown.height)) }],
                Some(second) => vec![
                    Draw { from: window(e.rect()), to: to(layout.part_rect(0)) },
                    Draw { from: window(second), to: to(layout.part_rect(1)) },
                ],
            })
            .collect();
        CropPlan::Composed { output, frames }
    }

    /// The crop of shown frame `frame`; `None` past the end of a per-frame plan.
    pub fn frame(&self, frame: usize) -> Option<FrameCrop<'_>> {
        match self {
            CropPlan::Fixed(w) => Some(FrameCrop::Window(*w)),
            CropPlan::PerFrame(v) => v.get(frame).copied().map(FrameCrop::Window),
            CropPlan::Composed { frames, .. } => frames.get(frame).map(|d| FrameCrop::Composed(d)),
        }
    }

    /// The size of the encoded frames (coded orientation): every frame of a plan has one size.
    pub fn encoded_size(&self) -> PixelSize {
        match self {
            CropPlan::Fixed(w) => w.coded.size(),
            CropPlan::PerFrame(v) => v.first().map(|w| w.coded.size()).unwrap_or_default(),
            CropPlan::Composed { output, .. } => *output,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratio(w: u32, h: u32) -> AspectRatio {
        AspectRatio::new(w, h).unwrap()
    }

    #[test]
    fn output_sizes_for_common_ratios() {
        let hd = PixelSize::new(1920, 1080);
        assert_eq!(output_size(hd, ratio(9, 16)), PixelSize::new(608, 1080));
        assert_eq!(output_size(hd, ratio(1, 1)), PixelSize::new(1080, 1080));
        assert_eq!(output_size(hd, ratio(4, 5)), PixelSize::new(864, 1080));
        assert_eq!(output_size(hd, ratio(16, 9)), PixelSize::new(1920, 1080));
        // Portrait source to landscape: the width limits.
        assert_eq!(output_size(PixelSize::new(1080, 1920), ratio(16, 9)), PixelSize::new(1080, 608));
        // Odd source sizes give even outputs that fit.
        assert_eq!(output_size(PixelSize::new(1921, 1081), ratio(9, 16)), PixelSize::new(608, 1080));
        assert_eq!(output_size(PixelSize::new(1921, 1081), ratio(16, 9)), PixelSize::new(1920, 1080));
    }

    #[test]
    fn output_always_fits_and_is_even() {
        for (w, h) in [(1921, 1081), (640, 360), (17, 9), (3840, 2160), (1080, 1920), (99, 1001)] {
            for r in [(9, 16), (1, 1), (4, 5), (16, 9), (21, 9), (2, 3)] {
                let s = output_size(PixelSize::new(w, h), ratio(r.0, r.1));
                assert!(s.width <= w && s.height <= h, "{w}x{h} {r:?} -> {s}");
                assert!(s.width.is_multiple_of(2) && s.height.is_multiple_of(2));
                // Within one even step of the exact ratio.
                let exact = s.height as f64 * r.0 as f64 / r.1 as f64;
                let exact_h = s.width as f64 * r.1 as f64 / r.0 as f64;
                assert!((s.width as f64 - exact).abs() <= 2.0 || (s.height as f64 - exact_h).abs() <= 2.0);
            }
        }
    }

    #[test]
    fn placement() {
        let src = PixelSize::new(1920, 1080);
        let size = PixelSize::new(608, 1080);
        assert_eq!(place(src, size, CropPosition { x: 0.5, y: 0.5 }), PixelRect::new(656, 0, 608, 1080));
        assert_eq!(place(src, size, CropPosition { x: 0.0, y: 0.5 }), PixelRect::new(0, 0, 608, 1080));
        assert_eq!(place(src, size, CropPosition { x: 1.0, y: 0.5 }), PixelRect::new(1312, 0, 608, 1080));
        let odd = place(PixelSize::new(1921, 1081), size, CropPosition { x: 1.0, y: 1.0 });
        assert!(odd.fits_in(PixelSize::new(1921, 1081)) && odd.x.is_multiple_of(2) && odd.y.is_multiple_of(2));
    }

    #[test]
    fn rotation_round_trips() {
        let coded = PixelSize::new(1920, 1080);
        for rot in [Rotation::R0, Rotation::R90, Rotation::R180, Rotation::R270] {
            let display = coded.rotated(rot);
            let r = PixelRect::new(100, 40, 300, 500);
            let r = if r.fits_in(display) { r } else { PixelRect::new(40, 100, 300, 500) };
            let c = display_to_coded(r, coded, rot);
            assert!(c.fits_in(coded), "{rot:?} {c:?}");
            assert_eq!(coded_to_display(c, coded, rot), r);
        }
    }

    #[test]
    fn rotation_90_maps_the_top_left_corner() {
        // Phone video: coded 1920x1080 landscape, shown rotated 90 degrees clockwise as 1080x1920.
        // The display's top-left pixel comes from the coded frame's bottom-left.
        let c = display_to_coded(PixelRect::new(0, 0, 1, 1), PixelSize::new(1920, 1080), Rotation::R90);
        assert_eq!(c, PixelRect::new(0, 1079, 1, 1));
    }

    #[test]
    fn resolved_windows_are_even_in_coded_space() {
        let coded = PixelSize::new(1921, 1081);
        for rot in [Rotation::R0, Rotation::R90, Rotation::R180, Rotation::R270] {
            let display = coded.rotated(rot);
            let size = output_size(display, ratio(9, 16));
            for pos in [0.0, 0.33, 0.5, 1.0] {
                let r = place(display, size, CropPosition { x: pos, y: pos });
                let w = resolve(r, coded, rot);
                assert!(w.coded.x.is_multiple_of(2) && w.coded.y.is_multiple_of(2), "{rot:?} {w:?}");
                assert!(w.coded.fits_in(coded) && w.display.fits_in(display));
                assert_eq!(w.display.size(), size);
            }
        }
    }

    #[test]
    fn a_plan_gives_each_frame_its_window() {
        let coded = PixelSize::new(1920, 1080);
        let path = [
            CropPathEntry::new(TimestampUs(0), PixelRect::new(0, 0, 608, 1080)),
            CropPathEntry::new(TimestampUs(33_333), PixelRect::new(101, 0, 608, 1080)),
        ];
        let plan = CropPlan::from_path(&path, None, coded, Rotation::R0);
        let coded_window = |f: Option<FrameCrop>| match f {
            Some(FrameCrop::Window(w)) => Some(w.coded),
            _ => None,
        };
        assert_eq!(coded_window(plan.frame(0)), Some(PixelRect::new(0, 0, 608, 1080)));
        // Resolved onto even coordinates for the encoder.
        assert_eq!(coded_window(plan.frame(1)), Some(PixelRect::new(100, 0, 608, 1080)));
        assert_eq!(plan.frame(2), None);
        assert_eq!(plan.encoded_size(), PixelSize::new(608, 1080));
        let fixed = CropPlan::Fixed(resolve(PixelRect::new(656, 0, 608, 1080), coded, Rotation::R0));
        assert_eq!(coded_window(fixed.frame(1_000_000)).map(|r| r.x), Some(656));
        assert_eq!(fixed.encoded_size(), PixelSize::new(608, 1080));
        assert_eq!(CropPlan::PerFrame(Vec::new()).encoded_size(), PixelSize::default());
    }

    #[test]
    fn split_layouts_take_halves_at_source_resolution() {
        let hd = PixelSize::new(1920, 1080);
        let l = SplitLayout::for_output(hd, ratio(9, 16)).unwrap();
        assert_eq!(
            (l.half, l.stack, l.output()),
            (PixelSize::new(1080, 960), Stack::Vertical, PixelSize::new(1080, 1920))
        );
        assert_eq!(l.part_rect(1), PixelRect::new(0, 960, 1080, 960));
        let square = SplitLayout::for_output(hd, ratio(1, 1)).unwrap();
        assert_eq!(square.output(), PixelSize::new(1080, 1080));
        let wide = SplitLayout::for_output(hd, ratio(16, 9)).unwrap();
        assert_eq!((wide.half, wide.stack), (PixelSize::new(960, 1080), Stack::Horizontal));
        assert_eq!(wide.part_rect(1), PixelRect::new(960, 0, 960, 1080));
        for (w, h) in [(720, 528), (1921, 1081), (640, 360), (1080, 1920), (3840, 2160)] {
            for r in [(9, 16), (1, 1), (4, 5), (16, 9), (2, 3)] {
                let src = PixelSize::new(w, h);
                let l = SplitLayout::for_output(src, ratio(r.0, r.1)).unwrap();
                assert!(l.half.width <= w && l.half.height <= h, "{src} {r:?} {l:?}");
                assert!(l.half.width.is_multiple_of(2) && l.half.height.is_multiple_of(2));
            }
        }
    }

    #[test]
    fn a_split_path_composes_every_frame_into_the_split_output() {
        let coded = PixelSize::new(1920, 1080);
        let layout = SplitLayout::for_output(coded, ratio(9, 16)).unwrap();
        let path = [
            CropPathEntry::new(TimestampUs(0), PixelRect::new(656, 0, 608, 1080)),
            CropPathEntry::split(
                TimestampUs(33_333),
                PixelRect::new(0, 60, 1080, 960),
                PixelRect::new(840, 0, 1080, 960),
            ),
        ];
        let plan = CropPlan::from_path(&path, Some(layout), coded, Rotation::R0);
        assert_eq!(plan.encoded_size(), PixelSize::new(1080, 1920));
        let draws = |i| match plan.frame(i) {
            Some(FrameCrop::Composed(d)) => d.to_vec(),
            other => panic!("{other:?}"),
        };
        // The single crop fills the output (scaled); the halves are copied one to one.
        assert_eq!(
            draws(0),
            vec![Draw { from: PixelRect::new(656, 0, 608, 1080), to: PixelRect::new(0, 0, 1080, 1920) }]
        );
        assert_eq!(
            draws(1),
            vec![
                Draw { from: PixelRect::new(0, 60, 1080, 960), to: PixelRect::new(0, 0, 1080, 960) },
                Draw { from: PixelRect::new(840, 0, 1080, 960), to: PixelRect::new(0, 960, 1080, 960) },
            ]
        );
        // A phone video (coded landscape, shown portrait): the halves are placed in coded
        // orientation so that the rotated output shows the first half on top.
        let phone = PixelSize::new(1920, 1080); // shown as 1080x1920
        let l = SplitLayout::for_output(phone.rotated(Rotation::R90), ratio(9, 16)).unwrap();
        let e = [CropPathEntry::split(
            TimestampUs(0),
            PixelRect::new(0, 0, l.half.width, l.half.height),
            PixelRect::new(0, 1000, l.half.width, l.half.height),
        )];
        let plan = CropPlan::from_path(&e, Some(l), phone, Rotation::R90);
        let out = l.output().rotated(Rotation::R90);
        assert_eq!(plan.encoded_size(), out);
        if let Some(FrameCrop::Composed(d)) = plan.frame(0) {
            for (k, draw) in d.iter().enumerate() {
                assert_eq!(coded_to_display(draw.to, out, Rotation::R90), l.part_rect(k));
                assert_eq!(draw.from.size(), draw.to.size(), "halves are not scaled");
            }
        } else {
            panic!("composed");
        }
    }
}

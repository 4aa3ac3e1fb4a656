//! Small images made from a decoded frame's planes (as `VideoFrame.copyTo` lays them out), for
//! the analysis only: the luma thumbnail of every frame (shot statistics) and the detector's
//! upright RGBA input at sampled frames. Both average every source pixel under an output pixel
//! (area resampling, no aliasing), and YUV is averaged before it is turned into RGB (the
//! conversion is affine), so the cost is one pass over the source planes.

use crate::units::{PixelSize, Rotation};
use serde::{Deserialize, Serialize};

/// How a frame's samples are laid out (8 bits per sample).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PixelLayout {
    /// Y, U, V planes; chroma halved both ways (also I420A: the alpha plane is ignored).
    I420,
    /// Y, U, V planes; chroma halved horizontally.
    I422,
    /// Y, U, V planes, full size.
    I444,
    /// Y plane, then one plane of interleaved U, V halved both ways.
    Nv12,
    /// One plane, 4 bytes per pixel (RGBA or RGBX).
    Rgba,
    /// One plane, 4 bytes per pixel (BGRA or BGRX).
    Bgra,
}

impl PixelLayout {
    /// The layout of a WebCodecs `VideoPixelFormat` name, or `None` for formats not handled here
    /// (high bit depth, unknown).
    pub fn from_format(name: &str) -> Option<PixelLayout> {
        Some(match name {
            "I420" | "I420A" => PixelLayout::I420,
            "I422" => PixelLayout::I422,
            "I444" => PixelLayout::I444,
            "NV12" => PixelLayout::Nv12,
            "RGBA" | "RGBX" => PixelLayout::Rgba,
            "BGRA" | "BGRX" => PixelLayout::Bgra,
            _ => return None,
        })
    }

    /// Planes in a `copyTo` buffer of this layout.
    pub fn planes(self) -> usize {
        match self {
            PixelLayout::I420 | PixelLayout::I422 | PixelLayout::I444 => 3,
            PixelLayout::Nv12 => 2,
            PixelLayout::Rgba | PixelLayout::Bgra => 1,
        }
    }

    /// Chroma subsampling (horizontal, vertical) as shifts.
    pub fn chroma_shift(self) -> (u32, u32) {
        match self {
            PixelLayout::I420 | PixelLayout::Nv12 => (1, 1),
            PixelLayout::I422 => (1, 0),
            _ => (0, 0),
        }
    }
}

/// Where a plane starts in the buffer and the bytes between its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plane {
    pub offset: usize,
    pub stride: usize,
}

/// The YUV -> RGB matrix of a frame (WebCodecs `VideoColorSpace`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct YuvColor {
    /// Kr, Kb of the matrix: BT.709 (0.2126, 0.0722) or BT.601 (0.299, 0.114).
    pub kr: f32,
    pub kb: f32,
    /// Full range (0..255) rather than video range (16..235, chroma 16..240).
    pub full_range: bool,
}

impl YuvColor {
    pub const BT601: YuvColor = YuvColor { kr: 0.299, kb: 0.114, full_range: false };
    pub const BT709: YuvColor = YuvColor { kr: 0.2126, kb: 0.0722, full_range: false };

    /// From the `matrix` name of a `VideoColorSpace`; without one, BT.709 for HD sizes and
    /// BT.601 below (what players assume).
    pub fn from_matrix(matrix: Option<&str>, full_range: Option<bool>, size: PixelSize) -> YuvColor {
        let base = match matrix {
            Some("bt709") => YuvColor::BT709,
            Some("bt470bg") | Some("smpte170m") => YuvColor::BT601,
            Some("bt2020-ncl") => YuvColor { kr: 0.2627, kb: 0.0593, full_range: false },
            _ if size.height >= 720 => YuvColor::BT709,
            _ => YuvColor::BT601,
        };
        YuvColor { full_range: full_range.unwrap_or(false), ..base }
    }

    fn to_rgb(self, y: f32, u: f32, v: f32) -> [u8; 3] {
        let (y, u, v) = if self.full_range {
            (y, u - 128.0, v - 128.0)
        } else {
            ((y - 16.0) * (255.0 / 219.0), (u - 128.0) * (255.0 / 224.0), (v - 128.0) * (255.0 / 224.0))
        };
        let kg = 1.0 - self.kr - self.kb;
        let r = y + 2.0 * (1.0 - self.kr) * v;
        let b = y + 2.0 * (1.0 - self.kb) * u;
        let g = (y - self.kr * r - self.kb * b) / kg;
        let q = |x: f32| x.round().clamp(0.0, 255.0) as u8;
        [q(r), q(g), q(b)]
    }
}

/// A decoded frame's pixels as copied out of a `VideoFrame` (its visible rectangle).
#[derive(Debug, Clone)]
pub struct FramePlanes<'a> {
    pub layout: PixelLayout,
    pub size: PixelSize,
    pub data: &'a [u8],
    pub planes: Vec<Plane>,
    pub color: YuvColor,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameScaleError {
    /// A plane is missing or does not fit in the buffer.
    BadLayout(String),
    EmptySize,
}

impl std::fmt::Display for FrameScaleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameScaleError::BadLayout(why) => write!(f, "unexpected frame layout: {why}"),
            FrameScaleError::EmptySize => write!(f, "empty frame or output size"),
        }
    }
}

impl std::error::Error for FrameScaleError {}

/// For each output index, the source range it averages: `[start, end)` in source samples.
fn spans(src: u32, out: u32) -> Vec<(usize, usize)> {
    (0..out as u64)
        .map(|o| {
            let a = (o * src as u64 / out as u64) as usize;
            let b = (((o + 1) * src as u64).div_ceil(out as u64) as usize).max(a + 1);
            (a, b.min(src as usize))
        })
        .collect()
}

/// Samples in each box `(xs[i], ys[j])`, row-major (`ys` outer), as the divisor of its average.
fn box_areas(xs: &[(usize, usize)], ys: &[(usize, usize)]) -> Vec<f32> {
    ys.iter().flat_map(|y| xs.iter().map(move |x| ((x.1 - x.0) * (y.1 - y.0)) as f32)).collect()
}

impl<'a> FramePlanes<'a> {
    /// Checks that every plane the layout needs is in `data`.
    pub fn new(
        layout: PixelLayout,
        size: PixelSize,
        data: &'a [u8],
        planes: Vec<Plane>,
        color: YuvColor,
    ) -> Result<Self, FrameScaleError> {
        if size.width == 0 || size.height == 0 {
            return Err(FrameScaleError::EmptySize);
        }
        if planes.len() < layout.planes() {
            return Err(FrameScaleError::BadLayout(format!("{} planes for {layout:?}", planes.len())));
        }
        let (sx, sy) = layout.chroma_shift();
        let (cw, ch) = (size.width.div_ceil(1 << sx) as usize, size.height.div_ceil(1 << sy) as usize);
        let (w, h) = (size.width as usize, size.height as usize);
        let needs: Vec<(usize, usize)> = match layout {
            PixelLayout::Rgba | PixelLayout::Bgra => vec![(w * 4, h)],
            PixelLayout::Nv12 => vec![(w, h), (cw * 2, ch)],
            _ => vec![(w, h), (cw, ch), (cw, ch)],
        };
        for (i, (row_bytes, rows)) in needs.into_iter().enumerate() {
            let p = planes[i];
            if p.stride < row_bytes || p.offset + p.stride * (rows - 1) + row_bytes > data.len() {
                return Err(FrameScaleError::BadLayout(format!("plane {i} ({p:?}) does not fit {} bytes", data.len())));
            }
        }
        Ok(FramePlanes { layout, size, data, planes, color })
    }

    /// Whether `other` has the same layout, size, planes and colours (frames that can be stacked
    /// in one batch).
    pub fn same_shape(&self, other: &FramePlanes) -> bool {
        (self.layout, self.size, &self.planes, self.color) == (other.layout, other.size, &other.planes, other.color)
    }

    /// Sums of one plane's samples over every box `(xs[i], ys[j])`, row-major (`ys` outer);
    /// `step` bytes between samples, `first` the sample's byte within its step. The rows of each
    /// output row's span are added into one row of column sums (whole rows, which the compiler
    /// vectorises), then each column span of it is added up: about one pass over the samples,
    /// without a small loop per box and row.
    fn box_sums(
        &self,
        plane: usize,
        xs: &[(usize, usize)],
        ys: &[(usize, usize)],
        step: usize,
        first: usize,
    ) -> Vec<u32> {
        let p = self.planes[plane];
        let width = xs.iter().map(|x| x.1).max().unwrap_or(0);
        let mut columns = vec![0u32; width];
        let mut sums = Vec::with_capacity(xs.len() * ys.len());
        for &(y0, y1) in ys {
            columns.fill(0);
            for y in y0..y1 {
                let start = p.offset + y * p.stride;
                let row = &self.data[start..start + width * step];
                if step == 1 {
                    columns.iter_mut().zip(row).for_each(|(c, &v)| *c += v as u32);
                } else {
                    columns.iter_mut().zip(row.chunks_exact(step)).for_each(|(c, px)| *c += px[first] as u32);
                }
            }
            sums.extend(xs.iter().map(|&(x0, x1)| columns[x0..x1].iter().sum::<u32>()));
        }
        sums
    }

    /// Average (Y, U, V) or (R, G, B) over every box `(xs[i], ys[j])` of full-size pixels,
    /// row-major. Chroma is averaged over the chroma samples under each box.
    fn averages(&self, xs: &[(usize, usize)], ys: &[(usize, usize)]) -> Vec<[f32; 3]> {
        let n = box_areas(xs, ys);
        match self.layout {
            PixelLayout::Rgba | PixelLayout::Bgra => {
                let [r, g, b] = [0, 1, 2].map(|c| self.box_sums(0, xs, ys, 4, c));
                let (r, b) = if self.layout == PixelLayout::Bgra { (b, r) } else { (r, b) };
                (0..n.len()).map(|k| [r[k] as f32 / n[k], g[k] as f32 / n[k], b[k] as f32 / n[k]]).collect()
            }
            _ => {
                let (sx, sy) = self.layout.chroma_shift();
                let chroma = |spans: &[(usize, usize)], shift: u32| -> Vec<(usize, usize)> {
                    spans.iter().map(|&(a, b)| (a >> shift, ((b - 1) >> shift) + 1)).collect()
                };
                let (cxs, cys) = (chroma(xs, sx), chroma(ys, sy));
                let cn = box_areas(&cxs, &cys);
                let y = self.box_sums(0, xs, ys, 1, 0);
                let (u, v) = if self.layout == PixelLayout::Nv12 {
                    (self.box_sums(1, &cxs, &cys, 2, 0), self.box_sums(1, &cxs, &cys, 2, 1))
                } else {
                    (self.box_sums(1, &cxs, &cys, 1, 0), self.box_sums(2, &cxs, &cys, 1, 0))
                };
                (0..n.len()).map(|k| [y[k] as f32 / n[k], u[k] as f32 / cn[k], v[k] as f32 / cn[k]]).collect()
            }
        }
    }

    fn is_rgb(&self) -> bool {
        matches!(self.layout, PixelLayout::Rgba | PixelLayout::Bgra)
    }

    /// Luma of the frame averaged down to `out` (BT.601 weights from RGB; the Y plane as is).
    pub fn luma_thumbnail(&self, out: PixelSize) -> Vec<u8> {
        let (xs, ys) = (spans(self.size.width, out.width), spans(self.size.height, out.height));
        let luma: Vec<f32> = if self.is_rgb() {
            self.averages(&xs, &ys).into_iter().map(|[r, g, b]| (r * 77.0 + g * 150.0 + b * 29.0) / 256.0).collect()
        } else {
            let sums = self.box_sums(0, &xs, &ys, 1, 0);
            sums.into_iter().zip(box_areas(&xs, &ys)).map(|(s, n)| s as f32 / n).collect()
        };
        luma.into_iter().map(|l| l.round().clamp(0.0, 255.0) as u8).collect()
    }

    /// The frame turned upright (`rotation` is the clockwise turn that shows it upright) and
    /// averaged down to `out` (display orientation), as RGBA.
    pub fn upright_rgba(&self, rotation: Rotation, out: PixelSize) -> Vec<u8> {
        // Scale in the coded orientation, then turn the small image.
        let small = out.rotated(rotation);
        let (xs, ys) = (spans(self.size.width, small.width), spans(self.size.height, small.height));
        let rgb: Vec<[u8; 3]> = self
            .averages(&xs, &ys)
            .into_iter()
            .map(|a| {
                if self.is_rgb() {
                    a.map(|c| c.round().clamp(0.0, 255.0) as u8)
                } else {
                    self.color.to_rgb(a[0], a[1], a[2])
                }
            })
            .collect();
        let (sw, sh) = (small.width as usize, small.height as usize);
        let mut rgba = Vec::with_capacity((out.width * out.height * 4) as usize);
        for y in 0..out.height as usize {
            for x in 0..out.width as usize {
                let (u, v) = match rotation {
                    Rotation::R0 => (x, y),
                    Rotation::R90 => (y, sh - 1 - x),
                    Rotation::R180 => (sw - 1 - x, sh - 1 - y),
                    Rotation::R270 => (sw - 1 - y, x),
                };
                let [r, g, b] = rgb[v * sw + u];
                rgba.extend_from_slice(&[r, g, b, 255]);
            }
        }
        rgba
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tight I420 buffer of `w`x`h` from per-pixel functions.
    fn i420(w: u32, h: u32, y: impl Fn(u32, u32) -> u8, u: u8, v: u8) -> (Vec<u8>, Vec<Plane>) {
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let mut data = Vec::new();
        for r in 0..h {
            for c in 0..w {
                data.push(y(c, r));
            }
        }
        let planes = vec![
            Plane { offset: 0, stride: w as usize },
            Plane { offset: (w * h) as usize, stride: cw as usize },
            Plane { offset: (w * h + cw * ch) as usize, stride: cw as usize },
        ];
        data.extend(std::iter::repeat_n(u, (cw * ch) as usize));
        data.extend(std::iter::repeat_n(v, (cw * ch) as usize));
        (data, planes)
    }

    #[test]
    fn spans_cover_the_source_once_when_dividing_evenly() {
        assert_eq!(spans(8, 4), vec![(0, 2), (2, 4), (4, 6), (6, 8)]);
        assert_eq!(spans(3, 3), vec![(0, 1), (1, 2), (2, 3)]);
        // Uneven: boxes overlap by at most one sample, never miss one.
        let s = spans(1920, 64);
        assert_eq!(s[0].0, 0);
        assert_eq!(s.last().unwrap().1, 1920);
        assert!(s.windows(2).all(|w| w[1].0 <= w[0].1));
        // Upscaling repeats samples.
        assert_eq!(spans(2, 4), vec![(0, 1), (0, 1), (1, 2), (1, 2)]);
    }

    #[test]
    fn luma_thumbnail_averages_the_y_plane() {
        // Left half 40, right half 200: the 2-wide thumbnail has one of each.
        let (data, planes) = i420(8, 4, |x, _| if x < 4 { 40 } else { 200 }, 128, 128);
        let f = FramePlanes::new(PixelLayout::I420, PixelSize::new(8, 4), &data, planes, YuvColor::BT601).unwrap();
        assert_eq!(f.luma_thumbnail(PixelSize::new(2, 1)), vec![40, 200]);
        assert_eq!(f.luma_thumbnail(PixelSize::new(1, 1)), vec![120]);
    }

    #[test]
    fn video_range_grey_and_colours_convert_like_bt601() {
        // Y=235 U=V=128 (video range) is white; Y=16 black; BT.601 pure red is (81, 90, 240).
        for (y, u, v, rgb) in
            [(235u8, 128u8, 128u8, [255u8, 255, 255]), (16, 128, 128, [0, 0, 0]), (81, 90, 240, [255, 0, 0])]
        {
            let (data, planes) = i420(4, 4, |_, _| y, u, v);
            let f = FramePlanes::new(PixelLayout::I420, PixelSize::new(4, 4), &data, planes, YuvColor::BT601).unwrap();
            let out = f.upright_rgba(Rotation::R0, PixelSize::new(2, 2));
            for px in out.chunks(4) {
                for c in 0..3 {
                    assert!((px[c] as i32 - rgb[c] as i32).abs() <= 2, "{y},{u},{v} -> {px:?}, want {rgb:?}");
                }
                assert_eq!(px[3], 255);
            }
        }
    }

    #[test]
    fn nv12_and_rgba_read_the_same_picture() {
        // 4x2, Y varies per column; chroma neutral. NV12: UV interleaved.
        let (w, h) = (4u32, 2u32);
        let ys = [16u8, 80, 160, 235];
        let mut nv12: Vec<u8> = (0..h).flat_map(|_| ys).collect();
        nv12.extend([128u8; 4]);
        let planes = vec![Plane { offset: 0, stride: 4 }, Plane { offset: 8, stride: 4 }];
        let f = FramePlanes::new(PixelLayout::Nv12, PixelSize::new(w, h), &nv12, planes, YuvColor::BT601).unwrap();
        let from_yuv = f.upright_rgba(Rotation::R0, PixelSize::new(4, 2));
        let rgba = from_yuv.clone();
        let g = FramePlanes::new(
            PixelLayout::Rgba,
            PixelSize::new(w, h),
            &rgba,
            vec![Plane { offset: 0, stride: 16 }],
            YuvColor::BT601,
        )
        .unwrap();
        assert_eq!(g.upright_rgba(Rotation::R0, PixelSize::new(4, 2)), from_yuv);
        // BGRA swaps the channels back.
        let bgra: Vec<u8> = rgba.chunks(4).flat_map(|p| [p[2], p[1], p[0], p[3]]).collect();
        let b = FramePlanes::new(
            PixelLayout::Bgra,
            PixelSize::new(w, h),
            &bgra,
            vec![Plane { offset: 0, stride: 16 }],
            YuvColor::BT601,
        )
        .unwrap();
        assert_eq!(b.upright_rgba(Rotation::R0, PixelSize::new(4, 2)), from_yuv);
        assert_eq!(f.luma_thumbnail(PixelSize::new(4, 1)), ys.to_vec());
    }

    #[test]
    fn rotation_turns_the_image_clockwise() {
        // RGBA 2x1: red, blue. Turned 90 degrees clockwise it is 1x2: red on top.
        let data = [255u8, 0, 0, 255, 0, 0, 255, 255];
        let f = FramePlanes::new(
            PixelLayout::Rgba,
            PixelSize::new(2, 1),
            &data,
            vec![Plane { offset: 0, stride: 8 }],
            YuvColor::BT601,
        )
        .unwrap();
        let red = [255u8, 0, 0, 255];
        let blue = [0u8, 0, 255, 255];
        assert_eq!(f.upright_rgba(Rotation::R0, PixelSize::new(2, 1)), [red, blue].concat());
        assert_eq!(f.upright_rgba(Rotation::R90, PixelSize::new(1, 2)), [red, blue].concat());
        assert_eq!(f.upright_rgba(Rotation::R180, PixelSize::new(2, 1)), [blue, red].concat());
        assert_eq!(f.upright_rgba(Rotation::R270, PixelSize::new(1, 2)), [blue, red].concat());
    }

    /// The average of one box, summed sample by sample (what `averages` must equal).
    fn naive_average(f: &FramePlanes, xs: (usize, usize), ys: (usize, usize)) -> [f32; 3] {
        let sum = |plane: usize, xs: (usize, usize), ys: (usize, usize), step: usize, first: usize| -> u32 {
            let p = f.planes[plane];
            let mut total = 0;
            for y in ys.0..ys.1 {
                for x in xs.0..xs.1 {
                    total += f.data[p.offset + y * p.stride + x * step + first] as u32;
                }
            }
            total
        };
        let n = ((xs.1 - xs.0) * (ys.1 - ys.0)) as f32;
        match f.layout {
            PixelLayout::Rgba => [0, 1, 2].map(|c| sum(0, xs, ys, 4, c) as f32 / n),
            PixelLayout::Bgra => [2, 1, 0].map(|c| sum(0, xs, ys, 4, c) as f32 / n),
            layout => {
                let (sx, sy) = layout.chroma_shift();
                let cxs = (xs.0 >> sx, ((xs.1 - 1) >> sx) + 1);
                let cys = (ys.0 >> sy, ((ys.1 - 1) >> sy) + 1);
                let cn = ((cxs.1 - cxs.0) * (cys.1 - cys.0)) as f32;
                let (u, v) = if layout == PixelLayout::Nv12 {
                    (sum(1, cxs, cys, 2, 0), sum(1, cxs, cys, 2, 1))
                } else {
                    (sum(1, cxs, cys, 1, 0), sum(2, cxs, cys, 1, 0))
                };
                [sum(0, xs, ys, 1, 0) as f32 / n, u as f32 / cn, v as f32 / cn]
            }
        }
    }

    #[test]
    fn box_averages_equal_sample_by_sample_sums() {
        // Every layout, odd sizes, padded strides, down- and upscaling.
        let (w, h) = (37usize, 23usize);
        let noise = |i: usize| ((i * 2_654_435_761) >> 7) as u8;
        let data: Vec<u8> = (0..w * h * 8 + 64).map(noise).collect();
        for layout in [
            PixelLayout::I420,
            PixelLayout::I422,
            PixelLayout::I444,
            PixelLayout::Nv12,
            PixelLayout::Rgba,
            PixelLayout::Bgra,
        ] {
            let (sx, sy) = layout.chroma_shift();
            let (cw, ch) = (w.div_ceil(1 << sx), h.div_ceil(1 << sy));
            let planes = match layout {
                PixelLayout::Rgba | PixelLayout::Bgra => vec![Plane { offset: 3, stride: w * 4 + 5 }],
                PixelLayout::Nv12 => {
                    vec![Plane { offset: 0, stride: w + 3 }, Plane { offset: (w + 3) * h, stride: cw * 2 + 1 }]
                }
                _ => vec![
                    Plane { offset: 1, stride: w + 2 },
                    Plane { offset: 1 + (w + 2) * h, stride: cw + 1 },
                    Plane { offset: 1 + (w + 2) * h + (cw + 1) * ch, stride: cw + 1 },
                ],
            };
            let f =
                FramePlanes::new(layout, PixelSize::new(w as u32, h as u32), &data, planes, YuvColor::BT709).unwrap();
            for (ow, oh) in [(5u32, 3u32), (10, 7), (37, 23), (60, 41), (1, 1)] {
                let (xs, ys) = (spans(w as u32, ow), spans(h as u32, oh));
                let fast = f.averages(&xs, &ys);
                let naive: Vec<[f32; 3]> = ys
                    .iter()
                    .flat_map(|&y| xs.iter().map(move |&x| (x, y)))
                    .map(|(x, y)| naive_average(&f, x, y))
                    .collect();
                assert_eq!(fast, naive, "{layout:?} -> {ow}x{oh}");
                let thumb = f.luma_thumbnail(PixelSize::new(ow, oh));
                let want: Vec<u8> = naive
                    .iter()
                    .map(|&[a, b, c]| if f.is_rgb() { (a * 77.0 + b * 150.0 + c * 29.0) / 256.0 } else { a })
                    .map(|l| l.round().clamp(0.0, 255.0) as u8)
                    .collect();
                assert_eq!(thumb, want, "{layout:?} thumbnail {ow}x{oh}");
            }
        }
    }

    #[test]
    fn layouts_that_do_not_fit_are_refused() {
        let (data, planes) = i420(8, 4, |_, _| 0, 128, 128);
        assert!(
            FramePlanes::new(PixelLayout::I420, PixelSize::new(8, 6), &data, planes.clone(), YuvColor::BT601).is_err()
        );
        assert!(FramePlanes::new(
            PixelLayout::I420,
            PixelSize::new(8, 4),
            &data,
            planes[..2].to_vec(),
            YuvColor::BT601
        )
        .is_err());
        assert!(FramePlanes::new(PixelLayout::I420, PixelSize::new(0, 4), &data, planes, YuvColor::BT601).is_err());
        assert_eq!(PixelLayout::from_format("I420P10"), None);
        assert_eq!(PixelLayout::from_format("NV12"), Some(PixelLayout::Nv12));
    }
}

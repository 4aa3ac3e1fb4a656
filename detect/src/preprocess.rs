//! Pre-processing as tensor ops, so it runs wherever the model runs (GPU on WebGPU): RGBA u8
//! frames of any size -> NCHW f32 `[n, 3, 300, 300]`, bilinear resize, value `x * 2/255 - 1`.
//! A batch of `n` frames (of one size) is uploaded as one tensor and run through the model at once.
//!
//! The resize is TF1's legacy bilinear (`align_corners = false`, `half_pixel_centers = false`,
//! no antialiasing), which is what the TF graph the model was trained with does: output pixel `d`
//! samples source coordinate `d * in / out`. burn's `interpolate` only offers half-pixel or
//! align-corners mapping, so the resize is written as two gathers (`select`) and two lerps,
//! rows then columns, with the taps and weights computed here (600 numbers, not per pixel).
//! [`resize_legacy_bilinear`] is shared with the QUALITY model (`crate::centernet`, 512x512, 0..255).

use burn::tensor::{Device, Int, Tensor, TensorData};

/// Model input side, pixels.
pub const INPUT_SIZE: usize = 300;

/// Source taps and weights for resizing `n_in` samples to `n_out`, TF1 legacy bilinear.
/// Float32 arithmetic exactly as TF (and `models/convert/make_fixtures.py`) computes it.
pub fn legacy_bilinear_taps(n_in: usize, n_out: usize) -> (Vec<i32>, Vec<i32>, Vec<f32>) {
    let scale = n_in as f32 / n_out as f32;
    let mut i0 = Vec::with_capacity(n_out);
    let mut i1 = Vec::with_capacity(n_out);
    let mut w = Vec::with_capacity(n_out);
    for d in 0..n_out {
        let src = d as f32 * scale;
        let lo = (src.floor() as usize).min(n_in - 1);
        i0.push(lo as i32);
        i1.push((lo + 1).min(n_in - 1) as i32);
        w.push(src - lo as f32);
    }
    (i0, i1, w)
}

/// An RGBA u8 frame handed to a detector: row-major, `width * height * 4` bytes.
#[derive(Debug, Clone, Copy)]
pub struct RgbaFrame<'a> {
    pub rgba: &'a [u8],
    pub width: u32,
    pub height: u32,
}

impl<'a> RgbaFrame<'a> {
    pub fn new(rgba: &'a [u8], width: u32, height: u32) -> Self {
        Self { rgba, width, height }
    }
}

/// Errors from pre-processing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreprocessError {
    /// `rgba.len()` is not `width * height * 4`, or a side is zero.
    BadFrame { width: u32, height: u32, len: usize },
    /// A batch holds no frame.
    EmptyBatch,
    /// The frames of a batch differ in size (they are stacked into one tensor).
    MixedSizes { first: (u32, u32), other: (u32, u32) },
    /// A region to look in (`(x, y, width, height)`) is empty or not inside its frame
    /// (`(width, height)`) (`crate::face`).
    BadRegion { region: (u32, u32, u32, u32), frame: (u32, u32) },
}

impl core::fmt::Display for PreprocessError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BadFrame { width, height, len } => {
                write!(
                    f,
                    "RGBA frame of {width}x{height} needs {} bytes, got {len}",
                    *width as usize * *height as usize * 4
                )
            }
            Self::EmptyBatch => write!(f, "a batch of frames for the detector holds no frame"),
            Self::MixedSizes { first, other } => {
                write!(f, "a batch of frames mixes {}x{} with {}x{}", first.0, first.1, other.0, other.1)
            }
            Self::BadRegion { region: (x, y, w, h), frame: (fw, fh) } => {
                write!(f, "region {w}x{h} at ({x}, {y}) is empty or not inside the {fw}x{fh} frame")
            }
        }
    }
}

impl std::error::Error for PreprocessError {}

/// Uploads frames of one size as one `[n, height, width, 4]` integer tensor on `device` (one
/// transfer for the whole batch).
pub fn upload_rgba(frames: &[RgbaFrame], device: &Device) -> Result<Tensor<4, Int>, PreprocessError> {
    let first = frames.first().ok_or(PreprocessError::EmptyBatch)?;
    let (w, h) = (first.width as usize, first.height as usize);
    let mut bytes = Vec::with_capacity(frames.len() * w * h * 4);
    for f in frames {
        if f.width == 0 || f.height == 0 || f.rgba.len() != f.width as usize * f.height as usize * 4 {
            return Err(PreprocessError::BadFrame { width: f.width, height: f.height, len: f.rgba.len() });
        }
        if (f.width, f.height) != (first.width, first.height) {
            return Err(PreprocessError::MixedSizes { first: (first.width, first.height), other: (f.width, f.height) });
        }
        bytes.extend_from_slice(f.rgba);
    }
    Ok(Tensor::<4, Int>::from_data(TensorData::new(bytes, [frames.len(), h, w, 4]), device))
}

/// Uploads RGBA u8 frames of one size and returns the model input `[n, 3, 300, 300]` on `device`.
pub fn preprocess_rgba(frames: &[RgbaFrame], device: &Device) -> Result<Tensor<4>, PreprocessError> {
    Ok(preprocess_tensor(upload_rgba(frames, device)?))
}

/// Same as [`preprocess_rgba`] for frames already on the device as `[n, height, width, 4]`
/// integers 0..255 (RGBA; alpha ignored).
pub fn preprocess_tensor(frames: Tensor<4, Int>) -> Tensor<4> {
    let resized = resize_legacy_bilinear(frames, INPUT_SIZE, INPUT_SIZE);
    // RGB only, NHWC -> NCHW, scale to -1..1.
    normalise(resized.narrow(3, 0, 3).permute([0, 3, 1, 2]))
}

/// NCHW RGB 0..255 -> the model's value range, `x * 2/255 - 1`.
pub fn normalise(rgb: Tensor<4>) -> Tensor<4> {
    rgb.mul_scalar(2.0f32 / 255.0).sub_scalar(1.0f32)
}

/// Resizes `[n, height, width, channels]` integer frames to `[n, out_h, out_w, channels]` floats
/// (same value range) with TF1's legacy bilinear mapping (see the module doc), as tensor ops on the
/// frames' device: two gathers and a lerp for the rows, then the same for the columns. Frames
/// already at the output size are only converted (the mapping is then the identity). Shared by
/// both models' pre-processing.
pub fn resize_legacy_bilinear(frames: Tensor<4, Int>, out_h: usize, out_w: usize) -> Tensor<4> {
    let device = frames.device();
    let [_, h, w, _] = frames.dims();
    if (h, w) == (out_h, out_w) {
        return frames.float();
    }
    let idx = |v: Vec<i32>| {
        let n = v.len();
        Tensor::<1, Int>::from_data(TensorData::new(v, [n]), &device)
    };
    let weights = |v: Vec<f32>, shape: [usize; 4]| Tensor::<4>::from_data(TensorData::new(v, shape), &device);

    // Rows: [n, h, w, c] -> [n, out_h, w, c].
    let (y0, y1, wy) = legacy_bilinear_taps(h, out_h);
    let top = frames.clone().select(1, idx(y0)).float();
    let bottom = frames.select(1, idx(y1)).float();
    let rows = top.clone() + (bottom - top) * weights(wy, [1, out_h, 1, 1]);

    // Columns: [n, out_h, w, c] -> [n, out_h, out_w, c].
    let (x0, x1, wx) = legacy_bilinear_taps(w, out_w);
    let left = rows.clone().select(2, idx(x0));
    let right = rows.select(2, idx(x1));
    left.clone() + (right - left) * weights(wx, [1, 1, out_w, 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_match_tf_legacy_mapping() {
        let (i0, i1, w) = legacy_bilinear_taps(600, 300);
        assert_eq!((i0[1], i1[1], w[1]), (2, 3, 0.0));
        let (i0, i1, w) = legacy_bilinear_taps(150, 300);
        assert_eq!((i0[1], i1[1], w[1]), (0, 1, 0.5));
        assert_eq!((i0[299], i1[299]), (149, 149));
        let (i0, _, _) = legacy_bilinear_taps(1, 300);
        assert!(i0.iter().all(|&v| v == 0));
    }
}

//! Pre-processing from a decoded frame's own planes, as tensor ops on the detector's device (the
//! GPU on WebGPU): the planes `VideoFrame.copyTo` gave (I420, I422, I444, NV12, RGBA, BGRA, with
//! their strides) go up as they are, and the device averages them down to the model input, turns
//! YUV into RGB and turns the image upright. The CPU does no per-pixel work.
//!
//! It computes what `reframe_core::frame_scale::FramePlanes::upright_rgba` computes on the CPU
//! (that is the reference the tests hold it to):
//! * area average: output sample `o` of `n_out` averages source samples
//!   `[floor(o * n_in / n_out), ceil((o + 1) * n_in / n_out))`, which is burn's
//!   `adaptive_avg_pool2d` on every backend (cubek-pool, flex, ndarray all use these bounds);
//! * YUV is averaged before the affine conversion to RGB, then rounded and clamped to 0..255.
//!   Chroma is averaged over its own plane's boxes, where the CPU takes the chroma samples under
//!   each luma box; the two differ by at most a chroma sample at box edges.
//!
//! Bytes travel packed four to an `i32` (no widening on the CPU, a quarter of the upload of one
//! integer per byte) and are unpacked on the device with shifts and masks.

use crate::preprocess::PreprocessError;
use burn::tensor::module::adaptive_avg_pool2d;
use burn::tensor::{DType, Device, Int, Tensor, TensorData};
use reframe_core::frame_scale::{FramePlanes, PixelLayout};
use reframe_core::units::{PixelSize, Rotation};

/// The most device memory a batch may take while its planes are unpacked (one `i32` per byte):
/// WebGPU promises storage buffers of 128 MiB only (`maxStorageBufferBindingSize`).
pub const BATCH_BYTES: u64 = 128 << 20;

/// Device bytes of a frame copy of `bytes` bytes while it is unpacked.
pub fn unpacked_bytes(bytes: u64) -> u64 {
    bytes * 4
}

/// How many `width` x `height` frames (4:2:0, 1.5 bytes a pixel) fit in [`BATCH_BYTES`]: 10 at
/// 1080p, 2 at 4K, 0 at 8K (such frames must be scaled elsewhere).
pub fn max_batch(width: u32, height: u32) -> u32 {
    let frame = width as u64 * height as u64 * 3 / 2;
    (BATCH_BYTES / unpacked_bytes(frame).max(1)).min(u32::MAX as u64) as u32
}

/// Uploads frames of one layout, size and plane arrangement and returns them upright, averaged
/// down to `out_w` x `out_h`, as RGB floats 0..255 (whole numbers) `[n, 3, out_h, out_w]`.
pub fn upright_rgb(
    frames: &[FramePlanes],
    rotation: Rotation,
    out_w: usize,
    out_h: usize,
    device: &Device,
) -> Result<Tensor<4>, PreprocessError> {
    let first = frames.first().ok_or(PreprocessError::EmptyBatch)?;
    for f in frames {
        if !f.same_shape(first) {
            return Err(PreprocessError::MixedSizes {
                first: (first.size.width, first.size.height),
                other: (f.size.width, f.size.height),
            });
        }
    }
    if out_w == 0 || out_h == 0 {
        return Err(PreprocessError::BadFrame { width: out_w as u32, height: out_h as u32, len: 0 });
    }
    // Averaged in the coded orientation, then turned.
    let coded = PixelSize::new(out_w as u32, out_h as u32).rotated(rotation);
    let coded = [coded.height as usize, coded.width as usize];
    let bytes = upload(frames, device);
    let rgb = match first.layout {
        PixelLayout::Rgba | PixelLayout::Bgra => {
            let [w, h] = [first.size.width as usize, first.size.height as usize];
            let pixels = plane(&bytes, first, 0, h, w * 4).reshape([frames.len(), h, w, 4]).permute([0, 3, 1, 2]);
            let rgb = pixels.narrow(1, 0, 3).float();
            let rgb = if first.layout == PixelLayout::Bgra { rgb.flip([1]) } else { rgb };
            round_half_up(adaptive_avg_pool2d(rgb, coded))
        }
        layout => {
            let n = frames.len();
            let [w, h] = [first.size.width as usize, first.size.height as usize];
            let (sx, sy) = layout.chroma_shift();
            let [cw, ch] = [w.div_ceil(1 << sx), h.div_ceil(1 << sy)];
            let y = plane(&bytes, first, 0, h, w).reshape([n, 1, h, w]).float();
            let uv = if layout == PixelLayout::Nv12 {
                plane(&bytes, first, 1, ch, cw * 2).reshape([n, ch, cw, 2]).permute([0, 3, 1, 2])
            } else {
                let u = plane(&bytes, first, 1, ch, cw).reshape([n, 1, ch, cw]);
                let v = plane(&bytes, first, 2, ch, cw).reshape([n, 1, ch, cw]);
                Tensor::cat(vec![u, v], 1)
            };
            let y = adaptive_avg_pool2d(y, coded);
            let uv = adaptive_avg_pool2d(uv.float(), coded);
            to_rgb(y, uv.clone().narrow(1, 0, 1), uv.narrow(1, 1, 1), first)
        }
    };
    Ok(turn_upright(rgb, rotation))
}

/// Every frame's buffer, packed four bytes to an `i32` (little-endian), one row per frame, and
/// unpacked on the device to `[n, bytes]` integers 0..255.
fn upload(frames: &[FramePlanes], device: &Device) -> Tensor<2, Int> {
    // One slot per frame, long enough for every plane's last row to its full stride.
    let f = &frames[0];
    let (_, sy) = f.layout.chroma_shift();
    let rows = |i: usize| if i == 0 { f.size.height as usize } else { (f.size.height as usize).div_ceil(1 << sy) };
    let end = f
        .planes
        .iter()
        .take(f.layout.planes())
        .enumerate()
        .map(|(i, p)| p.offset + p.stride * rows(i))
        .max()
        .unwrap_or(0);
    let slot = end.div_ceil(4) * 4;
    let mut packed = vec![0u8; frames.len() * slot];
    for (dst, frame) in packed.chunks_exact_mut(slot).zip(frames) {
        let len = frame.data.len().min(slot);
        dst[..len].copy_from_slice(&frame.data[..len]);
    }
    let words = TensorData::from_bytes_vec(packed, [frames.len(), slot / 4], DType::I32);
    let words = Tensor::<2, Int>::from_data(words, device);
    let byte = |shift: i32| words.clone().bitwise_right_shift_scalar(shift).bitwise_and_scalar(255);
    Tensor::stack::<3>(vec![byte(0), byte(8), byte(16), byte(24)], 2).reshape([frames.len() as i32, -1])
}

/// One plane's samples `[n, rows, row_bytes]` out of the unpacked buffers.
fn plane(bytes: &Tensor<2, Int>, frame: &FramePlanes, index: usize, rows: usize, row_bytes: usize) -> Tensor<3, Int> {
    let p = frame.planes[index];
    let n = bytes.dims()[0];
    bytes
        .clone()
        .slice([0..n, p.offset..p.offset + p.stride * rows])
        .reshape([n, rows, p.stride])
        .narrow(2, 0, row_bytes)
}

/// Averaged Y, U, V `[n, 1, h, w]` each -> RGB `[n, 3, h, w]`, rounded and clamped to 0..255, as
/// `frame_scale` converts (same matrix, range and order of operations).
fn to_rgb(y: Tensor<4>, u: Tensor<4>, v: Tensor<4>, frame: &FramePlanes) -> Tensor<4> {
    let c = frame.color;
    let (y, u, v) = if c.full_range {
        (y, u.sub_scalar(128.0), v.sub_scalar(128.0))
    } else {
        (
            y.sub_scalar(16.0).mul_scalar(255.0 / 219.0),
            u.sub_scalar(128.0).mul_scalar(255.0 / 224.0),
            v.sub_scalar(128.0).mul_scalar(255.0 / 224.0),
        )
    };
    let kg = 1.0 - c.kr - c.kb;
    let r = y.clone() + v.mul_scalar(2.0 * (1.0 - c.kr));
    let b = y.clone() + u.mul_scalar(2.0 * (1.0 - c.kb));
    let g = (y - r.clone().mul_scalar(c.kr) - b.clone().mul_scalar(c.kb)).div_scalar(kg);
    round_half_up(Tensor::cat(vec![r, g, b], 1)).clamp(0.0, 255.0)
}

/// `[n, c, h, w]` in the coded orientation -> upright (`rotation` clockwise), as `frame_scale`
/// turns its small image.
fn turn_upright(image: Tensor<4>, rotation: Rotation) -> Tensor<4> {
    match rotation {
        Rotation::R0 => image,
        Rotation::R90 => image.swap_dims(2, 3).flip([3]),
        Rotation::R180 => image.flip([2, 3]),
        Rotation::R270 => image.swap_dims(2, 3).flip([2]),
    }
}

/// Rounds halves up, as `f32::round` does for the non-negative values that matter here (burn's
/// `round` takes halves to even, which averages of two samples hit often).
fn round_half_up(x: Tensor<4>) -> Tensor<4> {
    x.add_scalar(0.5).floor()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_fit_a_storage_buffer() {
        assert_eq!(max_batch(1920, 1080), 10);
        assert_eq!(max_batch(3840, 2160), 2);
        assert_eq!(max_batch(7680, 4320), 0);
        for (w, h) in [(640, 360), (1920, 1080), (3840, 2160), (5120, 2880)] {
            let n = max_batch(w, h) as u64;
            assert!(n * unpacked_bytes(w as u64 * h as u64 * 3 / 2) <= BATCH_BYTES);
        }
    }
}

//! Box decoding in plain Rust, after the network: the SSDLite model's TF box decoding against its
//! anchors and sigmoid scores ([`postprocess`]), and what both models share: the greedy NMS
//! ([`non_max_suppression`]), the result types and the mapping to source pixels
//! ([`to_source_pixels`]). (CenterNet's own peak test and box rule are in `crate::centernet`.)
//!
//! The SSDLite rules mirror the TF Object Detection API graph the model comes from (read out of it
//! by `models/convert/convert_ssdlite.py`): `FasterRcnnBoxCoder` with scales (10, 10, 5, 5), sigmoid
//! score conversion, boxes clipped to the [0, 1] window (empty ones dropped), then NMS that
//! suppresses a box whose IoU with a kept box exceeds 0.6, at most 100 boxes. The reference
//! (`models/convert/make_fixtures.py`) uses the same rules in numpy.

/// Number of anchors (and so of raw predictions) of the SSDLite model.
pub const NUM_ANCHORS: usize = 1917;

/// TF box coder scales for (y, x, h, w).
pub const BOX_CODER_SCALES: [f32; 4] = [10.0, 10.0, 5.0, 5.0];

/// One detected person, in source-frame pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// Left edge, pixels from the frame's left.
    pub x: f32,
    /// Top edge, pixels from the frame's top.
    pub y: f32,
    pub width: f32,
    pub height: f32,
    /// Person probability, 0..1.
    pub score: f32,
}

/// Post-processing parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectParams {
    /// Keep boxes whose person score is >= this.
    pub score_threshold: f32,
    /// Suppress a box whose IoU with an already kept box is > this.
    pub iou_threshold: f32,
    /// Keep at most this many boxes.
    pub max_detections: usize,
}

impl Default for DetectParams {
    /// The TF graph's own NMS settings (IoU 0.6, 100 boxes) with a usable score threshold.
    fn default() -> Self {
        Self { score_threshold: 0.3, iou_threshold: 0.6, max_detections: 100 }
    }
}

/// Anchors as `[ymin, xmin, ymax, xmax]`, normalised to the model input.
pub fn anchors_from_le_bytes(bytes: &[u8]) -> Vec<[f32; 4]> {
    bytes
        .chunks_exact(16)
        .map(|c| {
            let f = |i: usize| f32::from_le_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
            [f(0), f(4), f(8), f(12)]
        })
        .collect()
}

/// Numerically safe logistic function.
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Decodes one box encoding `(ty, tx, th, tw)` against its anchor; returns `[ymin, xmin, ymax, xmax]`.
pub fn decode_box(rel: [f32; 4], anchor: [f32; 4]) -> [f32; 4] {
    let [ymin_a, xmin_a, ymax_a, xmax_a] = anchor;
    let ha = ymax_a - ymin_a;
    let wa = xmax_a - xmin_a;
    let yc_a = ymin_a + ha / 2.0;
    let xc_a = xmin_a + wa / 2.0;
    let ty = rel[0] / BOX_CODER_SCALES[0];
    let tx = rel[1] / BOX_CODER_SCALES[1];
    let th = rel[2] / BOX_CODER_SCALES[2];
    let tw = rel[3] / BOX_CODER_SCALES[3];
    let h = th.exp() * ha;
    let w = tw.exp() * wa;
    let yc = ty * ha + yc_a;
    let xc = tx * wa + xc_a;
    [yc - h / 2.0, xc - w / 2.0, yc + h / 2.0, xc + w / 2.0]
}

/// IoU of two `[ymin, xmin, ymax, xmax]` boxes; 0 when either is empty.
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let area_a = (a[2] - a[0]) * (a[3] - a[1]);
    let area_b = (b[2] - b[0]) * (b[3] - b[1]);
    if area_a <= 0.0 || area_b <= 0.0 {
        return 0.0;
    }
    let ih = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iw = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ih * iw;
    inter / (area_a + area_b - inter)
}

/// A kept box before mapping to pixels, with the index of its anchor (SSDLite) or grid cell
/// (CenterNet), for tests, debugging and a deterministic order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormalisedDetection {
    /// `[ymin, xmin, ymax, xmax]` in 0..1.
    pub bbox: [f32; 4],
    pub score: f32,
    pub anchor: usize,
}

/// Decodes the raw model outputs (box encodings `[1917 * 4]`, class logits `[1917 * 2]`),
/// then thresholds, clips and runs NMS. Sorted by score, highest first.
pub fn postprocess(
    box_encodings: &[f32],
    class_logits: &[f32],
    anchors: &[[f32; 4]],
    params: &DetectParams,
) -> Vec<NormalisedDetection> {
    let n = anchors.len();
    assert_eq!(box_encodings.len(), n * 4, "box encodings length");
    assert_eq!(class_logits.len(), n * 2, "class logits length");

    let candidates: Vec<NormalisedDetection> = (0..n)
        .filter_map(|i| {
            let score = sigmoid(class_logits[i * 2 + 1]);
            if score < params.score_threshold {
                return None;
            }
            let rel =
                [box_encodings[i * 4], box_encodings[i * 4 + 1], box_encodings[i * 4 + 2], box_encodings[i * 4 + 3]];
            let b = decode_box(rel, anchors[i]).map(|v| v.clamp(0.0, 1.0));
            (b[2] > b[0] && b[3] > b[1]).then_some(NormalisedDetection { bbox: b, score, anchor: i })
        })
        .collect();
    non_max_suppression(candidates, params)
}

/// Greedy NMS, shared by both models: sorts the candidates by score descending, then anchor (or
/// cell) index (deterministic, the references' order), and keeps each one whose IoU with every box
/// kept before it is <= `params.iou_threshold`, at most `params.max_detections`. Sorted by score,
/// highest first.
pub fn non_max_suppression(
    mut candidates: Vec<NormalisedDetection>,
    params: &DetectParams,
) -> Vec<NormalisedDetection> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.anchor.cmp(&b.anchor)));

    let mut kept: Vec<NormalisedDetection> = Vec::new();
    for c in candidates {
        if kept.len() >= params.max_detections {
            break;
        }
        if kept.iter().all(|k| iou(&c.bbox, &k.bbox) <= params.iou_threshold) {
            kept.push(c);
        }
    }
    kept
}

/// Maps normalised boxes to pixels of a `width` x `height` source frame.
pub fn to_source_pixels(dets: &[NormalisedDetection], width: u32, height: u32) -> Vec<Detection> {
    let (w, h) = (width as f32, height as f32);
    dets.iter()
        .map(|d| {
            let [ymin, xmin, ymax, xmax] = d.bbox;
            Detection { x: xmin * w, y: ymin * h, width: (xmax - xmin) * w, height: (ymax - ymin) * h, score: d.score }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_encoding_gives_the_anchor() {
        let a = [0.1, 0.2, 0.5, 0.4];
        let b = decode_box([0.0; 4], a);
        for (x, y) in a.iter().zip(b.iter()) {
            assert!((x - y).abs() < 1e-6);
        }
    }

    #[test]
    fn nms_suppresses_overlaps_and_keeps_disjoint() {
        // Three anchors: two nearly identical, one apart. Logit 0 for class 1 = score 0.5.
        let anchors = vec![[0.1, 0.1, 0.5, 0.5], [0.11, 0.1, 0.51, 0.5], [0.6, 0.6, 0.9, 0.9]];
        let enc = vec![0.0; 12];
        let logits = vec![0.0, 2.0, 0.0, 1.0, 0.0, 0.5];
        let out = postprocess(&enc, &logits, &anchors, &DetectParams::default());
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].anchor, 0);
        assert_eq!(out[1].anchor, 2);
        let px = to_source_pixels(&out, 200, 100);
        assert!((px[0].x - 20.0).abs() < 1e-4 && (px[0].y - 10.0).abs() < 1e-4);
        assert!((px[0].width - 80.0).abs() < 1e-4 && (px[0].height - 40.0).abs() < 1e-4);
    }

    #[test]
    fn boxes_are_clipped_and_empty_ones_dropped() {
        let anchors = vec![[-0.2, -0.2, 0.3, 0.3], [1.1, 1.1, 1.3, 1.3]];
        let out = postprocess(&[0.0; 8], &[0.0, 3.0, 0.0, 3.0], &anchors, &DetectParams::default());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].bbox, [0.0, 0.0, 0.3, 0.3]);
    }
}

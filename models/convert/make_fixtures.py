"""Reference fixtures for detect/tests: onnxruntime on the converted ONNX, plus a plain-numpy decode.

Run by convert.sh inside the pinned venv; never by the normal build.

    python make_fixtures.py <ssdlite_person.onnx> <anchors.bin> <frozen_inference_graph.pb> <fixtures_dir>

For each input image (scikit-image's astronaut; frame 100, counted from 0, of Debian opencv-doc's
vtest.avi) it writes into <fixtures_dir>:
  <name>.png               the RGB input, at its own size (the Rust test resizes it itself)
  <name>.boxes.bin         raw output concat:0   [1,1917,1,4] f32 little-endian
  <name>.logits.bin        raw output concat_1:0 [1,1917,2]   f32 little-endian
  <name>.detections.json   decoded boxes in source pixels after sigmoid, clip, NMS
Cross-checks (printed, and asserted): our numpy resize equals TF's own ResizeBilinear, and our decode
equals the detections of the original TF graph run end to end on the uint8 image.
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort
from PIL import Image

SCALES = np.array([10.0, 10.0, 5.0, 5.0], dtype=np.float32)
IOU = 0.6
SCORE_THRESHOLD = 0.25  # the fixtures' threshold; low enough to include weak detections
MAX_DETECTIONS = 100
VTEST = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"


def resize_legacy_bilinear(img, out_h, out_w):
    """TF1 ResizeBilinear (align_corners=False, half_pixel_centers=False) on float32 HWC.

    Same arithmetic as detect/src/preprocess.rs: rows first, then columns, each a lerp
    a + (b - a) * w in float32."""
    h, w, _ = img.shape
    img = img.astype(np.float32)

    def taps(n_in, n_out):
        # float32 scale and product, as TF computes them (and as the Rust side does)
        src = np.arange(n_out, dtype=np.float32) * (np.float32(n_in) / np.float32(n_out))
        i0 = np.floor(src).astype(np.int64)
        i0 = np.minimum(i0, n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, (src - i0.astype(np.float32)).astype(np.float32)

    y0, y1, wy = taps(h, out_h)
    x0, x1, wx = taps(w, out_w)
    top, bot = img[y0], img[y1]
    rows = top + (bot - top) * wy[:, None, None]
    left, right = rows[:, x0], rows[:, x1]
    return left + (right - left) * wx[None, :, None]


def preprocess(rgb):
    x = resize_legacy_bilinear(rgb, 300, 300)
    x = x * np.float32(2.0 / 255.0) - np.float32(1.0)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)


def sigmoid(x):
    return (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(np.float32)


def decode(rel, anchors):
    """TF Object Detection API FasterRcnnBoxCoder decode; returns [N,4] ymin,xmin,ymax,xmax."""
    rel = rel.reshape(-1, 4).astype(np.float32) / SCALES
    ymin_a, xmin_a, ymax_a, xmax_a = anchors.T
    ha, wa = ymax_a - ymin_a, xmax_a - xmin_a
    yc_a, xc_a = ymin_a + ha / 2, xmin_a + wa / 2
    ty, tx, th, tw = rel.T
    h, w = np.exp(th) * ha, np.exp(tw) * wa
    yc, xc = ty * ha + yc_a, tx * wa + xc_a
    return np.stack([yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2], axis=1).astype(np.float32)


def iou(a, b):
    ia = (a[2] - a[0]) * (a[3] - a[1])
    ib = (b[2] - b[0]) * (b[3] - b[1])
    if ia <= 0 or ib <= 0:
        return 0.0
    ih = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iw = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ih * iw
    return inter / (ia + ib - inter)


def postprocess(box_enc, logits, anchors, threshold=SCORE_THRESHOLD):
    """Same rules as detect/src/decode.rs: sigmoid person score >= threshold, decode, clip to
    [0,1], drop empty boxes, greedy NMS (suppress IoU > 0.6), at most 100, by score then index."""
    scores = sigmoid(logits.reshape(-1, 2)[:, 1])
    boxes = np.clip(decode(box_enc, anchors), 0.0, 1.0)
    cand = [
        i for i in range(len(scores))
        if scores[i] >= threshold and boxes[i, 2] > boxes[i, 0] and boxes[i, 3] > boxes[i, 1]
    ]
    cand.sort(key=lambda i: (-float(scores[i]), i))
    keep = []
    for i in cand:
        if len(keep) == MAX_DETECTIONS:
            break
        if all(iou(boxes[i], boxes[k]) <= IOU for k in keep):
            keep.append(i)
    return [(boxes[i], float(scores[i]), i) for i in keep]


def to_pixels(dets, width, height):
    out = []
    for b, s, i in dets:
        ymin, xmin, ymax, xmax = (float(v) for v in b)
        out.append({
            "x": xmin * width, "y": ymin * height,
            "width": (xmax - xmin) * width, "height": (ymax - ymin) * height,
            "score": s, "anchor": i,
        })
    return out


def load_inputs(tmp):
    from skimage import data

    astronaut = np.asarray(data.astronaut())[:, :, :3]
    frame = os.path.join(tmp, "vtest_100.png")
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-i", VTEST, "-vf", "select=eq(n\\,100)",
         "-vframes", "1", "-pix_fmt", "rgb24", frame],
        check=True,
    )
    vtest = np.asarray(Image.open(frame).convert("RGB"))
    return {"astronaut": astronaut, "vtest_100": vtest}


def tf_checks(pb, name, rgb, ours_pixels):
    """Compare our resize with TF's, and our whole chain with the original TF graph's output."""
    import tensorflow as tf
    from tensorflow.core.framework import graph_pb2

    tf_resized = tf.compat.v1.image.resize_bilinear(
        rgb[None].astype(np.float32), [300, 300], align_corners=False, half_pixel_centers=False
    ).numpy()[0]
    d_resize = float(np.abs(tf_resized - resize_legacy_bilinear(rgb, 300, 300)).max())
    assert d_resize < 1e-3, d_resize

    gd = graph_pb2.GraphDef()
    with open(pb, "rb") as f:
        gd.ParseFromString(f.read())
    g = tf.Graph()
    with g.as_default():
        tf.compat.v1.import_graph_def(gd, name="")
    with tf.compat.v1.Session(graph=g) as s:
        boxes, scores, num = s.run(
            ["detection_boxes:0", "detection_scores:0", "num_detections:0"], {"image_tensor:0": rgb[None]}
        )
    h, w = rgb.shape[:2]
    tf_dets = [
        (boxes[0, i], float(scores[0, i])) for i in range(int(num[0])) if scores[0, i] >= SCORE_THRESHOLD
    ]
    assert len(tf_dets) == len(ours_pixels), (name, len(tf_dets), len(ours_pixels))
    d_px, d_score = 0.0, 0.0
    for (b, s), o in zip(tf_dets, ours_pixels):
        ymin, xmin, ymax, xmax = (float(v) for v in b)
        ref = [xmin * w, ymin * h, (xmax - xmin) * w, (ymax - ymin) * h]
        got = [o["x"], o["y"], o["width"], o["height"]]
        d_px = max(d_px, max(abs(a - b) for a, b in zip(ref, got)))
        d_score = max(d_score, abs(s - o["score"]))
    return d_resize, d_px, d_score


def main():
    onnx_path, anchors_path, pb, out = sys.argv[1:5]
    os.makedirs(out, exist_ok=True)
    anchors = np.fromfile(anchors_path, dtype="<f4").reshape(-1, 4)
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0].name
    summary = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, rgb in load_inputs(tmp).items():
            h, w = rgb.shape[:2]
            Image.fromarray(rgb).save(os.path.join(out, f"{name}.png"), optimize=True)
            box_enc, logits = sess.run(["concat:0", "concat_1:0"], {inp: preprocess(rgb)})
            assert box_enc.shape == (1, 1917, 1, 4) and logits.shape == (1, 1917, 2)
            box_enc.astype("<f4").tofile(os.path.join(out, f"{name}.boxes.bin"))
            logits.astype("<f4").tofile(os.path.join(out, f"{name}.logits.bin"))
            dets = to_pixels(postprocess(box_enc, logits, anchors), w, h)
            with open(os.path.join(out, f"{name}.detections.json"), "w") as f:
                json.dump({
                    "width": w, "height": h, "score_threshold": SCORE_THRESHOLD, "iou_threshold": IOU,
                    "max_detections": MAX_DETECTIONS, "boxes": dets,
                }, f, indent=1)
                f.write("\n")
            d_resize, d_px, d_score = tf_checks(pb, name, rgb, dets)
            summary[name] = {
                "size": [w, h], "detections": len(dets),
                "scores": [round(d["score"], 4) for d in dets],
                "max_abs_resize_vs_tf": d_resize,
                "max_abs_box_px_vs_tf_graph": d_px, "max_abs_score_vs_tf_graph": d_score,
            }
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()

"""Reference fixtures and agreement figures for the QUALITY model (CenterNet-MobileNetV3).

Run by convert_centernet.sh inside the pinned venv; never by the normal build.

    python make_fixtures_centernet.py <centernet_person.onnx> <centernet_resize.onnx> <centernet.pb>
                                      <tfjs model.json> <tfjs-ref dir | -> <fixtures_dir> <meta.json>

Inputs are the committed PNGs of the FAST model's fixtures (scikit-image's astronaut, frame 100 of
vtest.avi), resized in numpy exactly as detect/src/preprocess.rs does (TF1 legacy bilinear, 0..255).
For each it writes into <fixtures_dir>:
  <name>.centernet.person.bin         heatmap channel 0 (person) [128,128] f32 LE (onnxruntime, shipped ONNX)
  <name>.centernet.wh.bin             wh [128,128,4] f32 LE
  <name>.centernet.detections.json    decoded boxes in source pixels (Rust rules, numpy)
and it records in <meta.json> ("checks") the measured agreement of:
  * our numpy resize vs TF's ResizeBilinear;
  * the GraphDef made by tfjs_to_graphdef.py (TF 2.15) vs the original tfjs model run by tfjs 4.22
    on its CPU backend (tfjs-ref/run.mjs; skipped when the tfjs-ref dir is `-`);
  * onnxruntime on tf2onnx's ONNX (with Resize) vs the TF GraphDef;
  * onnxruntime, the shipped ONNX (no Resize, person channel only: what burn imports) vs the one
    with Resize (its person channel);
  * our decode vs the TF graph's own decoder (tower_0/detections, person rows above the threshold).
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import resize_legacy_bilinear  # noqa: E402  (same arithmetic as the Rust side)

SIZE, GRID, STRIDE, CLASSES, PERSON = 512, 128, 4.0, 80, 0
SCORE_THRESHOLD = 0.3  # the fixtures' threshold: lower than the app's 0.5, so more boxes are compared
DEFAULT_THRESHOLD = 0.5
IOU = 0.6
MAX_DETECTIONS = 100
NAMES = ["astronaut", "vtest_100"]


def preprocess_nhwc(rgb):
    return resize_legacy_bilinear(rgb, SIZE, SIZE)[None].astype(np.float32)


def peaks(heat):
    """Cells equal to their 3x3 maximum (MaxPool 3x3 SAME), as a boolean [128,128]."""
    padded = np.pad(heat, 1, constant_values=-np.inf)
    windows = np.stack([padded[dy:dy + GRID, dx:dx + GRID] for dy in range(3) for dx in range(3)])
    return heat >= windows.max(axis=0)


def candidates(heat, wh, threshold):
    """Peak cells with score >= threshold: (score, cell, raw box x1,y1,x2,y2 in input pixels),
    sorted by score then cell (float32 arithmetic, as in Rust)."""
    out = []
    keep = peaks(heat) & (heat >= np.float32(threshold))
    for i, j in zip(*np.nonzero(keep)):
        cx, cy = np.float32(j) * np.float32(STRIDE), np.float32(i) * np.float32(STRIDE)
        l, t, r, b = wh[i, j]
        out.append((float(heat[i, j]), int(i * GRID + j), np.array([cx - l, cy - t, cx + r, cy + b], np.float32)))
    out.sort(key=lambda c: (-c[0], c[1]))
    return out


def iou(a, b):
    ia = (a[2] - a[0]) * (a[3] - a[1])
    ib = (b[2] - b[0]) * (b[3] - b[1])
    if ia <= 0 or ib <= 0:
        return 0.0
    ih = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iw = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ih * iw
    return inter / (ia + ib - inter)


def postprocess(heat, wh, threshold=SCORE_THRESHOLD, iou_threshold=IOU, max_det=MAX_DETECTIONS):
    """Same rules as detect/src/centernet.rs: peaks >= threshold, clip to the input, normalise
    ([ymin, xmin, ymax, xmax] / 512), drop empty, greedy NMS (suppress IoU > 0.6), at most 100."""
    size = np.float32(SIZE)
    dets = []
    for score, cell, (x1, y1, x2, y2) in candidates(heat, wh, threshold):
        clip = lambda v: np.float32(np.clip(v, np.float32(0), size) / size)  # noqa: E731
        box = np.array([clip(y1), clip(x1), clip(y2), clip(x2)], np.float32)
        if box[2] > box[0] and box[3] > box[1]:
            dets.append((box, score, cell))
    keep = []
    for d in dets:
        if len(keep) == max_det:
            break
        if all(iou(d[0], k[0]) <= iou_threshold for k in keep):
            keep.append(d)
    return keep


def to_pixels(dets, width, height):
    w, h = np.float32(width), np.float32(height)
    return [
        {
            "x": float(b[1] * w), "y": float(b[0] * h),
            "width": float((b[3] - b[1]) * w), "height": float((b[2] - b[0]) * h),
            "score": s, "cell": c,
        }
        for b, s, c in dets
    ]


def run_tf(pb, x_nhwc):
    import tensorflow as tf
    from tensorflow.core.framework import graph_pb2

    gd = graph_pb2.GraphDef()
    with open(pb, "rb") as f:
        gd.ParseFromString(f.read())
    g = tf.Graph()
    with g.as_default():
        tf.compat.v1.import_graph_def(gd, name="")
    with tf.compat.v1.Session(graph=g) as s:
        return s.run(["tower_0/keypoints:0", "tower_0/wh:0", "tower_0/detections:0"], {"tower_0/images:0": x_nhwc})


def tf_resize(rgb):
    import tensorflow as tf

    return tf.compat.v1.image.resize_bilinear(
        rgb[None].astype(np.float32), [SIZE, SIZE], align_corners=False, half_pixel_centers=False
    ).numpy()


def max_abs(a, b):
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max())


def main():
    onnx_path, onnx_resize, pb, tfjs_json, tfjs_ref, out, meta_path = sys.argv[1:8]
    shipped = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    original = ort.InferenceSession(onnx_resize, providers=["CPUExecutionProvider"])
    checks, summary = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        inputs = {}
        for name in NAMES:
            rgb = np.asarray(Image.open(os.path.join(out, f"{name}.png")).convert("RGB"))
            inputs[name] = (rgb, preprocess_nhwc(rgb))
            inputs[name][1].astype("<f4").tofile(os.path.join(tmp, f"{name}.f32"))
        tfjs = {}
        if tfjs_ref != "-":
            subprocess.run(
                ["node", os.path.join(tfjs_ref, "run.mjs"), tfjs_json, tmp] + [os.path.join(tmp, f"{n}.f32") for n in NAMES],
                check=True,
            )
            for name in NAMES:
                tfjs[name] = [
                    np.fromfile(os.path.join(tmp, f"{name}.tfjs.{k}.f32"), "<f4").reshape(shape)
                    for k, shape in [("keypoints", (1, GRID, GRID, CLASSES)), ("wh", (1, GRID, GRID, 4)), ("detections", (1, 100, 6))]
                ]

        for name in NAMES:
            rgb, x = inputs[name]
            h, w = rgb.shape[:2]
            nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
            kp, wh = shipped.run(["tower_0/keypoints:0", "tower_0/wh:0"], {"tower_0/images:0": nchw})
            kp_o, wh_o = original.run(["tower_0/keypoints:0", "tower_0/wh:0"], {"tower_0/images:0": nchw})
            kp_tf, wh_tf, det_tf = run_tf(pb, x)
            assert kp.shape == (1, GRID, GRID, 1) and wh.shape == (1, GRID, GRID, 4)
            assert kp_o.shape == kp_tf.shape == (1, GRID, GRID, CLASSES)
            person_o, person_tf = kp_o[..., PERSON:PERSON + 1], kp_tf[..., PERSON:PERSON + 1]
            c = {
                "resize_numpy_vs_tf": max_abs(x, tf_resize(rgb)),
                "ort_resize_onnx_vs_tf_graphdef": {"heatmap": max_abs(kp_o, kp_tf), "wh_px": max_abs(wh_o, wh_tf)},
                "ort_rewritten_vs_ort_resize_onnx": {"heatmap": max_abs(kp, person_o), "wh_px": max_abs(wh, wh_o)},
                "ort_rewritten_vs_tf_graphdef": {"heatmap": max_abs(kp, person_tf), "wh_px": max_abs(wh, wh_tf)},
            }
            if name in tfjs:
                kp_js, wh_js, det_js = tfjs[name]
                c["tf_graphdef_vs_tfjs_original"] = {
                    "heatmap": max_abs(kp_tf, kp_js), "wh_px": max_abs(wh_tf, wh_js), "detections": max_abs(det_tf, det_js),
                }
            assert c["resize_numpy_vs_tf"] < 1e-3, c
            assert c["ort_rewritten_vs_ort_resize_onnx"]["heatmap"] < 1e-5, c
            assert c["ort_rewritten_vs_ort_resize_onnx"]["wh_px"] < 1e-3, c
            assert c["ort_rewritten_vs_tf_graphdef"]["heatmap"] < 1e-4, c
            assert c["ort_rewritten_vs_tf_graphdef"]["wh_px"] < 1e-2, c
            if name in tfjs:
                assert c["tf_graphdef_vs_tfjs_original"]["heatmap"] < 1e-4, c
                assert c["tf_graphdef_vs_tfjs_original"]["wh_px"] < 1e-2, c

            # Our decode vs the graph's own decoder, before clipping and NMS: the graph's top-100
            # rows (all classes) of class 0 with score >= threshold are our person candidates.
            graph_rows = [r for r in det_tf[0] if int(r[5]) == 0 and r[4] >= SCORE_THRESHOLD]
            ours = candidates(kp_tf[0, :, :, PERSON], wh_tf[0], SCORE_THRESHOLD)
            assert len(graph_rows) == len(ours), (name, len(graph_rows), len(ours))
            c["decode_vs_tf_graph_detections"] = {
                "count": len(ours),
                "box_px": max((max_abs(r[:4], o[2]) for r, o in zip(graph_rows, ours)), default=0.0),
                "score": max((abs(float(r[4]) - o[0]) for r, o in zip(graph_rows, ours)), default=0.0),
            }
            assert c["decode_vs_tf_graph_detections"]["box_px"] < 1e-3, c

            heat, whm = kp[0, :, :, 0], wh[0]
            heat.astype("<f4").tofile(os.path.join(out, f"{name}.centernet.person.bin"))
            whm.astype("<f4").tofile(os.path.join(out, f"{name}.centernet.wh.bin"))
            dets = to_pixels(postprocess(heat, whm), w, h)
            with open(os.path.join(out, f"{name}.centernet.detections.json"), "w") as f:
                json.dump({
                    "width": w, "height": h, "score_threshold": SCORE_THRESHOLD, "iou_threshold": IOU,
                    "max_detections": MAX_DETECTIONS, "boxes": dets,
                }, f, indent=1)
                f.write("\n")
            default = to_pixels(postprocess(heat, whm, DEFAULT_THRESHOLD), w, h)
            checks[name] = c
            summary[name] = {
                "size": [w, h],
                f"detections_at_{SCORE_THRESHOLD}": [round(d["score"], 4) for d in dets],
                f"detections_at_{DEFAULT_THRESHOLD}": [
                    {"score": round(d["score"], 4), "box_xywh": [round(d[k], 1) for k in ("x", "y", "width", "height")]}
                    for d in default
                ],
            }

    with open(meta_path) as f:
        meta = json.load(f)
    meta["checks"] = checks
    meta["fixture_detections"] = summary
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(json.dumps({"checks": checks, "detections": summary}, indent=1))


if __name__ == "__main__":
    main()

"""Reference fixtures and agreement figures for the face detector (BlazeFace, back model).

Run by convert_blazeface.sh inside the pinned venv; never by the normal build.

    python make_fixtures_blazeface.py <blazeface.onnx> <blazeface_4out.onnx> <blazeface.pb>
                                      <tfjs model.json> <tfjs-ref dir | -> <fixtures_dir> <meta.json>

Inputs are PNGs in <fixtures_dir> (NAMES): scikit-image's astronaut (512x512, one face), frame 150
of opencv-doc's Megamind.avi (720x528, animated faces) and opencv-doc's basketball1.png (640x480,
two players, one face seen), letterboxed into 256x256 in numpy exactly as detect/src/face.rs does
(TF1 legacy bilinear to the fitted size, x / 127.5 - 1, centred, black bars = -1).
For each it writes into <fixtures_dir>:
  <name>.blazeface.regressors.bin   [896,16] f32 LE (onnxruntime, shipped ONNX)
  <name>.blazeface.logits.bin       [896] f32 LE
  <name>.blazeface.faces.json       decoded faces in source pixels (the Rust rules, numpy)
and it records in <meta.json> ("checks") the measured agreement of:
  * our numpy resize vs TF's ResizeBilinear;
  * the GraphDef made by tfjs_to_graphdef.py (TF 2.15) vs the original tfjs model run by tfjs 4.22
    on its CPU backend (tfjs-ref/run_blazeface.mjs; skipped when the tfjs-ref dir is `-`);
  * onnxruntime on tf2onnx's ONNX (four outputs) vs the TF GraphDef;
  * onnxruntime, the shipped ONNX (outputs concatenated, batch axis free) vs the four-output one.
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

SIZE = 256
GRIDS = [(16, 2), (8, 6)]  # (grid side, anchors per cell), in output order
NUM_ANCHORS = sum(n * n * a for n, a in GRIDS)
NUM_KEYPOINTS = 6
SCORE_THRESHOLD = 0.3  # the fixtures' threshold: lower than the app's 0.5, so more candidates are compared
DEFAULT_THRESHOLD = 0.5
IOU = 0.3
MAX_FACES = 100
NAMES = ["astronaut", "megamind_150", "basketball1"]
OUTPUTS_4 = ["Identity:0", "Identity_1:0", "Identity_2:0", "Identity_3:0"]


def letterbox(w, h):
    """Content size and offset of a w x h frame in the 256x256 input: (cw, ch, px, py). Integer
    arithmetic, rounding to nearest (halves up), as in Rust."""
    s = max(w, h)
    cw = max(1, (w * SIZE + s // 2) // s)
    ch = max(1, (h * SIZE + s // 2) // s)
    return cw, ch, (SIZE - cw) // 2, (SIZE - ch) // 2


def preprocess_nhwc(rgb):
    h, w = rgb.shape[:2]
    cw, ch, px, py = letterbox(w, h)
    x = np.full((SIZE, SIZE, 3), -1.0, np.float32)
    content = resize_legacy_bilinear(rgb, ch, cw) if (ch, cw) != (h, w) else rgb.astype(np.float32)
    x[py:py + ch, px:px + cw] = content / np.float32(127.5) - np.float32(1.0)
    return x[None]


def anchors():
    """[896, 2] anchor centres (x, y) in 0..1 of the input, float32."""
    out = []
    for n, per_cell in GRIDS:
        for row in range(n):
            for col in range(n):
                for _ in range(per_cell):
                    out.append(((np.float32(col) + np.float32(0.5)) / np.float32(n), (np.float32(row) + np.float32(0.5)) / np.float32(n)))
    return np.array(out, np.float32)


def sigmoid(x):
    x = np.float32(x)
    if x >= 0:
        return np.float32(1) / (np.float32(1) + np.exp(-x))
    e = np.exp(x)
    return e / (np.float32(1) + e)


def candidates(reg, logits, threshold):
    """Anchors with score >= threshold, sorted by score (then anchor index): (score, anchor,
    box [ymin, xmin, ymax, xmax], keypoints [6, 2] (x, y)), normalised to the input, float32."""
    a = anchors()
    size = np.float32(SIZE)
    half = np.float32(0.5)
    out = []
    for i in range(NUM_ANCHORS):
        score = sigmoid(logits[i])
        if not score >= np.float32(threshold):
            continue
        r = reg[i]
        cx, cy = a[i, 0] + r[0] / size, a[i, 1] + r[1] / size
        w, h = r[2] / size, r[3] / size
        box = np.array([cy - h * half, cx - w * half, cy + h * half, cx + w * half], np.float32)
        kps = np.array([[a[i, 0] + r[4 + 2 * k] / size, a[i, 1] + r[5 + 2 * k] / size] for k in range(NUM_KEYPOINTS)], np.float32)
        out.append((float(score), i, box, kps))
    out.sort(key=lambda c: (-c[0], c[1]))
    return out


def iou(a, b):
    ia = (a[2] - a[0]) * (a[3] - a[1])
    ib = (b[2] - b[0]) * (b[3] - b[1])
    if ia <= 0 or ib <= 0:
        return np.float32(0)
    ih = max(np.float32(0), min(a[2], b[2]) - max(a[0], b[0]))
    iw = max(np.float32(0), min(a[3], b[3]) - max(a[1], b[1]))
    inter = ih * iw
    return inter / (ia + ib - inter)


def weighted_nms(cands, iou_threshold=IOU, max_faces=MAX_FACES):
    """Same rules as detect/src/face.rs: take the best remaining candidate; it and every remaining
    one whose IoU with it is > iou_threshold form a group; the face is the score-weighted mean of
    the group's boxes and keypoints (summed in order, float32), with the best's score and anchor."""
    remaining = list(cands)
    faces = []
    while remaining and len(faces) < max_faces:
        best = remaining[0]
        group = [best] + [c for c in remaining[1:] if iou(best[2], c[2]) > np.float32(iou_threshold)]
        remaining = [c for c in remaining[1:] if not iou(best[2], c[2]) > np.float32(iou_threshold)]
        total = np.float32(0)
        box = np.zeros(4, np.float32)
        kps = np.zeros((NUM_KEYPOINTS, 2), np.float32)
        for score, _, b, k in group:
            s = np.float32(score)
            total += s
            box += b * s
            kps += k * s
        faces.append((box / total, best[0], best[1], kps / total, len(group)))
    return faces


def to_pixels(faces, width, height):
    """Normalised input coordinates -> source pixels (undo the letterbox); boxes clipped to the
    frame (empty ones dropped), keypoints as predicted."""
    cw, ch, px, py = letterbox(width, height)
    size = np.float32(SIZE)
    sx, sy = np.float32(width) / np.float32(cw), np.float32(height) / np.float32(ch)
    fx = lambda v: (np.float32(v) * size - np.float32(px)) * sx  # noqa: E731
    fy = lambda v: (np.float32(v) * size - np.float32(py)) * sy  # noqa: E731
    out = []
    for box, score, anchor, kps, group in faces:
        x0 = np.clip(fx(box[1]), np.float32(0), np.float32(width))
        x1 = np.clip(fx(box[3]), np.float32(0), np.float32(width))
        y0 = np.clip(fy(box[0]), np.float32(0), np.float32(height))
        y1 = np.clip(fy(box[2]), np.float32(0), np.float32(height))
        if not (x1 > x0 and y1 > y0):
            continue
        out.append({
            "x": float(x0), "y": float(y0), "width": float(x1 - x0), "height": float(y1 - y0),
            "score": score, "anchor": anchor, "group": group,
            "keypoints": [float(v) for k in kps for v in (fx(k[0]), fy(k[1]))],
        })
    return out


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
        return s.run(OUTPUTS_4, {"input:0": x_nhwc})


def tf_resize(rgb, h, w):
    import tensorflow as tf

    return tf.compat.v1.image.resize_bilinear(
        rgb[None].astype(np.float32), [h, w], align_corners=False, half_pixel_centers=False
    ).numpy()[0]


def max_abs(a, b):
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max())


def max_rel(a, b):
    """max |a - b| / max(1, |b|): the logits reach -6,500 (anchors over the black bars), where one
    float32 step is 5e-4, so absolute differences alone say little."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float((np.abs(a - b) / np.maximum(1.0, np.abs(b))).max())


def agreement(reg_a, cls_a, reg_b, cls_b):
    return {
        "regressors_px": max_abs(reg_a, reg_b), "regressors_rel": max_rel(reg_a, reg_b),
        "logits": max_abs(cls_a, cls_b), "logits_rel": max_rel(cls_a, cls_b),
    }


def close(c):
    return c["regressors_rel"] < 1e-4 and c["logits_rel"] < 1e-4


def main():
    onnx_path, onnx_4out, pb, tfjs_json, tfjs_ref, out, meta_path = sys.argv[1:8]
    shipped = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    four = ort.InferenceSession(onnx_4out, providers=["CPUExecutionProvider"])
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
                ["node", os.path.join(tfjs_ref, "run_blazeface.mjs"), tfjs_json, tmp] + [os.path.join(tmp, f"{n}.f32") for n in NAMES],
                check=True,
            )
            for name in NAMES:
                tfjs[name] = [
                    np.fromfile(os.path.join(tmp, f"{name}.tfjs.{k.split(':')[0]}.f32"), "<f4").reshape(shape)
                    for k, shape in zip(OUTPUTS_4, [(1, 512, 1), (1, 384, 1), (1, 512, 16), (1, 384, 16)])
                ]

        for name in NAMES:
            rgb, x = inputs[name]
            h, w = rgb.shape[:2]
            cw, ch, px, py = letterbox(w, h)
            nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
            reg, cls = shipped.run(["regressors", "classificators"], {"input:0": nchw})
            parts = four.run(OUTPUTS_4, {"input:0": nchw})
            parts_tf = run_tf(pb, x)
            assert reg.shape == (1, NUM_ANCHORS, 16) and cls.shape == (1, NUM_ANCHORS, 1), (reg.shape, cls.shape)
            cat = lambda p: (np.concatenate([p[2], p[3]], 1), np.concatenate([p[0], p[1]], 1))  # noqa: E731
            reg4, cls4 = cat(parts)
            reg_tf, cls_tf = cat(parts_tf)
            c = {
                "letterbox": {"content": [cw, ch], "offset": [px, py]},
                "resize_numpy_vs_tf": 0.0 if (ch, cw) == (h, w) else max_abs(resize_legacy_bilinear(rgb, ch, cw), tf_resize(rgb, ch, cw)),
                "ort_4out_vs_tf_graphdef": agreement(reg4, cls4, reg_tf, cls_tf),
                "ort_shipped_vs_ort_4out": agreement(reg, cls, reg4, cls4),
            }
            if name in tfjs:
                reg_js, cls_js = cat(tfjs[name])
                c["tf_graphdef_vs_tfjs_original"] = agreement(reg_tf, cls_tf, reg_js, cls_js)
                assert close(c["tf_graphdef_vs_tfjs_original"]), c
            assert c["resize_numpy_vs_tf"] < 1e-3, c
            assert all(v == 0.0 for v in c["ort_shipped_vs_ort_4out"].values()), c
            assert close(c["ort_4out_vs_tf_graphdef"]), c
            # the scores the decoder reads
            c["ort_vs_tf_graphdef_score"] = max_abs(1 / (1 + np.exp(-cls4.astype(np.float64))), 1 / (1 + np.exp(-cls_tf.astype(np.float64))))

            r, lg = reg[0], cls[0, :, 0]
            r.astype("<f4").tofile(os.path.join(out, f"{name}.blazeface.regressors.bin"))
            lg.astype("<f4").tofile(os.path.join(out, f"{name}.blazeface.logits.bin"))
            faces = to_pixels(weighted_nms(candidates(r, lg, SCORE_THRESHOLD)), w, h)
            with open(os.path.join(out, f"{name}.blazeface.faces.json"), "w") as f:
                json.dump({
                    "width": w, "height": h, "score_threshold": SCORE_THRESHOLD, "iou_threshold": IOU,
                    "max_faces": MAX_FACES, "faces": faces,
                }, f, indent=1)
                f.write("\n")
            default = to_pixels(weighted_nms(candidates(r, lg, DEFAULT_THRESHOLD)), w, h)
            checks[name] = c
            summary[name] = {
                "size": [w, h],
                f"faces_at_{SCORE_THRESHOLD}": [round(d["score"], 4) for d in faces],
                f"faces_at_{DEFAULT_THRESHOLD}": [
                    {
                        "score": round(d["score"], 4),
                        "box_xywh": [round(d[k], 1) for k in ("x", "y", "width", "height")],
                        "eyes_xy": [round(v, 1) for v in d["keypoints"][:4]],
                        "anchors_merged": d["group"],
                    }
                    for d in default
                ],
            }

    with open(meta_path) as f:
        meta = json.load(f)
    meta["checks"] = checks
    meta["fixture_faces"] = summary
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(json.dumps({"checks": checks, "faces": summary}, indent=1))


if __name__ == "__main__":
    main()

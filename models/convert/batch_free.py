"""Frees the batch axis of a converted detector ONNX (run by convert.sh and convert_centernet.sh).

    python batch_free.py MODEL.onnx

The TF graphs fix batch 1, and tf2onnx (and our Resize rewrite) write it into every Reshape's
target shape, e.g. `[1, -1, 2]`. Such a model only runs one frame at a time. ONNX Reshape reads a
0 in the target shape as "keep this input dimension" (`allowzero` = 0, the default), and so does
burn's `reshape`; so each constant target whose first entry is 1, reshaping a tensor whose first
axis is the batch, gets 0 there. The graph input and outputs get a symbolic first axis `batch`,
and the stale intermediate shapes are dropped (`onnx.shape_inference` recomputes them).

Proof, printed and asserted with onnxruntime: for a batch of 3 different inputs, each slot equals
the original model run on that input alone (max abs difference printed, must be <= 1e-4 of the
output's range), and a batch of 1 gives the original outputs.
"""

import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper, shape_inference


def rank_one_batch_reshapes(model):
    """The Reshape nodes whose constant target shape starts with the batch (1) on an input
    whose first axis is the batch, with their target-shape initializers."""
    inferred = shape_inference.infer_shapes(model)
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        dims = vi.type.tensor_type.shape.dim
        shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else None for d in dims]
    inits = {i.name: i for i in model.graph.initializer}
    consts = {n.output[0]: n for n in model.graph.node if n.op_type == "Constant"}
    found = []
    for node in model.graph.node:
        if node.op_type != "Reshape":
            continue
        if any(a.name == "allowzero" and a.i != 0 for a in node.attribute):
            raise SystemExit(f"{node.name}: allowzero=1, a 0 would not mean 'keep'")
        data_shape = shapes.get(node.input[0])
        target = node.input[1]
        if target in inits:
            value = numpy_helper.to_array(inits[target])
        elif target in consts:
            value = numpy_helper.to_array(consts[target].attribute[0].t)
        else:
            raise SystemExit(f"{node.name}: target shape {target} is not a constant")
        if value.size and value[0] == 1:
            if not data_shape or data_shape[0] != 1:
                raise SystemExit(f"{node.name}: target starts with 1 but the input {data_shape} has no batch axis")
            found.append((node, target))
    return found


def free_batch(model):
    found = rank_one_batch_reshapes(model)
    targets = {target for _, target in found}
    # A target shape may be shared by several Reshapes: all of them must be batch reshapes.
    for node in model.graph.node:
        for name in node.input:
            if name in targets and not any(node is n for n, _ in found):
                raise SystemExit(f"{name} is also used by {node.op_type} {node.name}")
    for init in model.graph.initializer:
        if init.name in targets:
            value = numpy_helper.to_array(init).copy()
            value[0] = 0
            init.CopyFrom(numpy_helper.from_array(value, init.name))
    for const in model.graph.node:
        if const.op_type == "Constant" and const.output[0] in targets:
            value = numpy_helper.to_array(const.attribute[0].t).copy()
            value[0] = 0
            const.attribute[0].t.CopyFrom(numpy_helper.from_array(value))
    for vi in list(model.graph.input) + list(model.graph.output):
        dim = vi.type.tensor_type.shape.dim[0]
        dim.Clear()
        dim.dim_param = "batch"
    del model.graph.value_info[:]
    onnx.checker.check_model(model)
    return model, len(found)


def run(model_bytes, feeds):
    sess = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def main():
    path = sys.argv[1]
    original = onnx.load(path)
    input_name = original.graph.input[0].name
    shape = [d.dim_value for d in original.graph.input[0].type.tensor_type.shape.dim]
    if shape[0] != 1:
        print(f"{path}: batch axis already free ({shape}), nothing to do")
        return
    freed, count = free_batch(onnx.load(path))

    rng = np.random.default_rng(0)
    frames = [rng.uniform(0, 1, size=[1] + shape[1:]).astype(np.float32) * s for s in (1.0, 255.0, 2.0)]
    alone = [run(original.SerializeToString(), {input_name: f}) for f in frames]
    batch = run(freed.SerializeToString(), {input_name: np.concatenate(frames)})
    one = run(freed.SerializeToString(), {input_name: frames[0]})
    worst = 0.0
    for k, out in enumerate(batch):
        assert out.shape[0] == 3, out.shape
        scale = max(float(np.abs(a[k]).max()) for a in alone) or 1.0
        for i in range(3):
            d = float(np.abs(out[i : i + 1] - alone[i][k]).max())
            worst = max(worst, d / scale)
            assert d <= 1e-4 * scale, f"output {k} slot {i}: {d} (scale {scale})"
        assert np.array_equal(one[k], alone[0][k]) or float(np.abs(one[k] - alone[0][k]).max()) <= 1e-6 * scale
    onnx.save(freed, path)
    print(f"{path}: {count} Reshape targets now keep the batch axis; batch of 3 vs alone: max diff {worst:.2e} of range")


if __name__ == "__main__":
    main()

"""tfjs graph model (model.json + weight shards) -> frozen TensorFlow GraphDef.

Run by convert_centernet.py (inside the pinned venv, see requirements.txt); never by the normal build.

    python tfjs_to_graphdef.py <model.json> <out.pb>

What it does, and nothing more:
  * every node of `modelTopology.node` becomes a NodeDef (the JSON is the protobuf JSON form of
    NodeDef, so it is parsed with `json_format`); attributes whose name starts with `_` (grappler
    bookkeeping) are dropped;
  * every `Const` gets its value from the weight shards, read in manifest order; float16-quantised
    weights (`quantization.dtype == "float16"`) are widened to float32 exactly, as tfjs does;
    other quantisations are refused;
  * fused ops that tfjs (or grappler) made are split back into plain TensorFlow ops, keeping the
    fused node's name on the last op so that consumers are untouched:
      _FusedConv2D(x, w, b)                 -> Conv2D -> BiasAdd [-> Relu | Relu6]
      FusedDepthwiseConv2dNative(x, w, b)   -> DepthwiseConv2dNative -> BiasAdd [-> Relu | Relu6]
      _FusedMatMul(x, w, b)                 -> MatMul -> BiasAdd [-> Relu | Relu6]
    Anything else fused (batch norm folding with epsilon, several bias args, other activations) is
    refused rather than guessed.
"""

import json
import os
import sys

import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow.core.framework import attr_value_pb2, graph_pb2, node_def_pb2

DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
ACTIVATIONS = {"Relu", "Relu6"}
UNFUSE = {
    "_FusedConv2D": ("Conv2D", ["T", "strides", "padding", "data_format", "dilations", "explicit_paddings", "use_cudnn_on_gpu"]),
    "FusedDepthwiseConv2dNative": ("DepthwiseConv2dNative", ["T", "strides", "padding", "data_format", "dilations", "explicit_paddings"]),
    "_FusedMatMul": ("MatMul", ["T", "transpose_a", "transpose_b"]),
}


def read_weights(model_json, base_dir):
    """name -> numpy array, float16 widened to float32."""
    out = {}
    for group in model_json["weightsManifest"]:
        data = b"".join(open(os.path.join(base_dir, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            shape = [int(d) for d in w["shape"]]
            n = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            if q:
                if q.get("dtype") != "float16" or w["dtype"] != "float32":
                    raise ValueError(f"{w['name']}: unsupported quantisation {q}")
                a = np.frombuffer(data, dtype="<f2", count=n, offset=off).astype(np.float32)
                off += 2 * n
            else:
                dt = np.dtype(DTYPES[w["dtype"]]).newbyteorder("<")
                a = np.frombuffer(data, dtype=dt, count=n, offset=off).astype(DTYPES[w["dtype"]])
                off += dt.itemsize * n
            out[w["name"]] = a.reshape(shape)
        if off != len(data):
            raise ValueError(f"weight shards hold {len(data)} bytes, manifest describes {off}")
    return out


def fused_ops(node):
    return [s.decode() for s in node.attr["fused_ops"].list.s]


def unfuse(node):
    """One fused NodeDef -> list of plain NodeDefs (last one keeps the original name)."""
    plain_op, keep = UNFUSE[node.op]
    ops = fused_ops(node)
    num_args = node.attr["num_args"].i
    if not ops or ops[0] != "BiasAdd" or num_args != 1 or len(ops) > 2 or (len(ops) == 2 and ops[1] not in ACTIVATIONS):
        raise ValueError(f"{node.name}: cannot unfuse {node.op} fused_ops={ops} num_args={num_args}")
    if "epsilon" in node.attr and node.attr["epsilon"].f != 0.0:
        raise ValueError(f"{node.name}: epsilon {node.attr['epsilon'].f} (fused batch norm) not supported")
    if len(node.input) != 3:
        raise ValueError(f"{node.name}: expected 3 inputs, got {list(node.input)}")
    x, w, b = node.input
    last = len(ops) == 1
    conv = node_def_pb2.NodeDef(name=f"{node.name}/unfused_{plain_op}", op=plain_op, input=[x, w])
    for k in keep:
        if k in node.attr:
            conv.attr[k].CopyFrom(node.attr[k])
    bias = node_def_pb2.NodeDef(
        name=node.name if last else f"{node.name}/unfused_BiasAdd", op="BiasAdd", input=[conv.name, b]
    )
    bias.attr["T"].CopyFrom(node.attr["T"])
    if "data_format" in node.attr:
        bias.attr["data_format"].CopyFrom(node.attr["data_format"])
    out = [conv, bias]
    if not last:
        act = node_def_pb2.NodeDef(name=node.name, op=ops[1], input=[bias.name])
        act.attr["T"].CopyFrom(node.attr["T"])
        out.append(act)
    return out


def convert(model_json_path):
    with open(model_json_path) as f:
        model_json = json.load(f)
    if model_json.get("format") != "graph-model":
        raise ValueError(f"not a tfjs graph model: format={model_json.get('format')}")
    weights = read_weights(model_json, os.path.dirname(os.path.abspath(model_json_path)))
    topology = model_json["modelTopology"]
    if topology.get("library", {}).get("function"):
        raise ValueError("graph functions (control flow) are not supported")

    graph = graph_pb2.GraphDef()
    stats = {"nodes_in": 0, "consts": 0, "unfused": {}, "nodes_out": 0}
    for nj in topology["node"]:
        stats["nodes_in"] += 1
        node = json_format.ParseDict(nj, node_def_pb2.NodeDef())
        for k in [k for k in node.attr if k.startswith("_")]:
            del node.attr[k]
        if node.op == "Const":
            value = weights.pop(node.name)
            node.attr["value"].CopyFrom(attr_value_pb2.AttrValue(tensor=tf.make_tensor_proto(value)))
            node.attr["dtype"].CopyFrom(attr_value_pb2.AttrValue(type=tf.as_dtype(value.dtype).as_datatype_enum))
            stats["consts"] += 1
            graph.node.append(node)
        elif node.op in UNFUSE:
            key = f"{node.op}[{','.join(fused_ops(node))}]"
            stats["unfused"][key] = stats["unfused"].get(key, 0) + 1
            graph.node.extend(unfuse(node))
        elif node.op.startswith("_") or node.op.startswith("Fused"):
            raise ValueError(f"{node.name}: unknown fused op {node.op}")
        else:
            graph.node.append(node)
    if weights:
        raise ValueError(f"weights without a Const node: {sorted(weights)[:5]}")
    stats["nodes_out"] = len(graph.node)
    return graph, stats


def main():
    src, dst = sys.argv[1], sys.argv[2]
    graph, stats = convert(src)
    with open(dst, "wb") as f:
        f.write(graph.SerializeToString(deterministic=True))
    print(json.dumps(stats, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()

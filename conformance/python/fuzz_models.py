"""Models berth has never seen, made with the onnx helper for the fuzzer (fuzz.py).

Each model is small, opset 19, IR 9 (what ONNX Runtime Java 1.29 and Python onnxruntime 1.30 both
load), and covers a part of the protocol the fuzzer attacks: integer division (a zero divisor kills
a process with SIGFPE unless guarded), strings, axes that are all dynamic, BOOL and FP16, several
inputs and outputs of every integer width.

  fuzz_models.py DIR     writes DIR/<name>/model.onnx for every model
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h

OPSET = 19
IR_VERSION = 9

# every integer datatype the protocol has, with its ONNX element type and numpy dtype
INTEGER_TYPES = [
    ("INT8", T.INT8, np.int8), ("INT16", T.INT16, np.int16), ("INT32", T.INT32, np.int32), ("INT64", T.INT64, np.int64),
    ("UINT8", T.UINT8, np.uint8), ("UINT16", T.UINT16, np.uint16), ("UINT32", T.UINT32, np.uint32),
    ("UINT64", T.UINT64, np.uint64),
]


def _model(name, nodes, inputs, outputs, initializers=()):
    graph = h.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", OPSET)], producer_name="berth-fuzz")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def _vi(name, elem, shape):
    return h.make_tensor_value_info(name, elem, shape)


def intdiv():
    """a / b and a % b on INT32 [N, 3]: a zero in b is a client's mistake, not a crash."""
    return _model("fuzz_intdiv",
                  [h.make_node("Div", ["a", "b"], ["quotient"]), h.make_node("Mod", ["a", "b"], ["remainder"])],
                  [_vi("a", T.INT32, ["N", 3]), _vi("b", T.INT32, ["N", 3])],
                  [_vi("quotient", T.INT32, ["N", 3]), _vi("remainder", T.INT32, ["N", 3])])


def text():
    """A BYTES (ONNX string) input echoed, and whether each element equals "berth"."""
    berth = h.make_tensor("berth", T.STRING, [], [b"berth"])
    return _model("fuzz_text",
                  [h.make_node("Identity", ["text"], ["echo"]), h.make_node("Equal", ["text", "berth"], ["is_berth"])],
                  [_vi("text", T.STRING, ["N"])],
                  [_vi("echo", T.STRING, ["N"]), _vi("is_berth", T.BOOL, ["N"])], [berth])


def dynamic():
    """FP32 with every axis dynamic (rank 2): |x| and the sum of each row."""
    axes = h.make_tensor("axes", T.INT64, [1], [1])
    return _model("fuzz_dynamic",
                  [h.make_node("Abs", ["x"], ["magnitude"]), h.make_node("ReduceSum", ["x", "axes"], ["row_sum"], keepdims=0)],
                  [_vi("x", T.FLOAT, ["rows", "cols"])],
                  [_vi("magnitude", T.FLOAT, ["rows", "cols"]), _vi("row_sum", T.FLOAT, ["rows"])], [axes])


def gate():
    """BOOL and FP16 in, both out: where(flag, h, -h) and not(flag), on [N]."""
    return _model("fuzz_gate",
                  [h.make_node("Neg", ["h"], ["minus"]), h.make_node("Where", ["flag", "h", "minus"], ["gated"]),
                   h.make_node("Not", ["flag"], ["flipped"])],
                  [_vi("flag", T.BOOL, ["N"]), _vi("h", T.FLOAT16, ["N"])],
                  [_vi("gated", T.FLOAT16, ["N"]), _vi("flipped", T.BOOL, ["N"])])


def widths():
    """One input per integer width and FP64, each echoed to its own output, shape [2]."""
    specs = INTEGER_TYPES + [("FP64", T.DOUBLE, np.float64)]
    nodes, ins, outs = [], [], []
    for oip, elem, _ in specs:
        n = oip.lower()
        nodes.append(h.make_node("Identity", [n], [n + "_out"]))
        ins.append(_vi(n, elem, [2]))
        outs.append(_vi(n + "_out", elem, [2]))
    return _model("fuzz_widths", nodes, ins, outs)


MODELS = {"fuzz_intdiv": intdiv, "fuzz_text": text, "fuzz_dynamic": dynamic, "fuzz_gate": gate, "fuzz_widths": widths}


def write_all(folder):
    for name, make in MODELS.items():
        os.makedirs(os.path.join(folder, name), exist_ok=True)
        onnx.save(make(), os.path.join(folder, name, "model.onnx"))
    return sorted(MODELS)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print("\n".join(write_all(sys.argv[1])))

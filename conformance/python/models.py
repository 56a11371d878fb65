"""The test models the client checks call: model.onnx and cases.json per folder."""
import json
import os

import numpy as np
import onnx
import onnx.helper

import tensors
from checklib import expect


def _oip(elem_type):
    if elem_type == onnx.TensorProto.STRING:
        return "BYTES"
    if elem_type == onnx.TensorProto.BFLOAT16:
        return "BF16"
    return tensors.oip_datatype(np.zeros(0, dtype=onnx.helper.tensor_dtype_to_np_dtype(elem_type)))


def graph_signature(model):
    """[(name, OIP datatype, shape with -1 for symbolic or unknown axes)] for inputs and outputs."""
    def spec(values):
        out = []
        for v in values:
            t = v.type.tensor_type
            shape = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
            out.append((v.name, _oip(t.elem_type), shape))
        return out
    initializers = {i.name for i in model.graph.initializer}
    return spec([i for i in model.graph.input if i.name not in initializers]), spec(model.graph.output)


class TestModels:
    def __init__(self, folder):
        self.folder = folder
        self._cases = {}
        self._graphs = {}
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name, "cases.json")
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as f:
                    raw = json.load(f)
                self._cases[name] = [({k: tensors.from_case(v) for k, v in c["inputs"].items()},
                                      {k: tensors.from_case(v) for k, v in c["outputs"].items()}) for c in raw]
        if not self._cases:
            raise ValueError("no test model with a cases.json in %s" % folder)

    def names(self):
        return list(self._cases)

    def cases(self, model=None):
        for m in ([model] if model else self._cases):
            for i, case in enumerate(self._cases[m]):
                yield m, i, case

    def typed_possible(self, m):
        """False where an input is FP16/BF16: those have no typed contents, and a request is all typed or all raw."""
        inputs = self._cases[m][0][0]
        return all(tensors.oip_datatype(a) not in ("FP16", "BF16") for a in inputs.values())

    def model_path(self, m):
        return os.path.join(self.folder, m, "model.onnx")

    def graph(self, m):
        if m not in self._graphs:
            self._graphs[m] = graph_signature(onnx.load(self.model_path(m)))
        return self._graphs[m]

    def expect_signature(self, m, inputs, outputs):
        """inputs/outputs as [(name, datatype, shape)] must be the graph's, in its order."""
        want_in, want_out = self.graph(m)
        expect(inputs == want_in, "inputs %s, the model declares %s" % (inputs, want_in))
        expect(outputs == want_out, "outputs %s, the model declares %s" % (outputs, want_out))

    def run_locally(self, m, inputs):
        """What Python onnxruntime answers for inputs: the expected outputs of a made-up request."""
        import onnxruntime
        session = onnxruntime.InferenceSession(self.model_path(m), providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]
        return dict(zip(names, session.run(names, inputs)))

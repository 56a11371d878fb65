"""The peer berth is measured against: an Open Inference Protocol v2 REST server written the way a
team writes one by hand with FastAPI, pydantic and onnxruntime (one session per model, default
session options, JSON tensors only). It is a yardstick for bench/peer, not part of berth.

    BERTH_PEER_MODELS=/path/to/registry uvicorn oip_peer:app --port 9000 [--workers 2]

The registry folder holds NAME/VERSION/model.onnx; the highest version of each model is served.
"""
import os
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

# OIP datatype <-> numpy dtype, for the types the peer handles
DATATYPES = {
    "BOOL": np.bool_, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
    "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
    "FP16": np.float16, "FP32": np.float32, "FP64": np.float64,
}
NAMES = {np.dtype(v): k for k, v in DATATYPES.items()}


class RequestInput(BaseModel):
    name: str
    shape: list[int]
    datatype: str
    parameters: Optional[dict[str, Any]] = None
    data: list[Union[float, int, bool, list[Any]]]


class RequestOutput(BaseModel):
    name: str
    parameters: Optional[dict[str, Any]] = None


class InferenceRequest(BaseModel):
    id: Optional[str] = None
    parameters: Optional[dict[str, Any]] = None
    inputs: list[RequestInput]
    outputs: Optional[list[RequestOutput]] = None


def load_sessions(root: Path) -> dict[str, tuple[str, ort.InferenceSession]]:
    sessions = {}
    for model in sorted(p for p in root.iterdir() if p.is_dir()):
        versions = sorted((int(v.name), v) for v in model.iterdir() if v.name.isdigit() and (v / "model.onnx").is_file())
        if versions:
            number, folder = versions[-1]
            sessions[model.name] = (str(number), ort.InferenceSession(str(folder / "model.onnx")))
    return sessions


SESSIONS = load_sessions(Path(os.environ.get("BERTH_PEER_MODELS", "models")))
app = FastAPI()


@app.get("/v2/health/ready")
def ready():
    return {"ready": True}


@app.post("/v2/models/{name}/infer")
def infer(name: str, request: InferenceRequest):
    if name not in SESSIONS:
        raise HTTPException(status_code=404, detail=f"unknown model {name}")
    version, session = SESSIONS[name]
    feeds = {}
    for tensor in request.inputs:
        dtype = DATATYPES.get(tensor.datatype)
        if dtype is None:
            raise HTTPException(status_code=400, detail=f"unsupported datatype {tensor.datatype}")
        try:
            feeds[tensor.name] = np.asarray(tensor.data, dtype=dtype).reshape(tensor.shape)
        except ValueError as e:
            raise HTTPException(status_code=400, detail=str(e))
    wanted = [o.name for o in request.outputs] if request.outputs else None
    results = session.run(wanted, feeds)
    names = wanted or [o.name for o in session.get_outputs()]
    outputs = [{"name": n, "datatype": NAMES.get(r.dtype, "BYTES"), "shape": list(r.shape), "data": r.ravel().tolist()}
               for n, r in zip(names, results)]
    answer = {"model_name": name, "model_version": version, "outputs": outputs}
    if request.id is not None:
        answer["id"] = request.id
    return answer

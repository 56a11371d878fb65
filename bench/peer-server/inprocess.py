"""bench/peer's helpers: writes the JSON request body each model gets (the same bytes for every
server), and measures in-process onnxruntime on the same input, the ceiling nothing over a socket
can pass.

    python inprocess.py payload MODEL.onnx OUT.json      # batch 1, random inputs, seeded
    python inprocess.py loop MODEL.onnx REQUEST.json SECONDS THREADS   # prints runs/s
"""
import json
import sys
import threading
import time

import numpy as np
import onnxruntime as ort

TYPES = {"tensor(float)": ("FP32", np.float32), "tensor(double)": ("FP64", np.float64),
         "tensor(int64)": ("INT64", np.int64), "tensor(int32)": ("INT32", np.int32)}


def payload(model, out):
    rng = np.random.default_rng(7)
    inputs = []
    for i in ort.InferenceSession(model).get_inputs():
        datatype, dtype = TYPES[i.type]
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in i.shape]
        values = rng.random(int(np.prod(shape))).astype(dtype)
        inputs.append({"name": i.name, "shape": shape, "datatype": datatype, "data": values.tolist()})
    with open(out, "w") as f:
        json.dump({"inputs": inputs}, f)


def loop(model, request, seconds, threads):
    session = ort.InferenceSession(model)
    body = json.load(open(request))
    feeds = {t["name"]: np.asarray(t["data"], dtype=TYPES[next(i.type for i in session.get_inputs() if i.name == t["name"])][1])
             .reshape(t["shape"]) for t in body["inputs"]}
    session.run(None, feeds)
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def run(k):
        while time.monotonic() < stop:
            session.run(None, feeds)
            counts[k] += 1

    workers = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    start = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(f"{sum(counts) / (time.monotonic() - start):.1f}")


if __name__ == "__main__":
    if sys.argv[1] == "payload":
        payload(sys.argv[2], sys.argv[3])
    else:
        loop(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]))

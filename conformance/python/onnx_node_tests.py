#!/usr/bin/env python3
"""The ONNX project's backend node tests, served by berth and called over REST and gRPC.

Two steps, with berth started in between (OnnxNodeTestsIT does all three; so does the
conformance/onnx-node-tests script):

  onnx_node_tests.py prepare --work DIR [--sample N] [--seed S] [--all]
      generates every node test case in memory (onnx.backend.test.case.node.collect_testcases),
      keeps the eligible ones (tensor inputs and outputs of datatypes the Open Inference Protocol
      carries), runs each with Python onnxruntime and keeps those where onnxruntime agrees with
      ONNX's reference outputs (the denominator), picks a seeded sample of them (all with --all),
      and writes DIR/plan.json and DIR/cases/<name>/{model.onnx,data.pkl}.

  onnx_node_tests.py run --work DIR --rest URL --grpc HOST:PORT --stubs DIR --pid PID
      calls every planned case over REST (JSON, or Triton's binary extension where JSON cannot
      carry the inputs) and over gRPC (raw contents, KServe client stubs), compares datatype,
      shape and values with ONNX's reference outputs within the case's tolerances, checks after
      each batch that the server process is alive and /v2/health/live answers, and writes
      DIR/report.json, DIR/report.md and the chart DIR/report.png (and .svg).
"""
import argparse
import collections
import contextlib
import io
import json
import os
import pickle
import platform
import random
import re
import sys
import time
import warnings

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402

import tensors  # noqa: E402

TARGET = 0.98
BATCH = 25  # cases between two liveness checks
DEFAULT_SEED = 20260101
# registry model names: [A-Za-z0-9][A-Za-z0-9_.-]*
NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

# ONNX element types the Open Inference Protocol has a datatype for
OIP_ELEM_TYPES = {
    onnx.TensorProto.BOOL, onnx.TensorProto.UINT8, onnx.TensorProto.UINT16, onnx.TensorProto.UINT32,
    onnx.TensorProto.UINT64, onnx.TensorProto.INT8, onnx.TensorProto.INT16, onnx.TensorProto.INT32,
    onnx.TensorProto.INT64, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16, onnx.TensorProto.FLOAT,
    onnx.TensorProto.DOUBLE, onnx.TensorProto.STRING,
}


# ------------------------------------------------------------------ prepare

def ineligible(case):
    """Why a case cannot be served over the protocol, or None."""
    graph = case.model.graph
    if len(case.data_sets) != 1:
        return "has %d data sets" % len(case.data_sets)
    inputs, outputs = case.data_sets[0]
    initializers = {i.name for i in graph.initializer}
    graph_inputs = [i for i in graph.input if i.name not in initializers]
    for kind, values in (("input", graph_inputs), ("output", graph.output)):
        for v in values:
            which = v.type.WhichOneof("value")
            if which != "tensor_type":
                return "%s %s is a %s (OIP carries tensors only)" % (kind, v.name, which.replace("_type", ""))
            elem = v.type.tensor_type.elem_type
            if elem not in OIP_ELEM_TYPES:
                return "%s %s is %s (no OIP datatype)" % (kind, v.name, onnx.TensorProto.DataType.Name(elem))
            if not v.name:
                return "%s without a name" % kind
    if len(inputs) != len(graph_inputs) or len(outputs) != len(graph.output):
        return "data set has %d inputs/%d outputs for a graph of %d/%d" % (
            len(inputs), len(outputs), len(graph_inputs), len(graph.output))
    for a in list(inputs) + list(outputs):
        if not isinstance(a, (np.ndarray, np.generic, onnx.TensorProto)):
            return "data of type %s (not a tensor)" % type(a).__name__
    names = [v.name for v in graph_inputs] + [v.name for v in graph.output]
    if len(set(names)) != len(names):
        return "a tensor is both input and output"
    if not NAME_OK.match(case.name):
        return "name is not a registry model name"
    return None


def as_array(a):
    if isinstance(a, onnx.TensorProto):
        return numpy_helper.to_array(a)
    return np.asarray(a)


def data_of(case):
    graph = case.model.graph
    initializers = {i.name for i in graph.initializer}
    graph_inputs = [i for i in graph.input if i.name not in initializers]
    inputs, outputs = case.data_sets[0]
    ins = [(v.name, as_array(a)) for v, a in zip(graph_inputs, inputs)]
    outs = [(v.name, as_array(a)) for v, a in zip(graph.output, outputs)]
    return ins, outs


def reference_compare(expected, actual, rtol, atol):
    """onnx's backend-test criterion: same dtype kind and shape, values within rtol/atol."""
    exp = tensors.normalize(expected)
    act = tensors.normalize(actual)
    if tensors.oip_datatype(exp) == "BYTES":
        return tensors.compare(exp, act)
    return tensors.compare(exp, act, rtol=rtol, atol=atol)


def run_onnxruntime(model_bytes, ins, outs):
    import onnxruntime
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 4
    session = onnxruntime.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    feeds = {}
    for name, arr in ins:
        if arr.dtype == object:  # onnxruntime wants str for STRING tensors
            arr = np.array([x.decode("utf-8") if isinstance(x, bytes) else x for x in arr.reshape(-1)],
                           dtype=object).reshape(arr.shape)
        feeds[name] = arr
    return session.run([n for n, _ in outs], feeds)


def prepare(args):
    import onnxruntime
    work = args.work
    os.makedirs(os.path.join(work, "cases"), exist_ok=True)
    started = time.monotonic()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # the generators divide by zero on purpose
        from onnx.backend.test.case.node import collect_testcases
        cases = sorted(collect_testcases(), key=lambda c: c.name)
    generated = time.monotonic() - started
    excluded, ort_fails, passing = [], [], []
    for case in cases:
        why = ineligible(case)
        if why:
            excluded.append({"name": case.name, "reason": why})
            continue
        ins, outs = data_of(case)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = run_onnxruntime(case.model.SerializeToString(), ins, outs)
        except Exception as e:
            ort_fails.append({"name": case.name, "reason": "onnxruntime refused it: %s" % _short(e)})
            continue
        bad = None
        for (name, want), actual in zip(outs, got):
            why = reference_compare(want, actual, case.rtol, case.atol)
            if why:
                bad = "output %s: %s" % (name, why)
                break
        if bad:
            ort_fails.append({"name": case.name, "reason": "onnxruntime disagrees with the reference: " + bad})
            continue
        passing.append(case)
    if args.all or args.sample >= len(passing):
        selected = passing
    else:
        selected = sorted(random.Random(args.seed).sample(passing, args.sample), key=lambda c: c.name)
    for case in selected:
        folder = os.path.join(work, "cases", case.name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        ins, outs = data_of(case)
        with open(os.path.join(folder, "data.pkl"), "wb") as f:
            pickle.dump({"inputs": ins, "outputs": outs, "rtol": case.rtol, "atol": case.atol}, f)
        # registered with the version, as a careful user would: the server may warm up with it
        try:
            example = {"inputs": [tensors.to_json_tensor(n, a) for n, a in ins]}
        except UnicodeDecodeError:
            example = None  # BYTES that are not text: JSON cannot carry them
        if example is not None:
            with open(os.path.join(folder, "example_request.json"), "w", encoding="utf-8") as f:
                json.dump(example, f)
    plan = {
        "onnx": onnx.__version__,
        "onnxruntime_python": onnxruntime.__version__,
        "python": platform.python_version(),
        "seed": args.seed,
        "sample": None if args.all else args.sample,
        "generated": len(cases),
        "eligible": len(cases) - len(excluded),
        "onnxruntime_passes": len(passing),
        "selected": [c.name for c in selected],
        "excluded": excluded,
        "onnxruntime_fails": ort_fails,
        "prepare_seconds": round(time.monotonic() - started, 1),
        "generate_seconds": round(generated, 1),
    }
    with open(os.path.join(work, "plan.json"), "w", encoding="utf-8") as f:
        json.dump(plan, f, indent=2)
    print("onnx %s: %d node test cases, %d eligible, %d pass in onnxruntime %s, %d selected (%.1f s)" % (
        onnx.__version__, len(cases), plan["eligible"], len(passing), onnxruntime.__version__, len(selected),
        time.monotonic() - started), flush=True)


def _short(e, limit=300):
    text = " ".join(str(e).split())
    return text if len(text) <= limit else text[:limit] + "..."


# ------------------------------------------------------------------ run

class Caller:
    def __init__(self, rest, grpc_target, stubs):
        import grpc
        import requests
        self.grpc = grpc
        self.rest = rest.rstrip("/")
        self.http = requests.Session()
        sys.path.insert(0, os.path.join(stubs, "kserve"))
        import open_inference_grpc_pb2 as pb
        import open_inference_grpc_pb2_grpc as pb_grpc
        self.pb = pb
        options = [("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)]
        self.channel = grpc.insecure_channel(grpc_target, options=options)
        self.stub = pb_grpc.GRPCInferenceServiceStub(self.channel)

    def live(self):
        try:
            return self.http.get(self.rest + "/v2/health/live", timeout=10).status_code == 200
        except Exception:
            return False

    def via_rest(self, name, ins, outs):
        """{output: (datatype, array)} or raises with the server's answer."""
        if all(_json_safe(a) for _, a in ins):
            body = {"inputs": [tensors.to_json_tensor(n, a) for n, a in ins]}
            resp = self.http.post(self.rest + "/v2/models/%s/infer" % name, data=json.dumps(body),
                                  headers={"Content-Type": "application/json"}, timeout=60)
            if resp.status_code != 200:
                raise CaseFailed("HTTP %d: %s" % (resp.status_code, _short(resp.text)))
            return {o["name"]: (o["datatype"], tensors.from_json_tensor(o)) for o in resp.json()["outputs"]}
        body, length = tensors.binary_request(dict(ins))
        resp = self.http.post(self.rest + "/v2/models/%s/infer" % name, data=body, timeout=60,
                              headers={"Inference-Header-Content-Length": str(length),
                                       "Content-Type": "application/octet-stream"})
        if resp.status_code != 200:
            raise CaseFailed("HTTP %d (binary request): %s" % (resp.status_code, _short(resp.text)))
        header, got = tensors.binary_response(resp.content, int(resp.headers["Inference-Header-Content-Length"]))
        return {o["name"]: (o["datatype"], got[o["name"]]) for o in header["outputs"]}

    def via_grpc(self, name, ins, outs):
        req = self.pb.ModelInferRequest(model_name=name)
        for n, a in ins:
            a = tensors.normalize(a)
            req.inputs.add(name=n, datatype=tensors.oip_datatype(a), shape=list(a.shape))
            req.raw_input_contents.append(tensors.to_raw(a))
        try:
            resp = self.stub.ModelInfer(req, timeout=60)
        except self.grpc.RpcError as e:
            raise CaseFailed("%s: %s" % (e.code().name, _short(e.details() or "")))
        return tensors.outputs_of(resp)


class CaseFailed(Exception):
    pass


def _json_safe(a):
    a = tensors.normalize(a)
    if a.dtype == object:
        try:
            for b in a.reshape(-1).tolist():
                b.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    if a.dtype.kind == "f" or tensors.oip_datatype(a) == "BF16":
        return bool(np.isfinite(a.astype(np.float64)).all())
    return True


def check_case(call, name, data):
    ins, outs = data["inputs"], data["outputs"]
    try:
        got = call(name, ins, outs)
    except CaseFailed as e:
        return str(e)
    except Exception as e:
        return "client error: %s" % _short(e)
    want_names = [n for n, _ in outs]
    if sorted(got) != sorted(want_names):
        return "outputs %s, expected %s" % (sorted(got), sorted(want_names))
    for n, want in outs:
        datatype, arr = got[n]
        expected_type = tensors.oip_datatype(tensors.normalize(want))
        if datatype != expected_type:
            return "output %s: datatype %s, expected %s" % (n, datatype, expected_type)
        why = reference_compare(want, arr, data["rtol"], data["atol"])
        if why:
            return "output %s: %s" % (n, why)
    return None


def process_alive(pid):
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run(args):
    work = args.work
    with open(os.path.join(work, "plan.json"), encoding="utf-8") as f:
        plan = json.load(f)
    registration = {}
    reg_file = os.path.join(work, "registration.json")
    if os.path.exists(reg_file):
        with open(reg_file, encoding="utf-8") as f:
            registration = json.load(f).get("failed", {})
    caller = Caller(args.rest, args.grpc, args.stubs)
    results = []
    alive = True
    liveness = []
    started = time.monotonic()
    names = plan["selected"]
    for start in range(0, len(names), BATCH):
        batch = names[start:start + BATCH]
        for name in batch:
            with open(os.path.join(work, "cases", name, "data.pkl"), "rb") as f:
                data = pickle.load(f)
            entry = {"name": name, "op": _op_of(work, name)}
            if not alive:
                entry["rest"] = entry["grpc"] = "not called: the server had died"
            elif name in registration:
                entry["rest"] = entry["grpc"] = "not registered: %s" % registration[name]
            else:
                entry["rest"] = check_case(caller.via_rest, name, data)
                entry["grpc"] = check_case(caller.via_grpc, name, data)
            results.append(entry)
        if alive:
            ok = process_alive(args.pid) and caller.live()
            liveness.append({"after": start + len(batch), "alive": ok})
            if not ok:
                alive = False
                print("the server died (or stopped answering /v2/health/live) after case %d" % (start + len(batch)),
                      flush=True)
    report = summarise(plan, results, alive, liveness, time.monotonic() - started)
    write_reports(work, report)
    s = report["summary"]
    print("onnx node tests: %d cases; REST %d passed (%.1f %%), gRPC %d passed (%.1f %%); server alive: %s" % (
        s["cases"], s["rest_passed"], 100 * s["rest_rate"], s["grpc_passed"], 100 * s["grpc_rate"],
        s["server_alive_throughout"]), flush=True)


def _op_of(work, name):
    """The operator under test: the graph's one node, or the distinct ops of an expanded function."""
    model = onnx.load(os.path.join(work, "cases", name, "model.onnx"), load_external_data=False)
    ops = list(dict.fromkeys(n.op_type for n in model.graph.node))
    return ops[0] if len(ops) == 1 else "%d nodes: %s" % (len(model.graph.node), ", ".join(ops[:4]) + (
        ", ..." if len(ops) > 4 else ""))


def summarise(plan, results, alive, liveness, seconds):
    n = len(results)
    rest_ok = sum(1 for r in results if r["rest"] is None)
    grpc_ok = sum(1 for r in results if r["grpc"] is None)
    excluded_by_reason = collections.Counter(_reason_kind(e["reason"]) for e in plan["excluded"])
    return {
        "summary": {
            "onnx": plan["onnx"],
            "onnxruntime_python": plan["onnxruntime_python"],
            "seed": plan["seed"],
            "sample": plan["sample"],
            "generated": plan["generated"],
            "eligible": plan["eligible"],
            "onnxruntime_passes": plan["onnxruntime_passes"],
            "cases": n,
            "rest_passed": rest_ok,
            "grpc_passed": grpc_ok,
            "rest_rate": rest_ok / n if n else 0.0,
            "grpc_rate": grpc_ok / n if n else 0.0,
            "target": TARGET,
            "server_alive_throughout": alive,
            "liveness_checks": len(liveness),
            "call_seconds": round(seconds, 1),
        },
        "failures": [r for r in results if r["rest"] is not None or r["grpc"] is not None],
        "excluded_by_reason": dict(excluded_by_reason.most_common()),
        "excluded": plan["excluded"],
        "onnxruntime_fails": plan["onnxruntime_fails"],
        "liveness": liveness,
        "cases": [r["name"] for r in results],
    }


def _reason_kind(reason):
    """'input x is FLOAT8E4M3FN (no OIP datatype)' -> 'FLOAT8E4M3FN (no OIP datatype)'."""
    m = re.match(r"(input|output) \S+ is (?:a )?(.*)$", reason)
    return m.group(2) if m else reason


def write_reports(work, report):
    with open(os.path.join(work, "report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    s = report["summary"]
    lines = [
        "# ONNX backend node tests through berth",
        "",
        "onnx %s (node test cases generated in memory), expected outputs checked with Python onnxruntime %s; "
        "seed %s, %s." % (s["onnx"], s["onnxruntime_python"], s["seed"],
                          "every case" if s["sample"] is None else "sample of %d" % s["sample"]),
        "",
        "| | count |",
        "|---|---|",
        "| node test cases generated | %d |" % s["generated"],
        "| eligible (tensor inputs/outputs of OIP datatypes) | %d |" % s["eligible"],
        "| of those, onnxruntime agrees with the reference | %d |" % s["onnxruntime_passes"],
        "| called through berth | %d |" % s["cases"],
        "",
        "| protocol | passed | rate | target |",
        "|---|---|---|---|",
        "| REST | %d / %d | %.1f %% | %.0f %% |" % (s["rest_passed"], s["cases"], 100 * s["rest_rate"], 100 * s["target"]),
        "| gRPC | %d / %d | %.1f %% | %.0f %% |" % (s["grpc_passed"], s["cases"], 100 * s["grpc_rate"], 100 * s["target"]),
        "",
        "Server alive throughout: **%s** (%d liveness checks: process alive and `/v2/health/live` 200)." % (
            "yes" if s["server_alive_throughout"] else "NO", s["liveness_checks"]),
        "",
        "## Failing cases",
        "",
    ]
    if report["failures"]:
        lines += ["| case | op | REST | gRPC |", "|---|---|---|---|"]
        for r in report["failures"]:
            lines.append("| %s | %s | %s | %s |" % (r["name"], r["op"], _cell(r["rest"]), _cell(r["grpc"])))
    else:
        lines.append("None.")
    lines += ["", "## Not eligible (%d cases), by reason" % len(report["excluded"]), "",
              "| reason | cases |", "|---|---|"]
    for reason, count in report["excluded_by_reason"].items():
        lines.append("| %s | %d |" % (_cell(reason), count))
    lines += ["", "## Eligible, but Python onnxruntime fails them (%d cases; not counted)" % len(report["onnxruntime_fails"]),
              "", "| case | why |", "|---|---|"]
    for r in report["onnxruntime_fails"]:
        lines.append("| %s | %s |" % (r["name"], _cell(r["reason"])))
    with open(os.path.join(work, "report.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    _chart(s, os.path.join(work, "report"))


def _cell(text):
    return "ok" if text is None else str(text).replace("|", "\\|").replace("\n", " ")


def _chart(s, path):
    """The funnel from generated cases to passed ones, and the pass rate per protocol against the target (matplotlib)."""
    import matplotlib
    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    fig, (funnel, rates) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [3, 2]})
    stages = [("generated", s["generated"]), ("eligible", s["eligible"]),
              ("onnxruntime passes", s["onnxruntime_passes"]), ("called", s["cases"]),
              ("passed REST", s["rest_passed"]), ("passed gRPC", s["grpc_passed"])]
    labels = [n for n, _ in stages][::-1]
    values = [v for _, v in stages][::-1]
    funnel.barh(labels, values, color=["#2e7d32", "#2e7d32", "#607d8b", "#607d8b", "#90a4ae", "#b0bec5"])
    for y, v in enumerate(values):
        funnel.text(v, y, " %d" % v, va="center", fontsize=9)
    funnel.set_title("ONNX node test cases (onnx %s)" % s["onnx"], fontsize=10)
    funnel.set_xlim(0, max(values) * 1.15)
    funnel.spines[["top", "right"]].set_visible(False)

    protocols = ["REST", "gRPC"]
    pct = [100 * s["rest_rate"], 100 * s["grpc_rate"]]
    colors = ["#2e7d32" if p >= 100 * s["target"] else "#c62828" for p in pct]
    rates.bar(protocols, pct, color=colors, width=0.5)
    rates.axhline(100 * s["target"], color="black", linestyle="--", linewidth=1)
    rates.text(0.5, 100 * s["target"], "target %.0f %%" % (100 * s["target"]), va="bottom", ha="center", fontsize=9)
    for x, p in enumerate(pct):
        rates.text(x, p, "%.1f %%" % p, ha="center", va="bottom", fontsize=9)
    low = min(pct + [100 * s["target"]])
    rates.set_ylim(max(0, low - 10), 101)
    rates.set_ylabel("passed (%)")
    rates.set_title("through berth, server alive: %s" % ("yes" if s["server_alive_throughout"] else "NO"), fontsize=10)
    rates.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path + ".svg")
    fig.savefig(path + ".png", dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--work", required=True)
    p.add_argument("--sample", type=int, default=150)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--all", action="store_true")
    r = sub.add_parser("run")
    r.add_argument("--work", required=True)
    r.add_argument("--rest", required=True)
    r.add_argument("--grpc", required=True)
    r.add_argument("--stubs", required=True)
    r.add_argument("--pid", type=int)
    args = ap.parse_args()
    prepare(args) if args.command == "prepare" else run(args)


if __name__ == "__main__":
    main()

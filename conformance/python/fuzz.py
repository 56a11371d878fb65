#!/usr/bin/env python3
"""A seeded, deterministic fuzzer of a running berth server, REST and gRPC, from outside.

  fuzz.py models DIR
      writes the fuzzer's own models (fuzz_models.py) into DIR/<name>/model.onnx, for whoever
      starts the server to register them (the fuzzer starts nothing itself)
  fuzz.py run --url http://HOST:PORT --grpc HOST:PORT --models DIR --stubs DIR
              [--seed N] [--seconds S | --cases N] [--only CLASS[:CASE]] [--pid PID [--heap-pretouched]] [--out RESULT.json]

Every case is made from its own random generator, seeded with (seed, class, case number), so
`--seed N --only CLASS:CASE` runs exactly the case a failure names. `--seconds` runs rounds (one
case of every class per round) until the time is up; `--cases` a fixed number of rounds.

The oracle, for every case: REST answers a client's mistake with a 4xx whose JSON body has an
`error` string (413/414/431 where the size is the mistake), accepts what the protocol allows with
a 200 and the outputs onnxruntime computes, and never answers 5xx (505 only for an HTTP version it
does not speak, 501 only for a method or transfer coding it does not implement), never drops a
connection without an answer, never stays silent. gRPC answers the specific status with a message,
never UNKNOWN or INTERNAL for a client's mistake. After the run every model still gives the right
answer over both protocols, the server is live, and (with --pid) its resident memory did not keep
growing through the second half of the run.

The result file has the shape the conformance tests read (checklib): one check per class, then
the after-run checks. Exit code 0 when all passed.
"""
import argparse
import base64
import json
import math
import os
import random
import struct
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)

import numpy as np  # noqa: E402

import fuzz_http  # noqa: E402
import fuzz_models  # noqa: E402

TIMEOUT = 10.0

# ---------------------------------------------------------------------------------------------
# the models, as the fuzzer knows them (it made them)

# model -> [(input, datatype, shape with -1 for a dynamic axis)]
INPUTS = {
    "fuzz_intdiv": [("a", "INT32", [-1, 3]), ("b", "INT32", [-1, 3])],
    "fuzz_text": [("text", "BYTES", [-1])],
    "fuzz_dynamic": [("x", "FP32", [-1, -1])],
    "fuzz_gate": [("flag", "BOOL", [-1]), ("h", "FP16", [-1])],
    "fuzz_widths": [(oip.lower(), oip, [2]) for oip, _, _ in fuzz_models.INTEGER_TYPES] + [("fp64", "FP64", [2])],
}
NP = {"BOOL": np.bool_, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64, "UINT8": np.uint8,
      "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64, "FP16": np.float16, "FP32": np.float32,
      "FP64": np.float64, "BYTES": object}
SIZE = {"BOOL": 1, "INT8": 1, "UINT8": 1, "INT16": 2, "UINT16": 2, "FP16": 2, "INT32": 4, "UINT32": 4, "FP32": 4,
        "INT64": 8, "UINT64": 8, "FP64": 8}
INT_RANGE = {oip: (int(np.iinfo(d).min), int(np.iinfo(d).max)) for oip, _, d in fuzz_models.INTEGER_TYPES}
FLOAT_MAX = {"FP16": 65504.0, "FP32": float(np.finfo(np.float32).max), "FP64": sys.float_info.max}
TYPED_FIELD = {"BOOL": "bool_contents", "INT8": "int_contents", "INT16": "int_contents", "INT32": "int_contents",
               "INT64": "int64_contents", "UINT8": "uint_contents", "UINT16": "uint_contents",
               "UINT32": "uint_contents", "UINT64": "uint64_contents", "FP32": "fp32_contents",
               "FP64": "fp64_contents", "BYTES": "bytes_contents"}
INVALID_UTF8 = [b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\x80", b"\xbf\xbf", b"\xff", b"\xfe",
                b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xc1\xbf"]
VALID_TEXT = ["berth", "", "é", "日本語", "\U0001F600", "a\u0000b", "tab\there", "\u2028", "\ufeffbom", "x" * 300]


def good_inputs(rng, model):
    """Valid inputs for a model: name -> numpy array, with values from the whole of each type."""
    n = rng.randint(1, 4)
    out = {}
    for name, dt, shape in INPUTS[model]:
        dims = [d if d >= 0 else (n if i == 0 else rng.randint(1, 4)) for i, d in enumerate(shape)]
        count = int(np.prod(dims))
        if dt == "BYTES":
            vals = [rng.choice(VALID_TEXT).encode("utf-8") for _ in range(count)]
            arr = np.empty(count, dtype=object)
            arr[:] = vals
        elif dt == "BOOL":
            arr = np.array([rng.random() < 0.5 for _ in range(count)], dtype=np.bool_)
        elif dt in INT_RANGE:
            lo, hi = INT_RANGE[dt]
            if model == "fuzz_intdiv":
                lo, hi = -1000, 1000
            vals = [rng.choice([lo, hi, 0, 1, -1 if lo < 0 else 2, rng.randint(lo, hi)]) for _ in range(count)]
            if name == "b":
                vals = [v if v != 0 else 7 for v in vals]
            if model == "fuzz_intdiv" and name == "a":
                vals = [rng.randint(lo, hi) for _ in range(count)]
            arr = np.array(vals, dtype=NP[dt])
        else:
            top = FLOAT_MAX[dt]
            choices = [0.0, -0.0, 1.5, -2.25, top, -top, rng.uniform(-1e3, 1e3)]
            if dt == "FP32":
                choices += [float(np.float32(1e-40))]  # a subnormal
            arr = np.array([rng.choice(choices) for _ in range(count)], dtype=NP[dt])
        out[name] = arr.reshape(dims)
    return out


def json_value(dt, v):
    if dt == "BYTES":
        return v.decode("utf-8")
    if dt == "BOOL":
        return bool(v)
    if dt in INT_RANGE:
        return int(v)
    f = float(v)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    return f


def json_tensor(name, dt, arr):
    return {"name": name, "datatype": dt, "shape": list(arr.shape), "data": [json_value(dt, v) for v in arr.reshape(-1)]}


def json_body(model, inputs, **extra):
    body = {"inputs": [json_tensor(n, dt, inputs[n]) for n, dt, _ in INPUTS[model]]}
    body.update(extra)
    return body


def raw_bytes(dt, arr):
    """Little-endian row-major bytes of a tensor, BYTES with 4-byte length prefixes."""
    flat = arr.reshape(-1)
    if dt == "BYTES":
        return b"".join(struct.pack("<I", len(v)) + v for v in flat)
    return np.ascontiguousarray(flat.astype(np.dtype(NP[dt]).newbyteorder("<"))).tobytes()


def dumps(body):
    return json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")


class Expected:
    """What onnxruntime answers: the reference for every accepted request."""

    def __init__(self, folder):
        import onnxruntime
        self.sessions = {m: onnxruntime.InferenceSession(os.path.join(folder, m, "model.onnx"),
                                                         providers=["CPUExecutionProvider"]) for m in INPUTS}

    def outputs(self, model, inputs):
        s = self.sessions[model]
        names = [o.name for o in s.get_outputs()]
        # onnxruntime takes string tensors as str objects (bytes would be fed as their repr)
        feed = {k: (np.vectorize(lambda b: b.decode("utf-8"), otypes=[object])(v) if v.dtype == object and v.size else v)
                for k, v in inputs.items()}
        return dict(zip(names, s.run(names, feed)))


def compare(want, got_data, got_shape, got_datatype):
    """None when a JSON output matches onnxruntime's array, else why not."""
    if list(want.shape) != list(got_shape):
        return "shape %s, onnxruntime %s" % (got_shape, list(want.shape))
    flat = want.reshape(-1)
    if not isinstance(got_data, list) or len(got_data) != flat.size:
        return "data %r does not hold %d elements" % (str(got_data)[:100], flat.size)
    for i, (w, g) in enumerate(zip(flat, got_data)):
        if want.dtype == object:
            ok = isinstance(g, str) and g.encode("utf-8") == (w if isinstance(w, bytes) else str(w).encode("utf-8"))
        elif want.dtype == np.bool_:
            ok = g is bool(w)
        elif want.dtype.kind in "iu":
            ok = isinstance(g, int) and not isinstance(g, bool) and g == int(w)
        else:
            wf = float(w)
            gf = float(g) if isinstance(g, (int, float)) or g in ("NaN", "Infinity", "-Infinity") else None
            if gf is None:
                ok = False
            elif math.isnan(wf):
                ok = math.isnan(gf)
            else:
                ok = gf == wf or (math.isfinite(wf) and abs(gf - wf) <= 1e-6 * max(1.0, abs(wf)))
        if not ok:
            return "element %d is %r, onnxruntime %r (%s)" % (i, g, w, got_datatype)
    return None


# ---------------------------------------------------------------------------------------------
# oracles

class Verdict(Exception):
    """A case's oracle did not hold; the message says what came and what should have."""


def is_json_error(answer):
    try:
        body = json.loads(answer.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"].strip() != ""


def refused(answer, allowed=range(400, 500)):
    """A client's mistake: an allowed 4xx (or the listed codes) with a JSON error."""
    if answer.status is None:
        raise Verdict("no answer to a client's mistake: %s" % answer.failure)
    if answer.status not in allowed:
        raise Verdict("HTTP %s, expected %s with a JSON error: %s" % (answer.status, _codes(allowed), answer.describe()))
    if not is_json_error(answer):
        raise Verdict("HTTP %d without a JSON {\"error\": ...} body: %r" % (answer.status, answer.body[:200]))
    return str(answer.status)


def _codes(allowed):
    allowed = list(allowed)
    if allowed == list(range(400, 500)):
        return "4xx"
    return "/".join(map(str, allowed))


class Rest:
    def __init__(self, url):
        hostport = url.split("//", 1)[1].rstrip("/")
        self.host, port = hostport.rsplit(":", 1)
        self.port = int(port)

    def send(self, payload, answers=1, method="POST", timeout=TIMEOUT, pause_after=None):
        return fuzz_http.exchange(self.host, self.port, payload, timeout=timeout, answers=answers, method=method,
                                  pause_after=pause_after)

    def one(self, payload, **kw):
        return self.send(payload, **kw)[0]

    def post(self, path, body, headers=(), **kw):
        return self.one(fuzz_http.request("POST", path, body, headers=[("Content-Type", "application/json")] + list(headers)),
                        **kw)


class Fuzz:
    def __init__(self, args, seed):
        self.seed = seed
        self.rest = Rest(args.url)
        self.expected = Expected(args.models)
        self.grpc = Grpc(args.grpc, args.stubs) if args.grpc else None

    # an accepted request must give onnxruntime's outputs
    def accepted(self, answer, model, inputs, want_id=None):
        if answer.status != 200:
            raise Verdict("a valid request was not answered 200: %s" % answer.describe())
        try:
            body = json.loads(answer.body.decode("utf-8"))
        except ValueError as e:
            raise Verdict("200 with a body that is not JSON: %s" % e)
        if want_id is not None and body.get("id") != want_id:
            raise Verdict("id echoed as %r, sent %r" % (body.get("id"), want_id))
        want = self.expected.outputs(model, inputs)
        got = {o.get("name"): o for o in body.get("outputs", [])}
        if set(got) != set(want):
            raise Verdict("outputs %s, expected %s" % (sorted(got), sorted(want)))
        for name, arr in want.items():
            why = compare(arr, got[name].get("data"), got[name].get("shape"), got[name].get("datatype"))
            if why:
                raise Verdict("output %s: %s" % (name, why))
        return "200"

    def either(self, answer, model=None, inputs=None, allowed=range(400, 500)):
        """The protocol does not decide: a 200 (checked against onnxruntime when inputs are known) or a 4xx refusal."""
        if answer.status == 200:
            return self.accepted(answer, model, inputs) if model else "200"
        return refused(answer, allowed)


# ---------------------------------------------------------------------------------------------
# REST case classes: each takes (fuzz, rng) and returns (description, outcome); Verdict on a failure

def infer_path(model, version=None):
    return "/v2/models/%s%s/infer" % (model, "/versions/%s" % version if version else "")


def pick_model(rng, models=None):
    return rng.choice(sorted(models or INPUTS))


def c_json_truncated(f, rng):
    m = pick_model(rng)
    body = dumps(json_body(m, good_inputs(rng, m)))
    cut = rng.randrange(0, len(body))
    return "%s body cut at %d of %d" % (m, cut, len(body)), refused(f.rest.post(infer_path(m), body[:cut]), [400])


def c_json_malformed(f, rng):
    m = pick_model(rng)
    body = dumps(json_body(m, good_inputs(rng, m))).decode("utf-8")
    kind = rng.choice(["colon", "trailing-comma", "garbage", "single-quote", "comment", "nan-literal", "deep",
                       "long-number", "unquoted-key", "two-documents", "control-in-string", "bad-escape"])
    if kind == "colon":
        i = body.index(":", rng.randrange(body.rindex(":") + 1))
        bad = body[:i] + "=" + body[i + 1:]
    elif kind == "trailing-comma":
        i = body.rindex("]")
        bad = body[:i] + "," + body[i:]
    elif kind == "garbage":
        bad = body + rng.choice(["x", "}", "]", ",", "\u0000", "{}"])
    elif kind == "single-quote":
        bad = body.replace('"inputs"', "'inputs'")
    elif kind == "comment":
        bad = body.replace('"inputs"', '/* c */ "inputs"')
    elif kind == "nan-literal":
        bad = json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 1], "data": [float("nan")]}]})
        m = "fuzz_dynamic"
    elif kind == "deep":
        depth = rng.choice([1001, 5000, 100000])
        bad = '{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 1], "data": %s1%s}]}' % ("[" * depth, "]" * depth)
        m = "fuzz_dynamic"
    elif kind == "long-number":
        bad = '{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 1], "data": [1%s]}]}' % ("0" * rng.choice([400, 1500, 20000]))
        m = "fuzz_dynamic"
    elif kind == "unquoted-key":
        bad = body.replace('"inputs"', "inputs")
    elif kind == "two-documents":
        bad = body + " " + body
    elif kind == "control-in-string":
        bad = body.replace('"inputs"', '"in\u0001puts"', 1).replace('"name": "', '"name": "\n', 1)
    else:
        bad = body.replace('"name": "', '"name": "\\q', 1)
    allowed = [400, 413] if kind in ("deep", "long-number") else [400]
    return "%s: %s" % (m, kind), refused(f.rest.post(infer_path(m), bad.encode("utf-8")), allowed)


WRONG_TYPES = [True, False, 1, -1, 2.5, "x", None, {}, [], [[]], {"a": 1}]


def c_json_types(f, rng):
    m = pick_model(rng)
    body = json_body(m, good_inputs(rng, m))
    where = rng.choice(["root", "inputs", "input", "name", "datatype", "shape", "shape-element", "data", "element",
                        "id", "outputs", "output", "output-name", "parameters", "input-parameters"])
    t = body["inputs"][rng.randrange(len(body["inputs"]))]
    dt = t["datatype"]
    # values of the wrong type for each place; a value the protocol allows there is never picked
    def wrong(excluded):
        return rng.choice([v for v in WRONG_TYPES if not any(type(v) is type(e) and v == e for e in excluded)
                           and type(v) not in [type(e) for e in excluded if e in ("TYPE",)]])
    if where == "root":
        payload = rng.choice([[], "inputs", 1, None, True, [body]])
        return "root %r" % (payload,), refused(f.rest.post(infer_path(m), dumps(payload)), [400])
    if where == "inputs":
        body["inputs"] = rng.choice([None, {}, "x", 1, True, {"name": "a"}, []])
    elif where == "input":
        body["inputs"][0] = rng.choice([None, "x", 1, True, [], [t]])
    elif where == "name":
        t["name"] = rng.choice([None, 1, True, [], {}, ["a"]])
    elif where == "datatype":
        t["datatype"] = rng.choice([None, 1, True, [], {}, "fp32", "FLOAT", "STRING", "INT128", "", " FP32", "FP32 "])
    elif where == "shape":
        t["shape"] = rng.choice([None, 1, "1", True, {}, "[1]", {"0": 1}])
    elif where == "shape-element":
        t["shape"] = list(t["shape"])
        t["shape"][rng.randrange(len(t["shape"]))] = rng.choice([1.5, "1", True, None, [], {}, 1e300])
    elif where == "data":
        t["data"] = rng.choice([None, {}, "x", True, 1, {"0": 1}] if len(t["data"]) != 1 or len(t["shape"]) > 0
                               else [None, {}])
    elif where == "element":
        i = rng.randrange(len(t["data"]))
        if dt == "BYTES":
            bad = [1, True, None, {}, 2.5]
        elif dt == "BOOL":
            bad = [1, 0, "true", None, {}, "x", 1.0]
        elif dt in INT_RANGE:
            bad = [True, False, "1", None, {}, "x", "NaN", 1.5]
        else:
            bad = [True, "1.5", None, {}, "nan", "inf", "x", "Inf", "infinity", " NaN"]
        t["data"][i] = rng.choice(bad)
    elif where == "id":
        body["id"] = rng.choice([1, True, [], {}, 2.5, ["x"]])
    elif where == "outputs":
        body["outputs"] = rng.choice([{}, "x", 1, True, [1], ["x"]])
    elif where == "output":
        body["outputs"] = [rng.choice([None, 1, "name", True, []])]
    elif where == "output-name":
        body["outputs"] = [{"name": rng.choice([None, 1, True, [], {}])}]
    elif where == "parameters":
        body["parameters"] = rng.choice([[], "x", 1, True, [{"a": 1}]])
    else:
        t["parameters"] = rng.choice([[], "x", 1, True])
    return "%s: %s" % (m, where), refused(f.rest.post(infer_path(m), dumps(body)), [400])


def c_numbers_range(f, rng):
    """Elements at, just past, and far past the edges of every datatype; the written form matters."""
    kind = rng.choice(["int", "int", "float", "float16"])
    if kind == "int":
        m = "fuzz_widths"
        inputs = good_inputs(rng, m)
        body = json_body(m, inputs)
        i = rng.randrange(8)
        name, dt, _ = INPUTS[m][i]
        lo, hi = INT_RANGE[dt]
        choice = rng.choice(["max", "min", "max+1", "min-1", "huge", "fraction", "exponent-ok", "exponent-over",
                             "integral-fraction", "minus-zero", "neg-exponent", "2^64"])
        text = {"max": str(hi), "min": str(lo), "max+1": str(hi + 1), "min-1": str(lo - 1), "huge": "1" + "0" * 30,
                "fraction": "1.5", "exponent-ok": "1e1", "exponent-over": "1e%d" % (len(str(hi)) + 1),
                "integral-fraction": "2.0", "minus-zero": "-0", "neg-exponent": "5e-1", "2^64": str(1 << 64)}[choice]
        value = {"max": hi, "min": lo, "exponent-ok": 10, "integral-fraction": 2, "minus-zero": 0}.get(choice)
        placeholder = 7777777
        body["inputs"][i]["data"][0] = placeholder
        raw = dumps(body).replace(str(placeholder).encode(), text.encode(), 1)
        desc = "%s element %s (%s)" % (dt, text[:40], choice)
        answer = f.rest.post(infer_path(m), raw)
        if value is not None:
            inputs[name] = inputs[name].copy()
            inputs[name].reshape(-1)[0] = value
            return desc, f.accepted(answer, m, inputs)
        return desc, refused(answer, [400])
    if kind == "float":
        m = rng.choice(["fuzz_dynamic", "fuzz_widths"])
        inputs = good_inputs(rng, m)
        body = json_body(m, inputs)
        idx = 0 if m == "fuzz_dynamic" else 8
        name, dt, _ = INPUTS[m][idx]
        top = FLOAT_MAX[dt]
        cases = [("1e309", None), ("-1e309", None), ("\"NaN\"", float("nan")), ("\"Infinity\"", float("inf")),
                 ("\"-Infinity\"", float("-inf")), ("\"+Infinity\"", float("inf")), ("-0", -0.0), ("-0.0", -0.0), (repr(top), top), ("1e-400", 0.0),
                 ("\"nan\"", None), ("\"inf\"", None), ("NaN", None), ("Infinity", None), ("-Infinity", None),
                 ("\"1.5\"", None), ("1E3", 1000.0), ("0.1", 0.1)]
        if dt == "FP32":
            cases += [("3.5e38", None), ("-3.5e38", None), ("3.4028235e38", float(np.float32(3.4028235e38)))]
        text, value = rng.choice(cases)
        placeholder = 0.123456789
        body["inputs"][idx]["data"][0] = placeholder
        raw = dumps(body).replace(repr(placeholder).encode(), text.encode(), 1)
        answer = f.rest.post(infer_path(m), raw)
        desc = "%s element %s" % (dt, text)
        if value is not None:
            inputs[name] = inputs[name].copy()
            inputs[name].reshape(-1)[0] = value
            return desc, f.accepted(answer, m, inputs)
        return desc, refused(answer, [400])
    m = "fuzz_gate"
    inputs = good_inputs(rng, m)
    body = json_body(m, inputs)
    text, value = rng.choice([("65504", 65504.0), ("-65504", -65504.0), ("65520", None), ("70000", None),
                              ("1e5", None), ("-1e309", None), ("1e-8", 0.0), ("6e-8", float(np.float16(6e-8))),
                              ("\"Infinity\"", float("inf")), ("\"NaN\"", float("nan")), ("65519", 65504.0)])
    placeholder = 0.123456789
    body["inputs"][1]["data"][0] = placeholder
    raw = dumps(body).replace(repr(placeholder).encode(), text.encode(), 1)
    answer = f.rest.post(infer_path(m), raw)
    if value is not None:
        inputs["h"] = inputs["h"].copy()
        inputs["h"].reshape(-1)[0] = value
        return "FP16 element %s" % text, f.accepted(answer, m, inputs)
    return "FP16 element %s" % text, refused(answer, [400])


def c_shape_mismatch(f, rng):
    m = pick_model(rng)
    body = json_body(m, good_inputs(rng, m))
    t = body["inputs"][rng.randrange(len(body["inputs"]))]
    kind = rng.choice(["fewer", "more", "empty", "ragged", "rank", "nested-wrong"])
    if kind == "fewer":
        t["data"] = t["data"][:-1]
    elif kind == "more":
        t["data"] = t["data"] + t["data"][:1] * rng.randint(1, 3)
    elif kind == "empty":
        t["data"] = []
    elif kind == "ragged":
        t["shape"] = [2, 2]
        t["data"] = [[t["data"][0]], t["data"][:1] * 3]
    elif kind == "rank":
        t["shape"] = t["shape"] + [1, 1]
        t["data"] = t["data"] + t["data"][:1]
    else:
        t["data"] = [t["data"]] * 2
    return "%s %s %s" % (m, t["name"], kind), refused(f.rest.post(infer_path(m), dumps(body)), [400])


def c_shape_huge(f, rng):
    m = pick_model(rng)
    body = json_body(m, good_inputs(rng, m))
    t = body["inputs"][0]
    t["shape"] = rng.choice([[2 ** 62, 4], [2 ** 32, 2 ** 32], [2 ** 63 - 1, 2], [2 ** 63 - 1], [2 ** 31, 3],
                             [2 ** 20, 2 ** 20, 2 ** 20], [2 ** 64], [10 ** 30, 1], [3037000500, 3037000500],
                             [0, 2 ** 63 - 1], [1] * 100])
    allowed = [400, 413]
    if t["shape"][0] == 0:
        t["data"] = []
    return "%s shape %s" % (m, t["shape"]), refused(f.rest.post(infer_path(m), dumps(body)), allowed)


def c_shape_negative(f, rng):
    m = pick_model(rng)
    body = json_body(m, good_inputs(rng, m))
    t = body["inputs"][rng.randrange(len(body["inputs"]))]
    t["shape"] = list(t["shape"])
    i = rng.randrange(len(t["shape"]))
    t["shape"][i] = rng.choice([-1, -2, -(2 ** 63), -t["shape"][i]])
    if rng.random() < 0.3 and len(t["shape"]) > 1:
        t["shape"][(i + 1) % len(t["shape"])] *= -1
    return "%s %s shape %s" % (m, t["name"], t["shape"]), refused(f.rest.post(infer_path(m), dumps(body)), [400])


def c_bytes_utf8(f, rng):
    """Invalid UTF-8 in every place a string goes: BYTES data, id, names, parameters (raw bytes in the JSON)."""
    m = "fuzz_text"
    inputs = good_inputs(rng, m)
    body = json_body(m, inputs, id="IDMARK", parameters={"pkey": "PVALUE"})
    bad = rng.choice(INVALID_UTF8)
    where = rng.choice(["data", "id", "param-value", "param-key", "input-name", "escape-surrogate", "valid"])
    if where == "valid":
        text = rng.choice(VALID_TEXT[1:])
        inputs["text"] = inputs["text"].copy()
        inputs["text"].reshape(-1)[0] = text.encode("utf-8")
        body["inputs"][0]["data"][0] = text
        return "valid %r" % text[:20], f.accepted(f.rest.post(infer_path(m), dumps(body)), m, inputs, want_id="IDMARK")
    if where == "escape-surrogate":
        body["inputs"][0]["data"][0] = "SURR"
        raw = dumps(body).replace(b"SURR", rng.choice([b"\\ud800", b"\\udfff", b"a\\ud83d", b"\\ude00b"]), 1)
        return "lone surrogate escape in data", refused(f.rest.post(infer_path(m), raw), [400])
    mark = {"data": "DMARK", "id": "IDMARK", "param-value": "PVALUE", "param-key": "pkey", "input-name": "text"}[where]
    if where == "data":
        body["inputs"][0]["data"][0] = "DMARK"
    raw = dumps(body).replace(b'"' + mark.encode() + b'"', b'"' + mark[:1].encode() + bad + mark[1:].encode() + b'"', 1)
    return "%r in %s" % (bad, where), refused(f.rest.post(infer_path(m), raw), [400])


def binary_request(model, inputs, binary_names, rng, json_extra=None):
    """(header JSON, binary tail) for the binary tensor data extension, binary for the named inputs."""
    header = {"inputs": []}
    tail = b""
    for n, dt, _ in INPUTS[model]:
        arr = inputs[n]
        if n in binary_names:
            data = raw_bytes(dt, arr)
            header["inputs"].append({"name": n, "datatype": dt, "shape": list(arr.shape),
                                     "parameters": {"binary_data_size": len(data)}})
            tail += data
        else:
            header["inputs"].append(json_tensor(n, dt, arr))
    header.update(json_extra or {})
    return header, tail


def post_binary(f, model, header_bytes, tail, ihcl=None):
    length = str(len(header_bytes)) if ihcl is None else ihcl
    return f.rest.post(infer_path(model), header_bytes + tail,
                       headers=[("Inference-Header-Content-Length", length), ("Content-Type", "application/octet-stream")])


def c_bytes_binary(f, rng):
    """BYTES through the binary extension: length prefixes and UTF-8 inside them."""
    m = "fuzz_text"
    inputs = good_inputs(rng, m)
    header, tail = binary_request(m, inputs, {"text"}, rng)
    kind = rng.choice(["valid", "invalid-utf8", "prefix-too-long", "prefix-cut", "trailing", "prefix-huge", "base64"])
    if kind == "valid":
        return "valid", f.accepted(post_binary(f, m, dumps(header), tail), m, inputs)
    if kind == "invalid-utf8":
        bad = rng.choice(INVALID_UTF8)
        tail = struct.pack("<I", len(bad)) + bad + tail[:]
        header["inputs"][0]["shape"] = [inputs["text"].size + 1]
    elif kind == "prefix-too-long":
        first = struct.unpack("<I", tail[:4])[0]
        tail = struct.pack("<I", first + rng.randint(1, 50)) + tail[4:]
    elif kind == "prefix-cut":
        tail = tail + b"\x01\x00"
        header["inputs"][0]["shape"] = [inputs["text"].size + 1]
    elif kind == "trailing":
        tail = tail + b"\x00\x00\x00\x00"
    elif kind == "prefix-huge":
        tail = struct.pack("<I", rng.choice([0xFFFFFFFF, 0x80000000, 0x7FFFFFFF])) + tail[4:]
    else:
        # base64 text where binary belongs is just bytes: the length prefixes it implies are wrong
        tail = base64.b64encode(tail)
    header["inputs"][0]["parameters"]["binary_data_size"] = len(tail)
    return kind, refused(post_binary(f, m, dumps(header), tail), [400])


def c_binary_header(f, rng):
    """Inference-Header-Content-Length and binary_data_size that do not add up."""
    m = rng.choice(["fuzz_intdiv", "fuzz_gate", "fuzz_widths", "fuzz_dynamic"])
    inputs = good_inputs(rng, m)
    names = {n for n, _, _ in INPUTS[m]}
    header, tail = binary_request(m, inputs, names, rng)
    hb = dumps(header)
    kind = rng.choice(["valid", "ihcl-over", "ihcl-negative", "ihcl-text", "ihcl-huge", "ihcl-short", "ihcl-zero",
                       "ihcl-empty", "size-over", "size-under", "size-negative", "size-text", "size-fraction",
                       "size-odd", "size-huge", "tail-extra", "tail-missing", "two-ihcl"])
    allowed = [400]
    if kind == "valid":
        return "%s valid" % m, f.accepted(post_binary(f, m, hb, tail), m, inputs)
    ihcl = None
    if kind == "ihcl-over":
        ihcl = str(len(hb) + len(tail) + rng.randint(1, 100))
    elif kind == "ihcl-negative":
        ihcl = rng.choice(["-1", "-%d" % len(hb)])
    elif kind == "ihcl-text":
        ihcl = rng.choice(["abc", "1e3", "0x10", " ", "%d.0" % len(hb), "+%d" % len(hb)])
    elif kind == "ihcl-huge":
        ihcl = rng.choice(["99999999999999999999", str(2 ** 31), str(2 ** 63)])
    elif kind == "ihcl-short":
        ihcl = str(rng.randrange(1, len(hb)))
    elif kind == "ihcl-zero":
        ihcl = "0"
    elif kind == "ihcl-empty":
        ihcl = ""
    elif kind == "two-ihcl":
        answer = f.rest.post(infer_path(m), hb + tail, headers=[("Inference-Header-Content-Length", str(len(hb))),
                                                                ("Inference-Header-Content-Length", str(len(hb) + 1))])
        return "%s two headers" % m, f.either(answer, m, inputs)
    else:
        t = header["inputs"][rng.randrange(len(header["inputs"]))]
        size = t["parameters"]["binary_data_size"]
        if kind == "size-over":
            t["parameters"]["binary_data_size"] = size + rng.randint(1, 8)
        elif kind == "size-under":
            t["parameters"]["binary_data_size"] = size - rng.randint(1, size)
        elif kind == "size-negative":
            t["parameters"]["binary_data_size"] = -size
        elif kind == "size-text":
            t["parameters"]["binary_data_size"] = str(size)
        elif kind == "size-fraction":
            t["parameters"]["binary_data_size"] = size + 0.5
        elif kind == "size-odd":
            # a size that fits the body but not the element width, the rest of the body shifted to match
            if SIZE[t["datatype"]] == 1:
                t["parameters"]["binary_data_size"] = size + 1
                tail += b"\x00"
            else:
                t["parameters"]["binary_data_size"] = size - 1
                tail = tail[:-1]
        elif kind == "size-huge":
            t["parameters"]["binary_data_size"] = rng.choice([2 ** 31, 2 ** 63 - 1, 2 ** 64, 10 ** 30])
        elif kind == "tail-extra":
            tail += b"\x00" * rng.randint(1, 16)
        else:
            tail = tail[:-rng.randint(1, min(4, len(tail)))]
        hb = dumps(header)
    return "%s %s" % (m, kind), refused(post_binary(f, m, hb, tail, ihcl), allowed)


def c_parameters(f, rng):
    m = pick_model(rng)
    inputs = good_inputs(rng, m)
    body = json_body(m, inputs)
    where = rng.choice(["request", "input", "output", "timeout"])
    if where == "timeout":
        # Triton's timeout in microseconds (docs/limits.md): 0 none, a positive integer a deadline, the rest a 400
        value = rng.choice([0, 1, 2, 10 ** 7, 2 ** 63 - 1, -1, 1.5, "100", True, 2 ** 64, None, {}])
        body["parameters"] = {"timeout": value}
        answer = f.rest.post(infer_path(m), dumps(body))
        desc = "timeout %r" % (value,)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2 ** 63:
            if answer.status == 504 and is_json_error(answer):
                return desc, "504"
            return desc, f.accepted(answer, m, inputs)
        return desc, refused(answer, [400])
    good = rng.random() < 0.35
    key = rng.choice(["custom", "x", "", "\u00e9t\u00e9", "a" * 200, "priority", "sequence_id"])
    if good:
        value = rng.choice([True, False, 0, 1, -5, 2.5, "s", "", 2 ** 62, "\u65e5"])
    else:
        value = rng.choice([{}, [], None, {"a": 1}, [1, 2], [None]])
    if key in ("priority", "sequence_id") and good:
        value = rng.choice([0, 1])
    if where == "request":
        body["parameters"] = {key: value}
    elif where == "input":
        body["inputs"][0]["parameters"] = {key: value}
    else:
        body["outputs"] = [{"name": f.expected.sessions[m].get_outputs()[0].name, "parameters": {key: value}}]
    desc = "%s %s parameter %r=%r" % (m, where, key[:20], value)
    answer = f.rest.post(infer_path(m), dumps(body))
    if good:
        if where == "output":
            # the answer holds only the output asked for
            if answer.status != 200:
                raise Verdict("a valid request was not answered 200: %s" % answer.describe())
            return desc, "200"
        return desc, f.accepted(answer, m, inputs)
    return desc, refused(answer, [400])


CONTROL = ["\u0000", "\u0001", "\n", "\r", "\t", "\u001b", "\u007f", "\u0085", "\u2028", "\ufffe", "\uffff"]


def c_names_control(f, rng):
    m = pick_model(rng)
    inputs = good_inputs(rng, m)
    body = json_body(m, inputs)
    c = rng.choice(CONTROL)
    where = rng.choice(["id", "input-name", "output-name", "path-model", "path-version"])
    if where == "id":
        rid = "req" + c + "id" + rng.choice(CONTROL)
        body["id"] = rid
        return "id with %r" % c, f.accepted(f.rest.post(infer_path(m), dumps(body)), m, inputs, want_id=rid)
    if where == "input-name":
        body["inputs"][0]["name"] = rng.choice(["", c, body["inputs"][0]["name"] + c, c + body["inputs"][0]["name"]])
        return "input name %r" % body["inputs"][0]["name"], refused(f.rest.post(infer_path(m), dumps(body)), [400])
    if where == "output-name":
        out = f.expected.sessions[m].get_outputs()[0].name
        body["outputs"] = [{"name": rng.choice([out + c, c, ""])}]
        return "output name %r" % body["outputs"][0]["name"], refused(f.rest.post(infer_path(m), dumps(body)), [400])
    enc = "%%%02X" % ord(c) if ord(c) < 0x80 else "".join("%%%02X" % b for b in c.encode("utf-8"))
    if where == "path-model":
        path = "/v2/models/%s%s/infer" % (m, enc)
    else:
        path = "/v2/models/%s/versions/1%s/infer" % (m, enc)
    return "%s %s" % (where, path), refused(f.rest.post(path, dumps(body)), [400, 404])


def c_path_traversal(f, rng):
    m = pick_model(rng)
    inputs = good_inputs(rng, m)
    body = dumps(json_body(m, inputs))
    n = rng.choice([300, 3000, 4100, 5000, 8200, 10000, 70000])
    path = rng.choice([
        "/v2/models/%2e%2e/infer", "/v2/models/%2E%2E/%2e%2e/v2/health/live", "/v2/models/../../etc/passwd",
        "/v2/models/..%2f..%2fetc%2fpasswd/infer", "/v2/models/%s%%2Finfer" % m, "/v2/models/%s%%00/infer" % m,
        "/v2/models/%c0%ae%c0%ae/infer", "/v2/models/%%%%/infer", "/v2/models/%zz/infer", "/v2/models/%/infer",
        "/v2/models/%s/../fuzz_nothing/infer" % m, "/v2/models/./%s/infer" % m, "//v2/models/%s/infer" % m,
        "/v2/models/%s/infer/" % m, "/v2/models/%s/infer;x=1" % m, "/v2/models/%s/infer?x=%%00" % m,
        "/v2/models/%s/infer#frag" % m, "/v2/models/" + "a" * n + "/infer", "/v2/models/%s/versions/%s/infer" % (m, "9" * n),
        "/v2/models/%ff%fe/infer", "/v2/models/%ED%A0%80/infer", "/V2/MODELS/%s/INFER" % m, "/v2/models//infer",
        "/v2/models/%s%%20/infer" % m, "/v2/models/%%20%s/infer" % m, "/v2/models/%s/infer%%00" % m, "/v2/models/~/infer",
        "/v2/models/%s\\..\\x/infer" % m, "http://127.0.0.1/v2/models/nothing/infer", "*",
        "/v2/models/" + "%2e" * (n // 3) + "/infer",
    ])
    method = rng.choice(["POST", "GET"])
    answer = f.rest.one(fuzz_http.request(method, path, body if method == "POST" else b""), method=method)
    allowed = list(range(400, 500))
    if len(path) > 4096:
        allowed = [414, 431]
    # a path that is the infer route of a real model once normalised may be answered: check it then
    if answer.status == 200 and method == "POST":
        return "%s %s" % (method, path[:80]), f.accepted(answer, m, inputs)
    if answer.status == 200 and method == "GET" and path.endswith("/v2/health/live"):
        return "%s %s" % (method, path[:80]), "200"
    return "%s %s" % (method, path[:80]), refused(answer, allowed)


def c_path_versions(f, rng):
    m = pick_model(rng)
    inputs = good_inputs(rng, m)
    version = rng.choice(["%20", "-1", "01", "1e3", "+1", "0x1", "1.0", "%EF%BC%91", "99999999999999999999", "0", "%00",
                          "1%00", "1%20", "%201", "production", "latest", "..", "%2e", "2147483648", "-0", "1,1", "%31",
                          "1", "1", "9223372036854775808", "\u0661".encode("utf-8").hex(), "%D9%A1"])
    path = infer_path(m, version)
    op = rng.choice(["infer", "metadata", "ready"])
    if op == "infer":
        answer = f.rest.post(path, dumps(json_body(m, inputs)))
    else:
        p = "/v2/models/%s/versions/%s%s" % (m, version, "/ready" if op == "ready" else "")
        answer = f.rest.one(fuzz_http.request("GET", p, b""), method="GET")
    desc = "%s version %r" % (op, version)
    # only "1" (and "%31", which is "1" percent-encoded) names the one version; ".." is a dot segment, which
    # Helidon removes as RFC 3986 (5.2.4) says, so .../versions/../infer is the model's own infer path
    if version == "..":
        return desc, f.either(answer, m if op == "infer" else None, inputs, [400, 404])
    if version in ("1", "%31"):
        if op == "infer":
            return desc, f.accepted(answer, m, inputs)
        if answer.status != 200:
            raise Verdict("version %s: %s" % (version, answer.describe()))
        return desc, "200"
    return desc, refused(answer, [400, 404])


def c_http_methods(f, rng):
    m = pick_model(rng)
    method = rng.choice(["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "FOO", "post", "Post", "GET",
                         "PROPFIND", "M" * 100, "HEAD"])
    path = rng.choice([infer_path(m), "/v2/health/ready", "/v2/models/%s" % m, "/v2/repository/index", "/metrics",
                       "/v2/models/%s/infer" % "nothing"])
    body = dumps(json_body(m, good_inputs(rng, m))) if rng.random() < 0.5 else b""
    answer = f.rest.one(fuzz_http.request(method, path, body), method=method)
    desc = "%s %s" % (method[:20], path)
    if answer.status is not None and 200 <= answer.status < 300 and (
            method in ("OPTIONS", "HEAD") or (method == "GET" and not path.endswith("/infer"))):
        return desc, str(answer.status)
    if method == "HEAD" and answer.status is not None and 400 <= answer.status < 500:
        return desc, str(answer.status)  # a HEAD answer has no body to hold the error
    if method.upper() in ("POST", "GET") and method != method.upper() and answer.status == 200:
        # Helidon 4.5 matches method names without regard to case (RFC 9110 says they are case-sensitive);
        # harmless, written down in docs/reliability.md and proved by HelidonBehaviourTest
        return desc, "200 (case-blind method)"
    return desc, refused(answer, list(range(400, 500)) + [501])


def good_request(f, rng, m=None, version="HTTP/1.1", headers=()):
    m = m or pick_model(rng)
    inputs = good_inputs(rng, m)
    body = dumps(json_body(m, inputs))
    return m, inputs, body, fuzz_http.request("POST", infer_path(m), body, headers=[("Content-Type", "application/json")]
                                              + list(headers), version=version)


def c_http_framing(f, rng):
    """Content-Length and Transfer-Encoding that lie, disagree or are malformed; Expect."""
    m = pick_model(rng)
    inputs = good_inputs(rng, m)
    body = dumps(json_body(m, inputs))
    path = infer_path(m)
    kind = rng.choice(["cl-over-then-close", "cl-under", "cl-text", "cl-negative", "cl-two", "cl-list", "cl-huge",
                       "chunked", "chunked-and-cl", "chunked-bad-size", "chunked-no-end", "te-unknown", "te-twice",
                       "expect-continue", "expect-other", "cl-plus", "headers-cut-then-close"])
    def req(headers, payload=body):
        return fuzz_http.request("POST", path, payload, headers=[("Content-Type", "application/json")] + headers)
    if kind == "cl-over-then-close":
        import socket
        s = socket.create_connection((f.rest.host, f.rest.port), timeout=TIMEOUT)
        try:
            s.sendall(req([("Content-Length", str(len(body) + 10))]))
            s.shutdown(socket.SHUT_WR)
            reader = fuzz_http._Reader(s, time.monotonic() + TIMEOUT)
            try:
                answer = fuzz_http.read_answer(reader)
            except EOFError:
                return kind, "closed"  # RFC 9112 8: an incomplete message; closing is what the recipient does
            except (TimeoutError, OSError) as e:
                raise Verdict("a body cut short by the client's close: %s" % e)
            return kind, refused(answer, [400, 408])
        finally:
            s.close()
    if kind == "headers-cut-then-close":
        import socket
        head = req([("Content-Length", str(len(body)))], b"")
        s = socket.create_connection((f.rest.host, f.rest.port), timeout=TIMEOUT)
        try:
            s.sendall(head[:rng.randrange(head.index(b"\r\n") + 2, len(head) - 2)])
            s.shutdown(socket.SHUT_WR)
            try:
                answer = fuzz_http.read_answer(fuzz_http._Reader(s, time.monotonic() + TIMEOUT))
            except EOFError:
                return kind, "closed"
            except (TimeoutError, OSError) as e:
                raise Verdict("headers cut short by the client's close: %s" % e)
            if answer.status == 500 and is_json_error(answer):
                # Helidon 4.5 answers this before any of berth's code runs (HelidonBehaviourTest, docs/reliability.md)
                return kind, "500 (Helidon, headers cut)"
            return kind, refused(answer, [400, 408])
        finally:
            s.close()
    if kind == "cl-under":
        cut = rng.randrange(1, len(body))
        answers = f.rest.send(req([("Content-Length", str(cut))]), answers=2)
        first = refused(answers[0], [400])
        if len(answers) > 1 and answers[1].status is not None:
            refused(answers[1], [400])  # the rest of the body, read as the next request, is not a request
        return kind, first
    if kind in ("cl-text", "cl-negative", "cl-two", "cl-list", "cl-huge", "cl-plus"):
        value = {"cl-text": [("Content-Length", "abc")], "cl-negative": [("Content-Length", "-1")],
                 "cl-two": [("Content-Length", str(len(body))), ("Content-Length", str(len(body) + 1))],
                 "cl-list": [("Content-Length", "%d, %d" % (len(body), len(body) + 1))],
                 "cl-huge": [("Content-Length", "99999999999999999999999")],
                 "cl-plus": [("Content-Length", "+%d" % len(body))]}[kind]
        return kind, refused(f.rest.one(req(value)), [400, 413])
    if kind == "chunked":
        payload = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 7]), body[i:i + 7]) for i in range(0, len(body), 7)) + b"0\r\n\r\n"
        return kind, f.accepted(f.rest.one(req([("Transfer-Encoding", "chunked")], payload)), m, inputs)
    if kind == "chunked-and-cl":
        payload = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        return kind, f.either(f.rest.one(req([("Transfer-Encoding", "chunked"), ("Content-Length", str(len(payload)))],
                                             payload)), m, inputs)
    if kind == "chunked-bad-size":
        payload = b"zz\r\n" + body + b"\r\n0\r\n\r\n"
        return kind, refused(f.rest.one(req([("Transfer-Encoding", "chunked")], payload)), [400])
    if kind == "chunked-no-end":
        payload = b"%x\r\n%s\r\n" % (len(body), body)
        import socket
        s = socket.create_connection((f.rest.host, f.rest.port), timeout=TIMEOUT)
        try:
            s.sendall(req([("Transfer-Encoding", "chunked")], payload))
            s.shutdown(socket.SHUT_WR)
            try:
                return kind, refused(fuzz_http.read_answer(fuzz_http._Reader(s, time.monotonic() + TIMEOUT)), [400])
            except EOFError:
                return kind, "closed"
            except (TimeoutError, OSError) as e:
                raise Verdict("chunked body never ended, client closed: %s" % e)
        finally:
            s.close()
    if kind == "te-unknown":
        return kind, refused(f.rest.one(req([("Transfer-Encoding", rng.choice(["gzip", "identity", "foo", "chunked, foo"]))])),
                             list(range(400, 500)) + [501])
    if kind == "te-twice":
        payload = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        return kind, f.either(f.rest.one(req([("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")],
                                             payload)), m, inputs, list(range(400, 500)) + [501])
    if kind == "expect-continue":
        return kind, f.accepted(f.rest.one(req([("Expect", "100-continue")])), m, inputs)
    if kind == "expect-other":
        return kind, f.either(f.rest.one(req([("Expect", "fancy")])), m, inputs, [417, 400])
    raise AssertionError(kind)


def c_http_headers(f, rng):
    m, inputs, body, _ = good_request(f, rng)
    kind = rng.choice(["huge-value", "many", "name-space", "nul-value", "obs-fold", "no-host", "two-hosts", "bare-lf",
                       "non-ascii-value", "empty-name", "long-name", "content-type-odd", "encoding-garbage",
                       "encoding-unknown", "cookie-flood"])
    headers = [("Content-Type", "application/json")]
    allowed = [400]
    either = False
    raw = None
    if kind == "huge-value":
        headers.append(("X-Big", "v" * rng.choice([17000, 30000, 70000, 200000])))
        allowed = [431]
    elif kind == "many":
        headers += [("X-H%d" % i, "v" * 20) for i in range(rng.choice([700, 2000]))]
        allowed = [431]
    elif kind == "cookie-flood":
        headers += [("Cookie", "c%d=%s" % (i, "v" * 100)) for i in range(200)]
        allowed = [431]
    elif kind == "name-space":
        headers.append(("Bad Header", "x"))
    elif kind == "nul-value":
        headers.append(("X-Nul", "a\x00b"))
    elif kind == "obs-fold":
        headers.append(("X-Fold", "a\r\n  continued"))
    elif kind == "no-host":
        raw = fuzz_http.request("POST", infer_path(m), body, headers=headers, host_header=False)
    elif kind == "two-hosts":
        headers += [("Host", "a.example"), ("Host", "b.example")]
    elif kind == "bare-lf":
        raw = fuzz_http.request("POST", infer_path(m), body, headers=headers).replace(b"\r\n", b"\n", 3)
        either = True
    elif kind == "non-ascii-value":
        headers.append(("X-Name", "caf\xe9 \u65e5".encode("utf-8")))
        either = True
    elif kind == "empty-name":
        # Helidon 4.5 accepts a header line with an empty name (docs/reliability.md, HelidonBehaviourTest)
        headers.append(("", "x"))
        either = True
    elif kind == "long-name":
        headers.append(("X-" + "n" * 20000, "x"))
        allowed = [431, 400]
    elif kind == "content-type-odd":
        headers = [("Content-Type", rng.choice(["text/plain", "application/json; charset=latin-1", "", "*/*",
                                                 "application/x-www-form-urlencoded", "multipart/form-data"]))]
        either = True
    elif kind == "encoding-garbage":
        headers.append(("Content-Encoding", "gzip"))
        allowed = [400, 415]
    else:
        headers.append(("Content-Encoding", rng.choice(["br", "zstd", "compress", "x-foo"])))
        allowed = [415, 400]
    if raw is None:
        raw = fuzz_http.request("POST", infer_path(m), body, headers=headers)
    answer = f.rest.one(raw)
    if either or kind == "no-host" or kind == "two-hosts":
        return kind, f.either(answer, m, inputs, allowed)
    return kind, refused(answer, allowed)


def c_http_versions(f, rng):
    kind = rng.choice(["http10", "http10-keepalive", "pipelined", "http12", "http20", "http09", "garbage-line",
                       "lowercase-version", "absolute-form", "line-too-long", "empty-lines-first"])
    m, inputs, body, one = good_request(f, rng)
    if kind == "http10":
        answers = f.rest.send(fuzz_http.request("POST", infer_path(m), body, version="HTTP/1.0"), answers=1)
        return kind, f.accepted(answers[0], m, inputs)
    if kind == "http10-keepalive":
        req = fuzz_http.request("POST", infer_path(m), body, version="HTTP/1.0", headers=[("Connection", "keep-alive")])
        answers = f.rest.send(req + req, answers=2)
        out = f.accepted(answers[0], m, inputs)
        if len(answers) > 1 and answers[1].status is not None:
            f.accepted(answers[1], m, inputs)
        return kind, out
    if kind == "pipelined":
        k = rng.randint(2, 6)
        reqs = [good_request(f, rng) for _ in range(k)]
        answers = f.rest.send(b"".join(r[3] for r in reqs), answers=k)
        if len(answers) != k:
            raise Verdict("%d pipelined requests, %d answers (%s)" % (k, len(answers), answers[-1].describe()))
        for (mm, ii, _, _), a in zip(reqs, answers):
            f.accepted(a, mm, ii)
        return "pipelined x%d" % k, "200"
    if kind == "http12":
        return kind, f.either(f.rest.one(fuzz_http.request("POST", infer_path(m), body, version="HTTP/1.2")), m, inputs,
                              [400, 505])
    if kind == "http20":
        return kind, refused(f.rest.one(fuzz_http.request("POST", infer_path(m), body, version="HTTP/2.0")), [400, 505])
    if kind == "http09":
        answers = f.rest.send(b"GET /v2/health/live\r\n", answers=1, timeout=5)
        a = answers[0]
        if a.status is None and a.failure and "closed" in a.failure:
            return kind, "closed"  # there is no HTTP/0.9 answer with a status to give
        return kind, refused(a, [400, 505])
    if kind == "garbage-line":
        line = rng.choice([b"hello\r\n\r\n", b"POST\r\n\r\n", b"POST /v2 HTTP/1.1 extra\r\n\r\n", b"\x00\x01\x02\r\n\r\n",
                           b"POST  /v2/health/live  HTTP/1.1\r\nHost: x\r\n\r\n", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"
                           + b"\x00" * 40 + b"\r\n\r\n"])
        return repr(line[:20]), refused(f.rest.one(line, timeout=5), [400, 505])
    if kind == "lowercase-version":
        return kind, f.either(f.rest.one(fuzz_http.request("POST", infer_path(m), body, version="http/1.1")), m, inputs,
                              [400, 505])
    if kind == "absolute-form":
        return kind, f.either(f.rest.one(fuzz_http.request("POST", "http://127.0.0.1:%d%s" % (f.rest.port, infer_path(m)),
                                                           body)), m, inputs)
    if kind == "line-too-long":
        path = infer_path(m) + "?" + "q" * rng.choice([4200, 9000, 20000, 100000])
        return kind, refused(f.rest.one(fuzz_http.request("POST", path, body)), [414])
    return kind, f.either(f.rest.one(b"\r\n\r\n" + one), m, inputs)


def c_http_slow(f, rng):
    """Connections that send part of a request and wait must not keep others from being served."""
    import socket
    held = []
    try:
        for _ in range(rng.randint(5, 30)):
            m, inputs, body, req = good_request(f, rng)
            cut = rng.randrange(1, len(req))
            s = socket.create_connection((f.rest.host, f.rest.port), timeout=TIMEOUT)
            s.sendall(req[:cut])
            held.append(s)
        m, inputs, body, req = good_request(f, rng)
        start = time.monotonic()
        answer = f.rest.one(req, timeout=5)
        took = time.monotonic() - start
        out = f.accepted(answer, m, inputs)
        # what a held connection got so far may only be nothing, or a 4xx/408 JSON answer
        for s in held:
            s.setblocking(False)
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                continue
            if data and not (data.startswith(b"HTTP/1.1 4") or data.startswith(b"HTTP/1.0 4")):
                raise Verdict("a half-sent request was answered %r" % data[:80])
        return "%d held, good request in %.0f ms" % (len(held), took * 1000), out
    finally:
        for s in held:
            s.close()


# ---------------------------------------------------------------------------------------------
# gRPC

class Grpc:
    def __init__(self, target, stubs):
        import grpc
        sys.path.insert(0, os.path.join(stubs, "kserve"))
        import open_inference_grpc_pb2 as pb
        import open_inference_grpc_pb2_grpc as pb_grpc
        self.grpc = grpc
        self.pb = pb
        self.channel = grpc.insecure_channel(target, options=[("grpc.max_send_message_length", 64 << 20),
                                                              ("grpc.max_receive_message_length", 64 << 20)])
        self.stub = pb_grpc.GRPCInferenceServiceStub(self.channel)
        # bytes as they are: for messages the generated classes would refuse to build
        self.raw_infer = self.channel.unary_unary("/inference.GRPCInferenceService/ModelInfer",
                                                  request_serializer=lambda b: b,
                                                  response_deserializer=pb.ModelInferResponse.FromString)

    def request(self, model, inputs, raw=False, names=None):
        pb = self.pb
        req = pb.ModelInferRequest(model_name=model)
        for n, dt, _ in INPUTS[model]:
            arr = inputs[n]
            t = req.inputs.add(name=n, datatype=dt, shape=list(arr.shape))
            if raw or dt == "FP16":
                continue
            field = getattr(t.contents, TYPED_FIELD[dt])
            field.extend([v if dt == "BYTES" else (bool(v) if dt == "BOOL" else (int(v) if dt in INT_RANGE else float(v)))
                          for v in arr.reshape(-1)])
        if raw or any(dt == "FP16" for _, dt, _ in INPUTS[model]):
            for t in req.inputs:
                t.ClearField("contents")
            req.raw_input_contents.extend([raw_bytes(dt, inputs[n]) for n, dt, _ in INPUTS[model]])
        return req


ALLOWED_CLIENT_CODES = {"INVALID_ARGUMENT", "NOT_FOUND", "OUT_OF_RANGE", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION"}


def grpc_refused(f, call, codes=("INVALID_ARGUMENT",)):
    g = f.grpc
    try:
        call()
    except g.grpc.RpcError as e:
        code = e.code().name
        details = e.details() or ""
        if code not in codes:
            raise Verdict("status %s (%r), expected %s" % (code, details[:200], "/".join(codes)))
        if not details.strip():
            raise Verdict("status %s without a message" % code)
        return code
    raise Verdict("the call succeeded; %s was expected" % "/".join(codes))


def grpc_accepted(f, model, inputs, response):
    want = f.expected.outputs(model, inputs)
    got = {o.name: (i, o) for i, o in enumerate(response.outputs)}
    if set(got) != set(want):
        raise Verdict("outputs %s, expected %s" % (sorted(got), sorted(want)))
    for name, arr in want.items():
        i, o = got[name]
        if response.raw_output_contents:
            buf = response.raw_output_contents[i]
            if o.datatype == "BYTES":
                vals, pos = [], 0
                while pos < len(buf):
                    (n,) = struct.unpack_from("<I", buf, pos)
                    vals.append(buf[pos + 4:pos + 4 + n].decode("utf-8", "replace"))
                    pos += 4 + n
                data = vals
            elif o.datatype == "BOOL":
                data = [bool(b) for b in buf]
            else:
                vals = np.frombuffer(buf, dtype=np.dtype(NP[o.datatype]).newbyteorder("<"))
                data = [int(v) if o.datatype in INT_RANGE else float(v) for v in vals]
        else:
            field = getattr(o.contents, TYPED_FIELD[o.datatype])
            data = [v.decode("utf-8", "replace") if o.datatype == "BYTES" else v for v in field]
        why = compare(arr, data, list(o.shape), o.datatype)
        if why:
            raise Verdict("output %s: %s" % (name, why))
    return "OK"


def c_grpc_contents(f, rng):
    g = f.grpc
    m = pick_model(rng)
    inputs = good_inputs(rng, m)
    kind = rng.choice(["valid-typed", "valid-raw", "both", "raw-count-more", "raw-count-fewer", "raw-length",
                       "typed-count", "wrong-field", "bytes-prefix", "bytes-invalid-utf8", "empty-raw", "two-fields"])
    typed_ok = not any(dt == "FP16" for _, dt, _ in INPUTS[m])
    if kind in ("both", "typed-count", "wrong-field", "two-fields", "valid-typed") and not typed_ok:
        kind = "valid-raw"
    if kind in ("bytes-prefix", "bytes-invalid-utf8"):
        m = "fuzz_text"
        inputs = good_inputs(rng, m)
    req = g.request(m, inputs, raw=kind not in ("valid-typed", "typed-count", "wrong-field", "two-fields", "both"))
    if kind == "valid-typed" or kind == "valid-raw":
        try:
            resp = g.stub.ModelInfer(req, timeout=TIMEOUT)
        except g.grpc.RpcError as e:
            raise Verdict("a valid request failed: %s %s" % (e.code().name, e.details()))
        return "%s %s" % (m, kind), grpc_accepted(f, m, inputs, resp)
    if kind == "both":
        req.raw_input_contents.extend([raw_bytes(dt, inputs[n]) for n, dt, _ in INPUTS[m]])
    elif kind == "raw-count-more":
        req.raw_input_contents.append(b"\x00" * 8)
    elif kind == "raw-count-fewer":
        del req.raw_input_contents[-1]
    elif kind == "raw-length":
        i = rng.randrange(len(req.raw_input_contents))
        b = req.raw_input_contents[i]
        req.raw_input_contents[i] = b + b"\x00" * rng.randint(1, 9) if rng.random() < 0.5 or len(b) < 2 else b[:-1]
    elif kind == "typed-count":
        t = req.inputs[rng.randrange(len(req.inputs))]
        field = getattr(t.contents, TYPED_FIELD[t.datatype])
        if rng.random() < 0.5 and len(field) > 0:
            del field[-1]
        else:
            field.append(field[0] if len(field) else (b"x" if t.datatype == "BYTES" else 0))
    elif kind == "wrong-field":
        t = req.inputs[rng.randrange(len(req.inputs))]
        t.ClearField("contents")
        other = rng.choice([k for k in sorted(set(TYPED_FIELD.values())) if k != TYPED_FIELD[t.datatype]])
        count = int(np.prod(list(t.shape)))
        getattr(t.contents, other).extend([b"x" if other == "bytes_contents" else (True if other == "bool_contents" else 1)]
                                          * count)
    elif kind == "two-fields":
        t = req.inputs[rng.randrange(len(req.inputs))]
        other = rng.choice([k for k in sorted(set(TYPED_FIELD.values())) if k != TYPED_FIELD[t.datatype]])
        getattr(t.contents, other).extend([b"x" if other == "bytes_contents" else (True if other == "bool_contents" else 1)])
    elif kind == "bytes-prefix":
        b = req.raw_input_contents[0]
        req.raw_input_contents[0] = rng.choice([b[:-1] if len(b) > 4 else b + b"\x05", struct.pack("<I", 0xFFFFFFFF) + b[4:],
                                                b + b"\x01\x00", b[:2]])
    elif kind == "bytes-invalid-utf8":
        bad = rng.choice(INVALID_UTF8)
        req.raw_input_contents[0] = struct.pack("<I", len(bad)) + bad + req.raw_input_contents[0][4 + len(inputs["text"].reshape(-1)[0]):]
    elif kind == "empty-raw":
        req.raw_input_contents[0] = b""
    return "%s %s" % (m, kind), grpc_refused(f, lambda: g.stub.ModelInfer(req, timeout=TIMEOUT))


def c_grpc_shapes(f, rng):
    g = f.grpc
    m = pick_model(rng)
    inputs = good_inputs(rng, m)
    req = g.request(m, inputs, raw=rng.random() < 0.5)
    t = req.inputs[rng.randrange(len(req.inputs))]
    kind = rng.choice(["huge", "negative", "datatype-unknown", "datatype-other", "rank", "zero"])
    codes = ("INVALID_ARGUMENT",)
    if kind == "huge":
        del t.shape[:]
        t.shape.extend(rng.choice([[2 ** 62, 4], [2 ** 32, 2 ** 32], [2 ** 63 - 1, 2], [2 ** 31, 3], [3037000500] * 2]))
        codes = ("INVALID_ARGUMENT", "RESOURCE_EXHAUSTED", "OUT_OF_RANGE")
    elif kind == "negative":
        t.shape[0] = rng.choice([-1, -2, -(2 ** 63)])
    elif kind == "datatype-unknown":
        t.datatype = rng.choice(["FLOAT", "fp32", "", "BF17", "INT128", "STRING", " FP32"])
    elif kind == "datatype-other":
        t.datatype = rng.choice([d for d in NP if d != t.datatype])
    elif kind == "rank":
        t.shape.append(1)
        t.shape.append(2)
    else:
        t.shape[0] = 0
    return "%s %s %s" % (m, t.name, kind), grpc_refused(f, lambda: g.stub.ModelInfer(req, timeout=TIMEOUT), codes)


def c_grpc_names(f, rng):
    """Unknown names and versions, invalid UTF-8 in strings (byte surgery on the encoded message), broken protobuf."""
    g = f.grpc
    m = pick_model(rng)
    inputs = good_inputs(rng, m)
    kind = rng.choice(["unknown-model", "version", "utf8-model", "utf8-id", "utf8-input", "utf8-version",
                       "utf8-param-key", "garbage", "truncated", "control-model"])
    req = g.request(m, inputs, raw=True)
    if kind == "unknown-model":
        req.model_name = rng.choice(["nothing", "", " ", m + " ", m.upper(), "../" + m, m + "/versions/1"])
        codes = ("NOT_FOUND", "INVALID_ARGUMENT")
        return "%s %r" % (kind, req.model_name), grpc_refused(f, lambda: g.stub.ModelInfer(req, timeout=TIMEOUT), codes)
    if kind == "version":
        req.model_version = rng.choice([" ", "-1", "01", "1e3", "+1", "0x1", "1.0", "\uff11", "99999999999999999999", "0"])
        return "%s %r" % (kind, req.model_version), grpc_refused(f, lambda: g.stub.ModelInfer(req, timeout=TIMEOUT),
                                                                 ("NOT_FOUND", "INVALID_ARGUMENT"))
    if kind == "control-model":
        req.model_name = m + rng.choice(CONTROL)
        return "%s %r" % (kind, req.model_name), grpc_refused(f, lambda: g.stub.ModelInfer(req, timeout=TIMEOUT),
                                                              ("NOT_FOUND", "INVALID_ARGUMENT"))
    if kind.startswith("utf8"):
        # a 4-byte marker (unlikely elsewhere in the message) replaced by as many bytes: the length prefix holds
        bad = rng.choice([b for b in INVALID_UTF8 if len(b) <= 4])
        mark = b"QZQZ"
        bad = bad + b"Z" * (4 - len(bad))
        if kind == "utf8-model":
            req.model_name = mark.decode()
        elif kind == "utf8-id":
            req.id = mark.decode()
        elif kind == "utf8-input":
            req.inputs[0].name = mark.decode()
        elif kind == "utf8-version":
            req.model_version = mark.decode()
        else:
            req.parameters[mark.decode()].bool_param = True
        data = req.SerializeToString().replace(mark, bad, 1)
        return "%s %r" % (kind, bad), grpc_refused(f, lambda: g.raw_infer(data, timeout=TIMEOUT))
    data = req.SerializeToString()
    if kind == "garbage":
        r = random.Random(rng.random())
        data = bytes(r.randrange(256) for _ in range(r.randint(1, 200)))
        # a random message may parse as one naming no model: either answer is a client's mistake
        return kind, grpc_refused(f, lambda: g.raw_infer(data, timeout=TIMEOUT), ("INVALID_ARGUMENT", "NOT_FOUND"))
    cut = rng.randrange(1, len(data))
    return "truncated at %d of %d" % (cut, len(data)), grpc_refused(f, lambda: g.raw_infer(data[:cut], timeout=TIMEOUT),
                                                                    ("INVALID_ARGUMENT", "NOT_FOUND"))


def c_grpc_calls(f, rng):
    """Deadlines of a millisecond, cancelled calls, odd metadata: the server answers or the client gives up, correctly."""
    g = f.grpc
    m = pick_model(rng)
    inputs = good_inputs(rng, m)
    req = g.request(m, inputs)
    kind = rng.choice(["deadline", "cancel", "metadata-bin", "metadata-many", "metadata-long", "metadata-odd",
                       "timeout-parameter"])
    if kind == "timeout-parameter":
        value = rng.choice([1, 2, 0, 10 ** 7])
        req.parameters["timeout"].int64_param = value
        try:
            resp = g.stub.ModelInfer(req, timeout=TIMEOUT)
        except g.grpc.RpcError as e:
            if e.code().name != "DEADLINE_EXCEEDED" or not e.details():
                raise Verdict("timeout %d us ended %s (%s)" % (value, e.code().name, e.details()))
            return kind, "DEADLINE_EXCEEDED"
        return kind, grpc_accepted(f, m, inputs, resp)
    if kind == "deadline":
        try:
            resp = g.stub.ModelInfer(req, timeout=rng.choice([0.001, 0.002, 0.0001]))
        except g.grpc.RpcError as e:
            if e.code().name == "CANCELLED" and "RST_STREAM" in (e.details() or ""):
                # the server's own deadline fired first: gRPC's HTTP/2 protocol has it reset the stream (CANCEL),
                # and C-core reports that as CANCELLED (grpc-go turns it into DEADLINE_EXCEEDED; docs/reliability.md)
                return kind, "CANCELLED (server deadline, RST_STREAM)"
            if e.code().name != "DEADLINE_EXCEEDED":
                raise Verdict("a 1 ms deadline ended %s (%s)" % (e.code().name, e.details()))
            return kind, "DEADLINE_EXCEEDED"
        return kind, grpc_accepted(f, m, inputs, resp)
    if kind == "cancel":
        fut = g.stub.ModelInfer.future(req, timeout=TIMEOUT)
        time.sleep(rng.choice([0, 0.0005, 0.002]))
        fut.cancel()
        try:
            resp = fut.result()
            return kind, grpc_accepted(f, m, inputs, resp)
        except g.grpc.FutureCancelledError:
            return kind, "CANCELLED"
        except g.grpc.RpcError as e:
            if e.code().name != "CANCELLED":
                raise Verdict("a cancelled call ended %s (%s)" % (e.code().name, e.details()))
            return kind, "CANCELLED"
    if kind == "metadata-bin":
        md = [("x-fuzz-bin", bytes(rng.randrange(256) for _ in range(rng.randint(0, 500))))]
    elif kind == "metadata-many":
        md = [("x-k%d" % i, "v") for i in range(rng.randint(50, 150))]
    elif kind == "metadata-long":
        # up to 16 KiB is always served (GrpcServer's metadata limits; grpc-java's default ended the connection at 10 KiB)
        md = [("x-long", "v" * rng.choice([100, 2000, 6000, 12000, 15000]))]
    else:
        md = [rng.choice([("authorization", "Bearer " + "x" * 40), ("te", "trailers"), ("x-empty", ""),
                          ("user-agent", "fuzz/\x7e"), ("grpc-previous-rpc-attempts", "3"), ("x-spaces", " a b "),
                          ("authorization", "Basic Zm9vOmJhcg=="), ("x-upper-value", "ABC")])]
    try:
        resp = g.stub.ModelInfer(req, timeout=TIMEOUT, metadata=md)
    except g.grpc.RpcError as e:
        raise Verdict("metadata %s: %s %s" % (str(md)[:80], e.code().name, e.details()))
    return kind, grpc_accepted(f, m, inputs, resp)


REST_CLASSES = [
    ("json.truncated", c_json_truncated), ("json.malformed", c_json_malformed), ("json.types", c_json_types),
    ("numbers.range", c_numbers_range), ("shape.mismatch", c_shape_mismatch), ("shape.huge", c_shape_huge),
    ("shape.negative", c_shape_negative), ("bytes.utf8", c_bytes_utf8), ("bytes.binary", c_bytes_binary),
    ("binary.header", c_binary_header), ("parameters.types", c_parameters), ("names.control", c_names_control),
    ("path.traversal", c_path_traversal), ("path.versions", c_path_versions), ("http.methods", c_http_methods),
    ("http.framing", c_http_framing), ("http.headers", c_http_headers), ("http.versions", c_http_versions),
    ("http.slow", c_http_slow),
]
GRPC_CLASSES = [("grpc.contents", c_grpc_contents), ("grpc.shapes", c_grpc_shapes), ("grpc.names", c_grpc_names),
                ("grpc.calls", c_grpc_calls)]


# ---------------------------------------------------------------------------------------------
# the run

class CaseRandom(random.Random):
    """random.Random that remembers the named choices it made (the case's kinds), for failure messages."""

    def __init__(self, seed):
        super().__init__(seed)
        self.picked = []

    def choice(self, seq):
        value = super().choice(seq)
        if isinstance(value, str) and 0 < len(value) <= 40:
            self.picked.append(value)
        return value


def case_rng(seed, cls, n):
    return CaseRandom("%d:%s:%d" % (seed, cls, n))


def run_case(f, cls, fn, n):
    """(outcome, failure) of case n of a class; an exception in the fuzzer itself is a failure too."""
    rng = case_rng(f.seed, cls, n)
    fuzz_http.LAST_SENT = b""
    try:
        desc, outcome = fn(f, rng)
        return desc, outcome, None
    except Verdict as v:
        sent = fuzz_http.LAST_SENT
        shown = repr(sent[:300]) + (" ... (%d bytes)" % len(sent) if len(sent) > 300 else "")
        return "", "FAIL", str(v) + "\n    choices: %s" % rng.picked + ("\n    sent: " + shown if sent and not cls.startswith("grpc") else "")
    except Exception as e:  # the fuzzer's own error: report it, do not hide it
        import traceback
        return "", "FAIL", "fuzzer error %s: %s\n%s" % (type(e).__name__, e, "".join(traceback.format_exc()[-600:]))


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def live(f):
    a = f.rest.one(fuzz_http.request("GET", "/v2/health/live", b""), method="GET", timeout=10)
    return a.status == 200


def after_checks(f, report_checks):
    """Every model answers a good request right over REST (JSON and binary) and gRPC."""
    rng = random.Random("%d:after" % f.seed)
    for m in sorted(INPUTS):
        inputs = good_inputs(rng, m)
        name = "after.rest[%s]" % m
        try:
            f.accepted(f.rest.post(infer_path(m), dumps(json_body(m, inputs))), m, inputs)
            header, tail = binary_request(m, inputs, {n for n, _, _ in INPUTS[m]}, rng)
            f.accepted(post_binary(f, m, dumps(header), tail), m, inputs)
            report_checks.append({"name": name, "ok": True, "detail": "JSON and binary answers match onnxruntime"})
        except Verdict as v:
            report_checks.append({"name": name, "ok": False, "detail": str(v)})
        if f.grpc:
            name = "after.grpc[%s]" % m
            try:
                grpc_accepted(f, m, inputs, f.grpc.stub.ModelInfer(f.grpc.request(m, inputs), timeout=TIMEOUT))
                report_checks.append({"name": name, "ok": True, "detail": "matches onnxruntime"})
            except Exception as e:
                report_checks.append({"name": name, "ok": False, "detail": "%s: %s" % (type(e).__name__, e)})


def heap_committed_kib(f):
    """The JVM's committed heap from the server's /metrics (Micrometer's jvm_memory_committed_bytes), or None."""
    a = f.rest.one(fuzz_http.request("GET", "/metrics", b""), method="GET", timeout=10)
    if a.status != 200:
        return None
    total = None
    for line in a.body.decode("utf-8", "replace").splitlines():
        if line.startswith("jvm_memory_committed_bytes{") and 'area="heap"' in line:
            total = (total or 0) + float(line.rsplit(" ", 1)[1])
    return None if total is None else int(total / 1024)


def rss_verdict(samples, heap_pretouched=False):
    """Fails when resident memory kept climbing through the second half of the run (a leak), not when it
    grew once and settled (a heap finding its size).

    samples: (seconds, RSS KiB, committed heap KiB or None). Committed heap pages are resident only once
    first touched, so a heap that is still filling its committed size raises RSS without any leak (CI saw
    +40 MiB in a second half with the committed heap flat). With heap_pretouched (the server ran with a
    fixed heap and -XX:+AlwaysPreTouch: every committed page resident from the start) the verdict is on
    RSS less the committed heap, the part that is not the Java heap: metaspace, code, threads, ONNX
    Runtime, malloc. Otherwise it stays on RSS, and a by-hand run that fails wants native memory tracking
    (docs/limits.md).
    """
    if len(samples) < 6:
        return True, "too few samples (%d) to judge" % len(samples)
    rss = [r for _, r, _ in samples]
    heap = [h for _, _, h in samples]
    known = all(h is not None for h in heap)
    first, mid, last = rss[len(rss) // 10], rss[len(rss) // 2], rss[-1]
    detail = "RSS %d MiB after warm-up, %d MiB at half time, %d MiB at the end" % (first // 1024, mid // 1024, last // 1024)
    if known:
        detail += " (committed heap %d, %d, %d MiB)" % (heap[len(heap) // 10] // 1024, heap[len(heap) // 2] // 1024,
                                                       heap[-1] // 1024)
    if heap_pretouched and known:
        outside = [r - h for r, h in zip(rss, heap)]
        first, mid, last = outside[len(outside) // 10], outside[len(outside) // 2], outside[-1]
        detail += "; outside the pre-touched heap %d, %d, %d MiB" % (first // 1024, mid // 1024, last // 1024)
    limit = max(32 * 1024, mid // 10)
    detail += "; growth in the 2nd half limited to %d MiB" % (limit // 1024)
    return last - mid <= limit, detail


def main_run(args):
    f = Fuzz(args, args.seed)
    classes = REST_CLASSES + (GRPC_CLASSES if f.grpc else [])
    only_case = None
    if args.only:
        name, _, num = args.only.partition(":")
        classes = [(c, fn) for c, fn in classes if c == name or c.startswith(name + ".") or name == c.split(".")[0]]
        if not classes:
            sys.exit("no class %r; classes: %s" % (name, ", ".join(c for c, _ in REST_CLASSES + GRPC_CLASSES)))
        only_case = int(num) if num else None
    stats = {c: {"cases": 0, "failed": 0, "outcomes": {}, "failures": []} for c, _ in classes}
    samples = []
    start = time.monotonic()
    n = only_case or 0
    dead = None
    while True:
        if only_case is None:
            if args.cases is not None and n >= args.cases:
                break
            if args.cases is None and time.monotonic() - start >= args.seconds:
                break
        for cls, fn in classes:
            desc, outcome, failure = run_case(f, cls, fn, n)
            s = stats[cls]
            s["cases"] += 1
            s["outcomes"][outcome] = s["outcomes"].get(outcome, 0) + 1
            if failure:
                s["failed"] += 1
                if len(s["failures"]) < 20:
                    s["failures"].append("--seed %d --only %s:%d  %s" % (f.seed, cls, n, failure))
                if args.verbose:
                    print("FAIL %s:%d %s" % (cls, n, failure), flush=True)
        if args.pid and n % 5 == 0:
            r = rss_kib(args.pid)
            if r is not None:
                samples.append((time.monotonic() - start, r, heap_committed_kib(f)))
        if n % 20 == 0 and not live(f):
            dead = "not live after round %d" % n
            break
        if only_case is not None:
            break
        n += 1
    elapsed = time.monotonic() - start
    checks = []
    for cls, _ in classes:
        s = stats[cls]
        detail = "%d cases, outcomes %s" % (s["cases"], ", ".join("%s x%d" % kv for kv in sorted(s["outcomes"].items())))
        if s["failures"]:
            detail += "\n" + "\n".join(s["failures"])
        checks.append({"name": "class[%s]" % cls, "ok": s["failed"] == 0, "detail": detail})
    alive = dead is None and live(f)
    checks.append({"name": "server.live", "ok": alive, "detail": dead or ("live after %d rounds" % (n + 1))})
    if alive:
        after_checks(f, checks)
    if args.pid:
        ok, detail = rss_verdict(samples, args.heap_pretouched)
        checks.append({"name": "server.rss", "ok": ok, "detail": detail})
    # the summary table
    print("%-20s %7s %7s  %s" % ("class", "cases", "failed", "outcomes"))
    for cls, _ in classes:
        s = stats[cls]
        print("%-20s %7d %7d  %s" % (cls, s["cases"], s["failed"],
                                      " ".join("%s:%d" % kv for kv in sorted(s["outcomes"].items()))))
    print("seed %d, %d rounds in %.1f s" % (f.seed, n + (0 if only_case is not None else 0), elapsed))
    failed = [c for c in checks if not c["ok"]]
    for c in failed:
        print("FAILED %s: %s" % (c["name"], c["detail"]))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump({"suite": "fuzz seed %d" % f.seed, "complete": True, "passed": len(checks) - len(failed),
                       "failed": len(failed), "checks": checks}, fh, indent=2)
    return 1 if failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    pm = sub.add_parser("models")
    pm.add_argument("dir")
    pr = sub.add_parser("run")
    pr.add_argument("--url", required=True)
    pr.add_argument("--grpc")
    pr.add_argument("--models", required=True, help="the folder `fuzz.py models` wrote")
    pr.add_argument("--stubs", help="conformance/target/venv/stubs (needed with --grpc)")
    pr.add_argument("--seed", type=int, default=1)
    pr.add_argument("--seconds", type=float, default=60)
    pr.add_argument("--cases", type=int, help="rounds instead of a time budget")
    pr.add_argument("--only", help="CLASS or CLASS:CASE")
    pr.add_argument("--pid", type=int, help="the server's process id: its RSS is sampled")
    pr.add_argument("--heap-pretouched", action="store_true",
                    help="the server runs with -Xms = -Xmx and -XX:+AlwaysPreTouch: judge RSS less the committed heap")
    pr.add_argument("--out")
    pr.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    if args.command == "models":
        print("\n".join(fuzz_models.write_all(args.dir)))
        return 0
    return main_run(args)


if __name__ == "__main__":
    sys.exit(main())

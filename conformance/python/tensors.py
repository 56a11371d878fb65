"""Tensors as a client of the Open Inference Protocol writes and reads them, written from the
protocol's text (datatype names, raw little-endian row-major layout, 4-byte length prefixes for
BYTES, typed contents fields, JSON "data" with NaN/Infinity as strings) so that berth's own codecs
are checked, not reused.
"""
import json
import math

import ml_dtypes
import numpy as np

# numpy dtype -> OIP datatype; strings and bytes both travel as BYTES
_NP_TO_OIP = {
    np.dtype(np.bool_): "BOOL",
    np.dtype(np.uint8): "UINT8",
    np.dtype(np.uint16): "UINT16",
    np.dtype(np.uint32): "UINT32",
    np.dtype(np.uint64): "UINT64",
    np.dtype(np.int8): "INT8",
    np.dtype(np.int16): "INT16",
    np.dtype(np.int32): "INT32",
    np.dtype(np.int64): "INT64",
    np.dtype(np.float16): "FP16",
    np.dtype(ml_dtypes.bfloat16): "BF16",
    np.dtype(np.float32): "FP32",
    np.dtype(np.float64): "FP64",
}
OIP_TO_NP = {v: k for k, v in _NP_TO_OIP.items()}
OIP_TO_NP["BYTES"] = np.dtype(object)

# cases.json dtype names -> numpy
_CASE_DTYPES = {
    "bool": np.bool_, "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64,
    "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
    "float16": np.float16, "float32": np.float32, "float64": np.float64,
}

# OIP datatype -> the InferTensorContents field that carries it (FP16/BF16: none, raw only)
TYPED_FIELD = {
    "BOOL": "bool_contents",
    "INT8": "int_contents", "INT16": "int_contents", "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents", "UINT16": "uint_contents", "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}


def oip_datatype(arr):
    if arr.dtype == object or arr.dtype.kind in ("U", "S"):
        return "BYTES"
    try:
        return _NP_TO_OIP[arr.dtype]
    except KeyError:
        raise ValueError("no Open Inference Protocol datatype for numpy %s" % arr.dtype)


def as_bytes_array(arr):
    """A string or bytes array as an object array of bytes (UTF-8 for text)."""
    flat = [x.encode("utf-8") if isinstance(x, str) else bytes(x) for x in arr.reshape(-1).tolist()]
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(arr.shape)


def normalize(arr):
    """Strings and bytes as object arrays of bytes; everything else unchanged."""
    arr = np.asarray(arr)
    if arr.dtype == object or arr.dtype.kind in ("U", "S"):
        return as_bytes_array(arr)
    return arr


def from_case(t):
    """A {"dtype", "shape", "data"} tensor of the test models' cases.json as a numpy array."""
    shape = tuple(t["shape"])
    if t["dtype"] == "string":
        return as_bytes_array(np.array(t["data"], dtype=object).reshape(shape))
    dtype = _CASE_DTYPES[t["dtype"]]
    data = [float(x) if isinstance(x, str) else x for x in t["data"]]  # "NaN", "Infinity"
    return np.array(data, dtype=dtype).reshape(shape)


# ---------------------------------------------------------------- raw (gRPC raw contents, binary REST)

def to_raw(arr):
    arr = normalize(arr)
    datatype = oip_datatype(arr)
    if datatype == "BYTES":
        parts = []
        for b in arr.reshape(-1).tolist():
            parts.append(len(b).to_bytes(4, "little"))
            parts.append(b)
        return b"".join(parts)
    if datatype == "BOOL":
        return np.ascontiguousarray(arr).astype(np.uint8).tobytes()
    return np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()


def from_raw(buf, datatype, shape):
    shape = tuple(int(d) for d in shape)
    count = int(np.prod(shape, dtype=np.int64))
    buf = bytes(buf)
    if datatype == "BYTES":
        items, pos = [], 0
        while pos < len(buf):
            if pos + 4 > len(buf):
                raise ValueError("BYTES element length prefix cut off at byte %d" % pos)
            n = int.from_bytes(buf[pos:pos + 4], "little")
            pos += 4
            if pos + n > len(buf):
                raise ValueError("BYTES element of %d bytes runs past the end" % n)
            items.append(buf[pos:pos + n])
            pos += n
        if len(items) != count:
            raise ValueError("%d BYTES elements for shape %s" % (len(items), list(shape)))
        out = np.empty(count, dtype=object)
        out[:] = items
        return out.reshape(shape)
    if datatype == "BOOL":
        raw = np.frombuffer(buf, dtype=np.uint8)
        if raw.size != count:
            raise ValueError("%d bytes for %d BOOL elements" % (raw.size, count))
        return (raw != 0).reshape(shape)
    dtype = OIP_TO_NP[datatype].newbyteorder("<")
    if len(buf) != count * dtype.itemsize:
        raise ValueError("%d raw bytes for %d %s elements" % (len(buf), count, datatype))
    return np.frombuffer(buf, dtype=dtype).astype(OIP_TO_NP[datatype]).reshape(shape)


# ---------------------------------------------------------------- typed gRPC contents

def fill_typed(contents, arr):
    """Writes arr into an InferTensorContents message; ValueError for FP16/BF16 (no typed form)."""
    arr = normalize(arr)
    datatype = oip_datatype(arr)
    field = TYPED_FIELD.get(datatype)
    if field is None:
        raise ValueError("%s has no typed contents" % datatype)
    values = arr.reshape(-1).tolist()
    getattr(contents, field).extend(values)


def from_typed(contents, datatype, shape):
    field = TYPED_FIELD.get(datatype)
    if field is None:
        raise ValueError("%s cannot come as typed contents" % datatype)
    values = list(getattr(contents, field))
    shape = tuple(int(d) for d in shape)
    if datatype == "BYTES":
        out = np.empty(len(values), dtype=object)
        out[:] = [bytes(v) for v in values]
    else:
        out = np.array(values, dtype=OIP_TO_NP[datatype])
    if out.size != int(np.prod(shape, dtype=np.int64)):
        raise ValueError("%d typed %s values for shape %s" % (out.size, datatype, list(shape)))
    return out.reshape(shape)


def has_typed(contents):
    return any(len(getattr(contents, f)) for f in set(TYPED_FIELD.values()))


def outputs_of(response):
    """{name: (datatype, array)} from a ModelInferResponse, whichever of raw or typed contents it used."""
    result = {}
    raw = list(response.raw_output_contents)
    if raw and len(raw) != len(response.outputs):
        raise ValueError("%d raw_output_contents for %d outputs" % (len(raw), len(response.outputs)))
    for i, out in enumerate(response.outputs):
        if raw:
            if has_typed(out.contents):
                raise ValueError("output %s has typed contents and raw_output_contents is set" % out.name)
            result[out.name] = (out.datatype, from_raw(raw[i], out.datatype, out.shape))
        else:
            result[out.name] = (out.datatype, from_typed(out.contents, out.datatype, out.shape))
    return result


# ---------------------------------------------------------------- JSON (REST)

def _json_value(x):
    if isinstance(x, float):
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "Infinity" if x > 0 else "-Infinity"
    return x


def to_json_tensor(name, arr):
    """The JSON form of an input; UnicodeDecodeError for BYTES that are not UTF-8 (send binary)."""
    arr = normalize(arr)
    datatype = oip_datatype(arr)
    if datatype == "BYTES":
        data = [b.decode("utf-8") for b in arr.reshape(-1).tolist()]
    elif datatype in ("FP16", "BF16"):
        data = [_json_value(float(x)) for x in arr.astype(np.float32).reshape(-1).tolist()]
    else:
        data = [_json_value(x) for x in arr.reshape(-1).tolist()]
    return {"name": name, "datatype": datatype, "shape": list(arr.shape), "data": data}


def from_json_tensor(t):
    datatype, shape = t["datatype"], tuple(t["shape"])
    data = t["data"]
    if not isinstance(data, list):
        data = [data]
    data = _flatten(data)
    if datatype == "BYTES":
        out = np.empty(len(data), dtype=object)
        out[:] = [d.encode("utf-8") if isinstance(d, str) else bytes(d) for d in data]
    else:
        vals = [float(d) if isinstance(d, str) else d for d in data]
        out = np.array(vals, dtype=OIP_TO_NP[datatype]) if vals else np.zeros(0, OIP_TO_NP[datatype])
    return out.reshape(shape)


def _flatten(data):
    flat = []
    for d in data:
        if isinstance(d, list):
            flat.extend(_flatten(d))
        else:
            flat.append(d)
    return flat


def binary_request(inputs, outputs=None, binary_outputs=True):
    """Triton's binary tensor data extension: (body, header length) for {name: array} inputs."""
    header = {"inputs": [], "parameters": {"binary_data_output": binary_outputs}}
    blobs = []
    for name, arr in inputs.items():
        arr = normalize(arr)
        raw = to_raw(arr)
        header["inputs"].append({"name": name, "datatype": oip_datatype(arr), "shape": list(arr.shape),
                                 "parameters": {"binary_data_size": len(raw)}})
        blobs.append(raw)
    if outputs:
        header["outputs"] = [{"name": n, "parameters": {"binary_data": binary_outputs}} for n in outputs]
    head = json.dumps(header).encode("utf-8")
    return head + b"".join(blobs), len(head)


def binary_response(body, header_length):
    """{name: array} from a binary-extension response body (JSON header, then the raw outputs)."""
    header = json.loads(body[:header_length])
    pos = header_length
    result = {}
    for out in header["outputs"]:
        size = (out.get("parameters") or {}).get("binary_data_size")
        if size is None:
            result[out["name"]] = from_json_tensor(out)
        else:
            result[out["name"]] = from_raw(body[pos:pos + size], out["datatype"], out["shape"])
            pos += size
    return header, result


# ---------------------------------------------------------------- comparison

def compare(expected, actual, rtol=1e-5, atol=1e-6, expected_datatype=None, actual_datatype=None):
    """None when actual matches expected (datatype, shape, values within tolerance), else why not.

    NaNs match NaNs; integers, booleans and bytes must be equal; floats within
    |actual - expected| <= atol + rtol * |expected|, as numpy.testing does.
    """
    expected = normalize(expected)
    actual = normalize(actual)
    want = expected_datatype or oip_datatype(expected)
    got = actual_datatype or oip_datatype(actual)
    if want != got:
        return "datatype %s, expected %s" % (got, want)
    if tuple(actual.shape) != tuple(expected.shape):
        return "shape %s, expected %s" % (list(actual.shape), list(expected.shape))
    if want == "BYTES":
        a, e = actual.reshape(-1).tolist(), expected.reshape(-1).tolist()
        for i, (x, y) in enumerate(zip(a, e)):
            if x != y:
                return "element %d is %r, expected %r" % (i, x, y)
        return None
    if want in ("BOOL",) or np.issubdtype(expected.dtype, np.integer):
        diff = np.flatnonzero(actual.reshape(-1) != expected.reshape(-1))
        if diff.size:
            i = int(diff[0])
            return "%d of %d elements differ; element %d is %s, expected %s" % (
                diff.size, expected.size, i, actual.reshape(-1)[i], expected.reshape(-1)[i])
        return None
    a = actual.astype(np.float64).reshape(-1)
    e = expected.astype(np.float64).reshape(-1)
    both_nan = np.isnan(a) & np.isnan(e)
    same_inf = np.isinf(a) & np.isinf(e) & (np.sign(a) == np.sign(e))
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(a - e) <= atol + rtol * np.abs(e)
    ok = both_nan | same_inf | close
    if not ok.all():
        bad = np.flatnonzero(~ok)
        i = int(bad[0])
        return "%d of %d elements differ beyond rtol=%g atol=%g; element %d is %r, expected %r" % (
            bad.size, e.size, rtol, atol, i, float(a[i]), float(e[i]))
    return None

#!/usr/bin/env python3
"""Python REST client checks of berth's REST front end (Open Inference Protocol v2 over HTTP).

  rest_checks.py --url http://HOST:PORT --models DIR --out RESULT.json [--client requests|httpx|httpx-h2]

--client: the HTTP library the checks talk through: requests (tritonclient's and most scripts' kind of
client), httpx over HTTP/1.1 (the KServe Python SDK's REST client is httpx), or httpx over HTTP/2 with
prior knowledge (h2c, no upgrade; what httpx does with http2=True and http1=False on a plain URL).

--models: the test models (cases.json, model.onnx per folder). Exit code 0 when every check passed.
"""
import argparse
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)

import requests  # noqa: E402

import checklib  # noqa: E402
import tensors  # noqa: E402
from checklib import expect  # noqa: E402
from models import TestModels  # noqa: E402

TIMEOUT = 20


class HttpxSession:
    """The calls the suite makes, through one httpx client (one keep-alive HTTP/1.1 connection, or one
    HTTP/2 connection carrying every request as a stream). requests' data= is httpx's content=."""

    def __init__(self, http2):
        import httpx
        self.http2 = http2
        self.client = httpx.Client(http1=not http2, http2=http2)

    def get(self, url, timeout):
        return self.checked(self.client.get(url, timeout=timeout))

    def post(self, url, data, timeout, headers):
        return self.checked(self.client.post(url, content=data, timeout=timeout, headers=headers))

    def checked(self, response):
        want = "HTTP/2" if self.http2 else "HTTP/1.1"
        expect(response.http_version == want, "answered over %s, not %s" % (response.http_version, want))
        return response


def session(client):
    if client == "requests":
        return requests.Session()  # one keep-alive connection, as client libraries use
    return HttpxSession(http2=client == "httpx-h2")


class Suite:
    def __init__(self, url, models, client="requests"):
        self.url = url.rstrip("/")
        self.http = session(client)
        self.models = models

    def get(self, path):
        return self.http.get(self.url + path, timeout=TIMEOUT)

    def post_json(self, path, body):
        return self.http.post(self.url + path, data=json.dumps(body), timeout=TIMEOUT,
                              headers={"Content-Type": "application/json"})

    def json_ok(self, response):
        expect(response.status_code == 200, "HTTP %d: %s" % (response.status_code, response.text[:300]))
        return response.json()

    def run(self, report):
        r = report.check
        r("health.live", lambda: expect(self.json_ok(self.get("/v2/health/live")).get("live") is True, "live is not true"))
        r("health.ready", lambda: expect(self.json_ok(self.get("/v2/health/ready")).get("ready") is True, "ready is not true"))
        r("server-metadata", self.server_metadata)
        for m in self.models.names():
            r("model-ready[%s]" % m, self.model_ready, m)
            r("model-metadata[%s]" % m, self.model_metadata, m, "/v2/models/%s" % m)
            r("model-metadata.version-1[%s]" % m, self.model_metadata, m, "/v2/models/%s/versions/1" % m)
            r("model-config[%s]" % m, self.model_config, m)
        for m, i, case in self.models.cases():
            r("infer.json[%s#%d]" % (m, i), self.infer_json, m, i, case)
            r("infer.binary[%s#%d]" % (m, i), self.infer_binary, m, i, case)
        r("error.unknown-model[404]", self.error, "/v2/models/no-such-model/infer", self.body("fixed_batch"), 404)
        r("error.unknown-version[404]", self.error, "/v2/models/fixed_batch/versions/99/infer",
          self.body("fixed_batch"), 404)
        bad = self.body("fixed_batch")
        bad["inputs"][0]["shape"] = [2, 3]
        bad["inputs"][0]["data"] = bad["inputs"][0]["data"][:6]
        r("error.bad-shape[400]", self.error, "/v2/models/fixed_batch/infer", bad, 400)
        r("error.malformed-json[400]", self.error, "/v2/models/fixed_batch/infer", b'{"inputs": [', 400)
        r("error.unknown-model.metadata[404]", self.error_get, "/v2/models/no-such-model", 404)
        r("error.unknown-path[404]", self.error_get, "/v2/no/such/path", 404)
        r("infer.gzip-body-and-answer", self.infer_gzip)
        r("connection.survives-errors", lambda: expect(self.get("/v2/health/live").status_code == 200, "not live"))

    def server_metadata(self):
        md = self.json_ok(self.get("/v2"))
        expect(md.get("name") and md.get("version"), "name/version missing: %s" % md)
        expect(isinstance(md.get("extensions"), list), "extensions is not a list: %s" % md)
        return "%s %s %s" % (md["name"], md["version"], md["extensions"])

    def model_ready(self, m):
        body = self.json_ok(self.get("/v2/models/%s/ready" % m))
        expect(body.get("ready") is True, "body %s" % body)

    def model_metadata(self, m, path):
        md = self.json_ok(self.get(path))
        expect(md.get("name") == m, "name %r" % md.get("name"))
        expect("1" in md.get("versions", []), "versions %s" % md.get("versions"))
        self.models.expect_signature(m, [(t["name"], t["datatype"], t["shape"]) for t in md["inputs"]],
                                     [(t["name"], t["datatype"], t["shape"]) for t in md["outputs"]])
        return "platform %s" % md.get("platform")

    def model_config(self, m):
        # Triton's REST form of ModelConfig: the protobuf message in JSON with snake_case names
        cfg = self.json_ok(self.get("/v2/models/%s/config" % m))
        expect(cfg.get("name") == m, "name %r" % cfg.get("name"))
        batch = 1 if int(cfg.get("max_batch_size", 0)) > 0 else 0

        def spec(t):
            dt = t["data_type"][len("TYPE_"):]
            return t["name"], "BYTES" if dt == "STRING" else dt, [-1] * batch + [int(d) for d in t.get("dims", [])]

        self.models.expect_signature(m, [spec(t) for t in cfg.get("input", [])], [spec(t) for t in cfg.get("output", [])])
        return "max_batch_size %s, keys %s" % (cfg.get("max_batch_size", 0), sorted(cfg))

    def body(self, m, case=0):
        inputs = list(self.models.cases(m))[case][2][0]
        return {"inputs": [tensors.to_json_tensor(n, a) for n, a in inputs.items()]}

    def infer_json(self, m, i, case):
        inputs, outputs = case
        rid = "%s-%d" % (m, i)
        body = {"id": rid, "inputs": [tensors.to_json_tensor(n, a) for n, a in inputs.items()]}
        resp = self.json_ok(self.post_json("/v2/models/%s/infer" % m, body))
        expect(resp.get("id") == rid, "id %r" % resp.get("id"))
        expect(resp.get("model_name") == m, "model_name %r" % resp.get("model_name"))
        got = {o["name"]: o for o in resp["outputs"]}
        expect(set(got) == set(outputs), "outputs %s, expected %s" % (sorted(got), sorted(outputs)))
        for name, want in outputs.items():
            why = tensors.compare(want, tensors.from_json_tensor(got[name]), actual_datatype=got[name]["datatype"])
            expect(why is None, "output %s: %s" % (name, why))
        return "%d outputs match" % len(outputs)

    def infer_gzip(self):
        """A gzip request body (tritonclient's request_compression_algorithm) and a gzip answer (requests asks for one)."""
        import gzip
        import json
        raw = json.dumps(self.body("all_types")).encode()
        resp = self.http.post(self.url + "/v2/models/all_types/infer", data=gzip.compress(raw), timeout=TIMEOUT,
                              headers={"Content-Type": "application/json", "Content-Encoding": "gzip",
                                       "Accept-Encoding": "gzip"})
        expect(resp.status_code == 200, "HTTP %d: %s" % (resp.status_code, resp.text[:300]))
        expect(len(resp.json().get("outputs", [])) > 0, "no outputs: %s" % resp.text[:300])
        return "answer Content-Encoding %r, %d bytes decoded" % (resp.headers.get("Content-Encoding"), len(resp.content))

    def infer_binary(self, m, i, case):
        inputs, outputs = case
        body, header_length = tensors.binary_request(inputs)
        resp = self.http.post(self.url + "/v2/models/%s/infer" % m, data=body, timeout=TIMEOUT,
                              headers={"Inference-Header-Content-Length": str(header_length),
                                       "Content-Type": "application/octet-stream"})
        expect(resp.status_code == 200, "HTTP %d: %s" % (resp.status_code, resp.text[:300]))
        length = resp.headers.get("Inference-Header-Content-Length")
        expect(length is not None, "no Inference-Header-Content-Length in the answer")
        header, got = tensors.binary_response(resp.content, int(length))
        datatypes = {o["name"]: o["datatype"] for o in header["outputs"]}
        expect(set(got) == set(outputs), "outputs %s, expected %s" % (sorted(got), sorted(outputs)))
        for name, want in outputs.items():
            why = tensors.compare(want, got[name], actual_datatype=datatypes[name])
            expect(why is None, "output %s: %s" % (name, why))
        return "%d outputs match" % len(outputs)

    def check_error(self, resp, status):
        expect(resp.status_code == status, "HTTP %d, expected %d: %s" % (resp.status_code, status, resp.text[:300]))
        try:
            body = resp.json()
        except ValueError:
            raise checklib.CheckFailed("the %d answer is not JSON: %r" % (status, resp.text[:300]))
        expect(isinstance(body.get("error"), str) and body["error"], "no \"error\" text in %s" % body)
        return "%d: %s" % (status, body["error"])

    def error(self, path, body, status):
        data = body if isinstance(body, bytes) else json.dumps(body)
        return self.check_error(self.http.post(self.url + path, data=data, timeout=TIMEOUT,
                                               headers={"Content-Type": "application/json"}), status)

    def error_get(self, path, status):
        return self.check_error(self.get(path), status)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--client", choices=["requests", "httpx", "httpx-h2"], default="requests")
    args = ap.parse_args()
    suite = Suite(args.url, TestModels(args.models), args.client)
    checklib.run(checklib.Report("python-%s-rest" % args.client), args.out, suite.run)


if __name__ == "__main__":
    main()

"""berth over TLS with an inference token, as Python users call it: requests and grpcio.

  secure_checks.py --url https://HOST:PORT --target HOST:PORT --ca CA.pem --token TOKEN
                   --stubs DIR --out RESULT.json

The server is started with --tls-cert/--tls-key and --inference-token-file; its one model is the
churn sample (input 'features', FP32 [N, 8]).
"""
import argparse
import os
import sys

import grpc
import requests

import checklib
from checklib import expect

ROW = [43.0, 66.39, 2809.13, 1.0, 1.0, 1.0, 0.0, 1.0]
BODY = {"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 8], "data": ROW}]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--stubs", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    sys.path.insert(0, os.path.join(args.stubs, "common"))
    sys.path.insert(0, os.path.join(args.stubs, "kserve"))
    import open_inference_grpc_pb2 as pb
    import open_inference_grpc_pb2_grpc as pb_grpc

    auth = {"Authorization": "Bearer " + args.token}
    infer_url = args.url + "/v2/models/churn/infer"

    def rest_ready_without_token():
        r = requests.get(args.url + "/v2/health/ready", verify=args.ca, timeout=20)
        expect(r.status_code == 200, "ready: %d %s" % (r.status_code, r.text))

    def rest_infer_needs_token():
        r = requests.post(infer_url, json=BODY, verify=args.ca, timeout=20)
        expect(r.status_code == 401, "without a token: %d %s" % (r.status_code, r.text))
        expect(r.headers.get("WWW-Authenticate", "").lower().startswith("bearer"), "WWW-Authenticate: %s" % r.headers)
        expect("error" in r.json(), "a JSON error: %s" % r.text)

    def rest_infer_with_token():
        r = requests.post(infer_url, json=BODY, headers=auth, verify=args.ca, timeout=20)
        expect(r.status_code == 200, "with the token: %d %s" % (r.status_code, r.text))
        outputs = {o["name"]: o for o in r.json()["outputs"]}
        expect(outputs["probabilities"]["shape"] == [1, 2], "probabilities: %s" % outputs)

    def rest_untrusted_certificate_refused():
        try:
            requests.get(args.url + "/v2/health/ready", timeout=20)
        except requests.exceptions.SSLError:
            return "refused by the client's certificate check"
        raise checklib.CheckFailed("a client without the CA accepted the server's certificate")

    def rest_plain_http_to_the_tls_port_fails():
        try:
            r = requests.get(args.url.replace("https://", "http://") + "/v2/health/ready", timeout=20)
        except requests.exceptions.ConnectionError:
            return "no plain-HTTP answer"
        expect(r.status_code >= 400, "plain HTTP answered %d" % r.status_code)

    with open(args.ca, "rb") as f:
        credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
    channel = grpc.secure_channel(args.target, credentials)
    stub = pb_grpc.GRPCInferenceServiceStub(channel)
    request = pb.ModelInferRequest(model_name="churn", inputs=[pb.ModelInferRequest.InferInputTensor(
        name="features", datatype="FP32", shape=[1, 8], contents=pb.InferTensorContents(fp32_contents=ROW))])

    def grpc_live_without_token():
        expect(stub.ServerLive(pb.ServerLiveRequest(), timeout=20).live, "live")

    def grpc_infer_needs_token():
        try:
            stub.ModelInfer(request, timeout=20)
        except grpc.RpcError as e:
            expect(e.code() == grpc.StatusCode.UNAUTHENTICATED, checklib.rpc_error_text(e))
            return checklib.rpc_error_text(e)
        raise checklib.CheckFailed("ModelInfer without a token succeeded")

    def grpc_infer_with_token():
        reply = stub.ModelInfer(request, timeout=20, metadata=(("authorization", "Bearer " + args.token),))
        expect(reply.model_name == "churn", "model_name %r" % reply.model_name)
        expect([list(o.shape) for o in reply.outputs if o.name == "probabilities"] == [[1, 2]], str(reply.outputs))

    def body(report):
        report.check("rest_ready_without_token", rest_ready_without_token)
        report.check("rest_infer_needs_token", rest_infer_needs_token)
        report.check("rest_infer_with_token", rest_infer_with_token)
        report.check("rest_untrusted_certificate_refused", rest_untrusted_certificate_refused)
        report.check("rest_plain_http_to_the_tls_port_fails", rest_plain_http_to_the_tls_port_fails)
        report.check("grpc_live_without_token", grpc_live_without_token)
        report.check("grpc_infer_needs_token", grpc_infer_needs_token)
        report.check("grpc_infer_with_token", grpc_infer_with_token)
        channel.close()

    checklib.run(checklib.Report("python-secure"), args.out, body)


if __name__ == "__main__":
    main()

"""A Python grpcio client (gRPC's C core) against berth's gRPC port.

Usage: grpcio_client.py STUBS_DIR HOST:PORT MODEL

STUBS_DIR holds the modules grpc_tools.protoc generated from berth's .proto files and from
grpc-java's health.proto (copied to the top of STUBS_DIR). The checks are
the calls every Triton or KServe Python client starts with: ServerLive, ServerReady,
ModelMetadata, then ModelInfer with raw little-endian FP32 inputs shaped from the metadata
(dynamic axes as 1), once plain and once gzip-compressed, and the standard health check. Each
check prints one line "ok NAME detail"; the first failure prints "FAIL ..." and exits 1.
"""
import struct
import sys

import grpc


def main():
    stubs, target, model = sys.argv[1], sys.argv[2], sys.argv[3]
    sys.path.insert(0, stubs)
    import open_inference_grpc_pb2 as pb
    import open_inference_grpc_pb2_grpc as rpc

    with grpc.insecure_channel(target) as channel:
        stub = rpc.GRPCInferenceServiceStub(channel)
        live = stub.ServerLive(pb.ServerLiveRequest(), timeout=10)
        check(live.live, "ServerLive", "live=%s" % live.live)
        ready = stub.ServerReady(pb.ServerReadyRequest(), timeout=10)
        check(ready.ready, "ServerReady", "ready=%s" % ready.ready)

        meta = stub.ModelMetadata(pb.ModelMetadataRequest(name=model), timeout=10)
        check(meta.name == model and len(meta.inputs) > 0, "ModelMetadata",
              "inputs=%s" % [i.name for i in meta.inputs])

        request = pb.ModelInferRequest(model_name=model, id="py-1")
        for spec in meta.inputs:
            if spec.datatype != "FP32":
                fail("ModelInfer", "input %s is %s; this client sends FP32 only" % (spec.name, spec.datatype))
            shape = [d if d > 0 else 1 for d in spec.shape]
            count = 1
            for d in shape:
                count *= d
            request.inputs.add(name=spec.name, datatype="FP32", shape=shape)
            request.raw_input_contents.append(struct.pack("<%df" % count, *([0.5] * count)))

        for compression in (grpc.Compression.NoCompression, grpc.Compression.Gzip):
            answer = stub.ModelInfer(request, timeout=30, compression=compression)
            check(answer.model_name == model and answer.id == "py-1" and len(answer.outputs) > 0
                  and len(answer.raw_output_contents) == len(answer.outputs),
                  "ModelInfer[%s]" % compression.name,
                  "version=%s outputs=%s" % (answer.model_version,
                                              [(o.name, o.datatype, list(o.shape)) for o in answer.outputs]))

        try:
            stub.ModelMetadata(pb.ModelMetadataRequest(name="no-such-model"), timeout=10)
            fail("ModelMetadata[unknown]", "no error for an unknown model")
        except grpc.RpcError as e:
            check(e.code() == grpc.StatusCode.NOT_FOUND, "ModelMetadata[unknown]", "%s %s" % (e.code(), e.details()))

        # health.proto is generated at the top of STUBS_DIR (a grpc/health/v1 folder would shadow grpcio)
        import health_pb2
        import health_pb2_grpc
        health = health_pb2_grpc.HealthStub(channel)
        status = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
        check(status.status == health_pb2.HealthCheckResponse.SERVING, "Health.Check",
              health_pb2.HealthCheckResponse.ServingStatus.Name(status.status))


def check(condition, name, detail):
    if not condition:
        fail(name, detail)
    print("ok %s %s" % (name, detail), flush=True)


def fail(name, detail):
    print("FAIL %s %s" % (name, detail), flush=True)
    sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except grpc.RpcError as e:
        print("FAIL rpc %s %s" % (e.code(), e.details()), flush=True)
        sys.exit(1)

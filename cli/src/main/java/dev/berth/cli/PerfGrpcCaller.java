package dev.berth.cli;

import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.ModelInferRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** One gRPC channel (one HTTP/2 connection) calling {@code ModelInfer} with one prepared message, one call at a time. */
final class PerfGrpcCaller implements PerfMeasurement.Caller {
    private final ManagedChannel channel;
    private final GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;
    private final ModelInferRequest request;

    PerfGrpcCaller(String host, int port, ModelInferRequest request) {
        this.channel = ManagedChannelBuilder.forAddress(host, port).usePlaintext()
                .maxInboundMessageSize(Integer.MAX_VALUE).build();
        this.stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
        this.request = request;
    }

    @Override
    public void call() throws IOException {
        try {
            stub.withDeadlineAfter(30, TimeUnit.SECONDS).modelInfer(request);
        } catch (StatusRuntimeException e) {
            throw new IOException("gRPC " + e.getStatus().getCode()
                    + (e.getStatus().getDescription() == null ? "" : ": " + e.getStatus().getDescription()));
        }
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}

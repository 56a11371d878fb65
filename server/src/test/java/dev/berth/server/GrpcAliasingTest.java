package dev.berth.server;

import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.ServerLiveRequest;
import dev.berth.server.grpc.proto.ServerLiveResponse;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server reads ModelInfer through the aliasing marshaller: what it does with bytes that are not a request. */
class GrpcAliasingTest {
    private static BerthServer server;
    private static ManagedChannel channel;

    /** Sends and receives bytes as they are, so the test can put anything on the wire. */
    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    @BeforeAll
    static void start() {
        server = BerthServer.builder().inferenceService(new FakeCore()).port(0).build().start();
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.stop();
    }

    private static byte[] call(MethodDescriptor<?, ?> method, byte[] message) {
        MethodDescriptor<byte[], byte[]> raw = MethodDescriptor.<byte[], byte[]>newBuilder(BYTES, BYTES)
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(method.getFullMethodName())
                .build();
        return ClientCalls.blockingUnaryCall(channel, raw, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), message);
    }

    @Test
    void malformedInferRequestIsInvalidArgument() {
        // field 1 (model_name) claims a length far beyond the message
        byte[] truncated = {0x0a, (byte) 0xff, (byte) 0xff, 0x03, 'e', 'c'};
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> call(GRPCInferenceServiceGrpc.getModelInferMethod(), truncated));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(String.valueOf(e.getStatus().getDescription()).contains("ModelInferRequest"),
                e.getStatus().toString());
    }

    @Test
    void otherMethodsKeepTheGeneratedMarshaller() throws Exception {
        byte[] answer = call(GRPCInferenceServiceGrpc.getServerLiveMethod(), ServerLiveRequest.getDefaultInstance().toByteArray());
        assertTrue(ServerLiveResponse.parseFrom(answer).getLive());
    }
}

package dev.berth.server;

import com.google.protobuf.ByteString;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.ModelInferRequest;
import dev.berth.server.grpc.proto.ModelInferResponse;
import dev.berth.server.grpc.proto.ServerLiveRequest;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Message-level behaviour of the gRPC listener: the size limit (max-request-bytes) and gzip in both directions. */
class GrpcWireTest {
    private static final int LIMIT = 64 * 1024;
    private static final Metadata.Key<String> ENCODING = Metadata.Key.of("grpc-encoding", Metadata.ASCII_STRING_MARSHALLER);
    private static BerthServer server;
    private static ManagedChannel channel;
    /** The grpc-encoding of the last response's headers (null: uncompressed). */
    private static final AtomicReference<String> responseEncoding = new AtomicReference<>();

    @BeforeAll
    static void start() {
        server = BerthServer.builder().inferenceService(new FakeCore()).port(0).maxRequestBytes(LIMIT).build().start();
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext()
                .intercept(new ClientInterceptor() {
                    @Override
                    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
                        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                            @Override
                            public void start(Listener<R> listener, Metadata headers) {
                                super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                                    @Override
                                    public void onHeaders(Metadata h) {
                                        responseEncoding.set(h.get(ENCODING));
                                        super.onHeaders(h);
                                    }
                                }, headers);
                            }
                        };
                    }
                }).build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.stop();
    }

    private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub() {
        return GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    private static ModelInferRequest echo(byte[] raw) {
        return ModelInferRequest.newBuilder().setModelName("echo")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32").addShape(raw.length / 4))
                .addRawInputContents(ByteString.copyFrom(raw)).build();
    }

    private static byte[] pattern(int bytes) {
        byte[] b = new byte[bytes];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i % 7);
        }
        return b;
    }

    @Test
    void gzipRequestsAreReadAndAnsweredInGzip() {
        byte[] x = pattern(4000);
        responseEncoding.set("unset");
        ModelInferResponse plain = stub().modelInfer(echo(x));
        assertEquals(ByteString.copyFrom(x), plain.getRawOutputContents(0));
        assertTrue(responseEncoding.get() == null || responseEncoding.get().equals("identity"),
                "an uncompressed request gets an uncompressed answer: " + responseEncoding.get());

        ModelInferResponse zipped = stub().withCompression("gzip").modelInfer(echo(x));
        assertEquals(ByteString.copyFrom(x), zipped.getRawOutputContents(0), "the server inflated the request");
        assertEquals("gzip", responseEncoding.get(), "a gzip request gets a gzip answer");
    }

    @Test
    void messagesOverTheLimitAreResourceExhaustedAndTheConnectionStaysUsable() {
        for (int i = 0; i < 3; i++) {
            ModelInferRequest big = echo(new byte[200_000]);
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub().modelInfer(big));
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
            assertTrue(e.getStatus().getDescription().contains(Integer.toString(LIMIT)), "names the limit: " + e.getStatus());
            byte[] x = pattern(4000);
            assertEquals(ByteString.copyFrom(x), stub().modelInfer(echo(x)).getRawOutputContents(0), "answered right after");
        }
        // the limit is the message size: one byte over is refused, exactly the limit reaches berth
        // (whose decoder then finds the raw bytes do not fit the shape)
        ModelInferRequest.Builder edge = ModelInferRequest.newBuilder().setModelName("echo")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32").addShape(16_000));
        int overhead = edge.build().getSerializedSize() + 1 + 3; // field tag, 3-byte length
        ModelInferRequest justOver = edge.clone().addRawInputContents(ByteString.copyFrom(new byte[LIMIT - overhead + 1])).build();
        assertEquals(LIMIT + 1, justOver.getSerializedSize(), "test setup");
        assertEquals(Status.Code.RESOURCE_EXHAUSTED,
                assertThrows(StatusRuntimeException.class, () -> stub().modelInfer(justOver)).getStatus().getCode());
        ModelInferRequest atLimit = edge.clone().addRawInputContents(ByteString.copyFrom(new byte[LIMIT - overhead])).build();
        assertEquals(LIMIT, atLimit.getSerializedSize(), "test setup");
        StatusRuntimeException decoded = assertThrows(StatusRuntimeException.class, () -> stub().modelInfer(atLimit));
        assertEquals(Status.Code.INVALID_ARGUMENT, decoded.getStatus().getCode(), decoded.getStatus().toString());
    }

    @Test
    void theLimitAppliesToTheInflatedMessage() {
        // 1 MB of zeros deflates to about a kilobyte: small on the wire, far over the limit once inflated
        ModelInferRequest bomb = echo(new byte[1 << 20]);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub().withCompression("gzip").modelInfer(bomb));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().contains(Integer.toString(LIMIT)), e.getStatus().toString());
        assertTrue(stub().serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
    }
}

package dev.berth.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.ModelInferRequest;
import dev.berth.server.grpc.proto.ModelStreamInferResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Triton's ModelStreamInfer: one answer per request, in order; a failing request is answered and the stream goes on. */
class GrpcStreamInferTest {
    private static BerthServer server;
    private static ManagedChannel channel;

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

    private static ModelInferRequest echo(String id, float value) {
        byte[] raw = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value).array();
        return ModelInferRequest.newBuilder().setModelName("echo").setId(id)
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32").addShape(1))
                .addRawInputContents(ByteString.copyFrom(raw)).build();
    }

    private static float value(ModelStreamInferResponse r) {
        return r.getInferResponse().getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getFloat();
    }

    /** Collects what the server streams back. */
    private static final class Answers implements StreamObserver<ModelStreamInferResponse> {
        final BlockingQueue<ModelStreamInferResponse> responses = new LinkedBlockingQueue<>();
        final BlockingQueue<Status> end = new LinkedBlockingQueue<>();

        @Override
        public void onNext(ModelStreamInferResponse value) {
            responses.add(value);
        }

        @Override
        public void onError(Throwable t) {
            end.add(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            end.add(Status.OK);
        }

        ModelStreamInferResponse next() throws InterruptedException {
            ModelStreamInferResponse r = responses.poll(20, TimeUnit.SECONDS);
            assertNotNull(r, "an answer within 20 s");
            return r;
        }
    }

    @Test
    void failingRequestsMidStreamAreAnsweredAndTheStreamGoesOn() throws InterruptedException {
        Answers answers = new Answers();
        StreamObserver<ModelInferRequest> requests = GRPCInferenceServiceGrpc.newStub(channel).modelStreamInfer(answers);
        requests.onNext(echo("a", 1.5f));
        requests.onNext(echo("b", 2f).toBuilder().setModelName("nope").build());
        requests.onNext(echo("c", 3f).toBuilder().setModelVersion("1")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("y").setDatatype("FLOAT").addShape(1)).build());
        requests.onNext(echo("d", 4.5f));
        requests.onCompleted();

        ModelStreamInferResponse a = answers.next();
        assertEquals("", a.getErrorMessage());
        assertEquals("a", a.getInferResponse().getId());
        assertEquals("2", a.getInferResponse().getModelVersion());
        assertEquals(1.5f, value(a));

        ModelStreamInferResponse b = answers.next();
        assertTrue(b.getErrorMessage().contains("nope"), b.getErrorMessage());
        assertEquals("b", b.getInferResponse().getId(), "the error names the request it answers");
        assertEquals("nope", b.getInferResponse().getModelName());

        ModelStreamInferResponse c = answers.next();
        assertTrue(c.getErrorMessage().contains("raw_input_contents has 1 entries for 2 inputs"), c.getErrorMessage());
        assertEquals("c", c.getInferResponse().getId());
        assertEquals("1", c.getInferResponse().getModelVersion());

        ModelStreamInferResponse d = answers.next();
        assertEquals("", d.getErrorMessage());
        assertEquals(4.5f, value(d));
        assertEquals(Status.OK, answers.end.poll(20, TimeUnit.SECONDS), "the stream ends normally after the client's half-close");
    }

    @Test
    void aMessageThatIsNotProtobufIsAnsweredWithoutEndingTheStream() throws InterruptedException {
        MethodDescriptor.Marshaller<byte[]> bytes = new MethodDescriptor.Marshaller<>() {
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
        MethodDescriptor<byte[], byte[]> raw = MethodDescriptor.newBuilder(bytes, bytes)
                .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
                .setFullMethodName(GRPCInferenceServiceGrpc.getModelStreamInferMethod().getFullMethodName()).build();
        BlockingQueue<byte[]> got = new LinkedBlockingQueue<>();
        BlockingQueue<Status> end = new LinkedBlockingQueue<>();
        ClientCall<byte[], byte[]> call = channel.newCall(raw, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS));
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(byte[] message) {
                got.add(message);
                call.request(1);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                end.add(status);
            }
        }, new Metadata());
        call.request(1);
        // field 1 (model_name) claims a length far beyond the message
        call.sendMessage(new byte[] {0x0a, (byte) 0xff, (byte) 0xff, 0x03, 'e', 'c'});
        call.sendMessage(echo("after", 7f).toByteArray());
        call.halfClose();
        List<ModelStreamInferResponse> answers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            byte[] m = got.poll(20, TimeUnit.SECONDS);
            assertNotNull(m, "answer " + i);
            try {
                answers.add(ModelStreamInferResponse.parseFrom(m));
            } catch (InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            }
        }
        assertTrue(answers.get(0).getErrorMessage().contains("not valid protobuf"), answers.get(0).getErrorMessage());
        assertEquals(7f, value(answers.get(1)));
        assertEquals(Status.Code.OK, end.poll(20, TimeUnit.SECONDS).getCode());
    }
}

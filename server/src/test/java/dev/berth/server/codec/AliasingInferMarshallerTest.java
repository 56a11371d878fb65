package dev.berth.server.codec;

import com.google.protobuf.ByteString;
import dev.berth.runtime.Tensor;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.ModelInferRequest;
import dev.berth.server.grpc.proto.ModelInferResponse;
import io.grpc.BindableService;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.internal.ReadableBuffers;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AliasingInferMarshallerTest {
    private static final float[] VALUES = {1.5f, -2.25f, 3.125f, 42.0f};

    private static ModelInferRequest rawRequest() {
        ByteBuffer raw = ByteBuffer.allocate(VALUES.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : VALUES) {
            raw.putFloat(v);
        }
        return ModelInferRequest.newBuilder()
                .setModelName("m")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder()
                        .setName("x").setDatatype("FP32").addShape(1).addShape(VALUES.length))
                .addRawInputContents(ByteString.copyFrom(raw.array()))
                .build();
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void decodedTensorIsAViewOfTheReceivedBytes() {
        ModelInferRequest sent = rawRequest();
        byte[] received = sent.toByteArray();
        // an InputStream over the message whose available() is its length, as grpc-java's is
        ModelInferRequest parsed = AliasingInferMarshaller.create().parse(new ByteArrayInputStream(received));
        assertEquals(sent, parsed);

        byte[] wire = sent.toByteArray();
        Tensor x = OipProto.readInferRequest(AliasingInferMarshaller.parseAliased(wire)).request().inputs().get(0);
        assertEquals(VALUES[0], x.data().getFloat(0));
        assertEquals(VALUES[3], x.data().getFloat(12));

        int at = indexOf(wire, sent.getRawInputContents(0).toByteArray());
        assertTrue(at > 0, "the tensor's bytes are in the message");
        ByteBuffer.wrap(wire, at, 4).order(ByteOrder.LITTLE_ENDIAN).putFloat(99.0f);
        assertEquals(99.0f, x.data().getFloat(0), "the tensor reads the received array, not a copy of it");
        assertEquals(VALUES[1], x.data().getFloat(4));
    }

    @Test
    void grpcJavasMessageStreamIsReadWholeAndParsedInPlace() {
        ModelInferRequest sent = rawRequest();
        byte[] received = sent.toByteArray();
        // the stream grpc-java's deframer hands a request marshaller: a view of its buffers, recycled after the parse
        InputStream stream = ReadableBuffers.openStream(ReadableBuffers.wrap(received), true);
        ModelInferRequest parsed = AliasingInferMarshaller.create().parse(stream);
        assertEquals(sent, parsed);
        Tensor x = OipProto.readInferRequest(parsed).request().inputs().get(0);
        // the transport's bytes may be reused once the parse returns: the tensor must not read them
        java.util.Arrays.fill(received, (byte) 0);
        assertEquals(VALUES[2], x.data().getFloat(8));
    }

    @Test
    void generatedParserCopiesWhichIsWhatThisAvoids() throws Exception {
        byte[] wire = rawRequest().toByteArray();
        Tensor x = OipProto.readInferRequest(ModelInferRequest.parseFrom(wire)).request().inputs().get(0);
        int at = indexOf(wire, rawRequest().getRawInputContents(0).toByteArray());
        ByteBuffer.wrap(wire, at, 4).order(ByteOrder.LITTLE_ENDIAN).putFloat(99.0f);
        assertEquals(VALUES[0], x.data().getFloat(0));
    }

    @Test
    void streamWithoutALengthIsReadWhole() {
        ModelInferRequest sent = rawRequest();
        byte[] wire = sent.toByteArray();
        // available() under-reports: the marshaller must still read to the end
        var partial = new FilterInputStream(new ByteArrayInputStream(wire)) {
            @Override
            public int available() {
                return 7;
            }
        };
        assertEquals(sent, AliasingInferMarshaller.create().parse(partial));
        var unknown = new FilterInputStream(new ByteArrayInputStream(wire)) {
            @Override
            public int available() {
                return 0;
            }
        };
        assertEquals(sent, AliasingInferMarshaller.create().parse(unknown));
    }

    @Test
    void garbageIsInvalidArgument() {
        byte[] garbage = {(byte) 0x0a, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0x0f, 1, 2};
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> AliasingInferMarshaller.create().parse(new ByteArrayInputStream(garbage)));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    }

    @Test
    void onlyTheInferMethodsGetTheMarshaller() {
        BindableService service = new GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase() {
            @Override
            public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> out) {
            }
        };
        ServerServiceDefinition generated = service.bindService();
        ServerServiceDefinition replaced = AliasingInferMarshaller.aliasingInfer(service);
        assertEquals(generated.getMethods().size(), replaced.getMethods().size());
        assertSame(generated.getServiceDescriptor().getSchemaDescriptor(), replaced.getServiceDescriptor().getSchemaDescriptor());
        List<String> infer = List.of(GRPCInferenceServiceGrpc.getModelInferMethod().getFullMethodName(),
                GRPCInferenceServiceGrpc.getModelStreamInferMethod().getFullMethodName());
        for (ServerMethodDefinition<?, ?> m : replaced.getMethods()) {
            String name = m.getMethodDescriptor().getFullMethodName();
            ServerMethodDefinition<?, ?> before = generated.getMethod(name);
            if (infer.contains(name)) {
                assertInstanceOf(AliasingInferMarshaller.class, m.getMethodDescriptor().getRequestMarshaller());
                assertNotSame(before.getMethodDescriptor(), m.getMethodDescriptor());
                // on the server a malformed message is marked for the handler to answer, not thrown
                Object marked = m.getMethodDescriptor().parseRequest(new ByteArrayInputStream(new byte[] {0x0a, 0x7f}));
                Status problem = AliasingInferMarshaller.unreadable((ModelInferRequest) marked);
                assertEquals(Status.Code.INVALID_ARGUMENT, problem.getCode());
                assertTrue(problem.getDescription().contains("not valid protobuf"), problem.toString());
                Object good = m.getMethodDescriptor().parseRequest(new ByteArrayInputStream(rawRequest().toByteArray()));
                assertEquals(null, AliasingInferMarshaller.unreadable((ModelInferRequest) good));
                assertEquals(rawRequest(), good);
            } else {
                assertEquals(before.getServerCallHandler().getClass(), m.getServerCallHandler().getClass());
                assertSame(before.getMethodDescriptor(), m.getMethodDescriptor());
            }
        }
    }
}

package dev.berth.server;

import com.google.protobuf.ByteString;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.InferParameter;
import dev.berth.server.grpc.proto.InferTensorContents;
import dev.berth.server.grpc.proto.ModelInferRequest;
import dev.berth.server.grpc.proto.ModelInferResponse;
import dev.berth.server.grpc.proto.ModelMetadataRequest;
import dev.berth.server.grpc.proto.ModelMetadataResponse;
import dev.berth.server.grpc.proto.ModelReadyRequest;
import dev.berth.server.grpc.proto.RepositoryIndexRequest;
import dev.berth.server.grpc.proto.RepositoryIndexResponse;
import dev.berth.server.grpc.proto.RepositoryModelLoadRequest;
import dev.berth.server.grpc.proto.RepositoryModelUnloadRequest;
import dev.berth.server.grpc.proto.ServerLiveRequest;
import dev.berth.server.grpc.proto.ServerMetadataRequest;
import dev.berth.server.grpc.proto.ServerMetadataResponse;
import dev.berth.server.grpc.proto.ServerReadyRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every RPC of inference.GRPCInferenceService with grpc-java generated stubs on a real socket (the gRPC port). */
class GrpcApiTest {
    private static final String TOKEN = "grpc-token";
    private static FakeCore core;
    private static BerthServer server;
    private static ManagedChannel channel;
    private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

    @BeforeAll
    static void start() {
        core = new FakeCore();
        server = BerthServer.builder().inferenceService(core).port(0).repositoryToken(TOKEN).build().start();
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
        stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.stop();
    }

    private static void assertStatus(Status.Code code, String fragment, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(String.valueOf(e.getStatus().getDescription()).contains(fragment),
                "expected '" + fragment + "' in " + e.getStatus().getDescription());
    }

    @Test
    void grpcHasAPortOfItsOwn() {
        assertTrue(server.grpcPort() > 0 && server.grpcPort() != server.port(),
                "with the HTTP port 0 and no gRPC port given, gRPC takes a free port too: " + server.grpcPort());
        IllegalArgumentException same = assertThrows(IllegalArgumentException.class,
                () -> BerthServer.builder().inferenceService(new FakeCore()).port(18080).grpcPort(18080).build());
        assertTrue(same.getMessage().contains("gRPC needs a port of its own"), same.getMessage());
    }

    @Test
    void liveReadyAndMetadata() {
        assertTrue(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
        assertTrue(stub.serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
        core.ready.set(false);
        try {
            assertFalse(stub.serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
        } finally {
            core.ready.set(true);
        }
        ServerMetadataResponse meta = stub.serverMetadata(ServerMetadataRequest.getDefaultInstance());
        assertEquals("berth", meta.getName());
        assertTrue(meta.getExtensionsList().containsAll(List.of("binary_tensor_data", "model_repository")));
    }

    @Test
    void modelReadyAndMetadata() {
        assertTrue(stub.modelReady(ModelReadyRequest.newBuilder().setName("echo").build()).getReady());
        assertTrue(stub.modelReady(ModelReadyRequest.newBuilder().setName("echo").setVersion("production").build()).getReady());
        assertFalse(stub.modelReady(ModelReadyRequest.newBuilder().setName("loading").build()).getReady());
        assertStatus(Status.Code.NOT_FOUND, "nope", () -> stub.modelReady(ModelReadyRequest.newBuilder().setName("nope").build()));

        ModelMetadataResponse m = stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("echo").setVersion("1").build());
        assertEquals("echo", m.getName());
        assertEquals(List.of("1", "2"), m.getVersionsList());
        assertEquals("onnxruntime_onnx", m.getPlatform());
        assertEquals("x", m.getInputs(0).getName());
        assertEquals("FP32", m.getInputs(0).getDatatype());
        assertEquals(List.of(-1L, 3L), m.getInputs(0).getShapeList());
        assertStatus(Status.Code.NOT_FOUND, "9", () -> stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("echo").setVersion("9").build()));
    }

    private static ModelInferRequest.InferInputTensor.Builder input(String name, String datatype, long... shape) {
        ModelInferRequest.InferInputTensor.Builder b = ModelInferRequest.InferInputTensor.newBuilder().setName(name).setDatatype(datatype);
        for (long d : shape) {
            b.addShape(d);
        }
        return b;
    }

    @Test
    void typedRequestGetsTypedAnswer() {
        ModelInferRequest req = ModelInferRequest.newBuilder().setModelName("echo").setId("g-1")
                .putParameters("tag", InferParameter.newBuilder().setStringParam("t").build())
                .addInputs(input("x", "FP32", 1, 3).setContents(InferTensorContents.newBuilder()
                        .addFp32Contents(1.5f).addFp32Contents(-2f).addFp32Contents(3f)))
                .addInputs(input("u", "UINT32", 2).setContents(InferTensorContents.newBuilder()
                        .addUintContents(7).addUintContents(-1)))
                .addInputs(input("s", "BYTES", 1).setContents(InferTensorContents.newBuilder()
                        .addBytesContents(ByteString.copyFromUtf8("h\u00e9"))))
                .build();
        ModelInferResponse r = stub.modelInfer(req);
        assertEquals("echo", r.getModelName());
        assertEquals("2", r.getModelVersion());
        assertEquals("g-1", r.getId());
        assertEquals(0, r.getRawOutputContentsCount());
        assertEquals(List.of(1.5f, -2f, 3f), r.getOutputs(0).getContents().getFp32ContentsList());
        assertEquals(List.of(1L, 3L), r.getOutputs(0).getShapeList());
        assertEquals(0xFFFF_FFFFL, Integer.toUnsignedLong(r.getOutputs(1).getContents().getUintContents(1)));
        assertEquals("h\u00e9", r.getOutputs(2).getContents().getBytesContents(0).toStringUtf8());
        assertEquals("t", core.last.get().parameters().get("tag"));
    }

    @Test
    void everyTypedDatatypeAtItsLimits() {
        ModelInferRequest req = ModelInferRequest.newBuilder().setModelName("echo")
                .addInputs(input("b", "BOOL", 2).setContents(InferTensorContents.newBuilder().addBoolContents(true).addBoolContents(false)))
                .addInputs(input("i8", "INT8", 2).setContents(InferTensorContents.newBuilder().addIntContents(-128).addIntContents(127)))
                .addInputs(input("i16", "INT16", 2).setContents(InferTensorContents.newBuilder().addIntContents(-32768).addIntContents(32767)))
                .addInputs(input("i32", "INT32", 2).setContents(InferTensorContents.newBuilder().addIntContents(Integer.MIN_VALUE).addIntContents(Integer.MAX_VALUE)))
                .addInputs(input("i64", "INT64", 2).setContents(InferTensorContents.newBuilder().addInt64Contents(Long.MIN_VALUE).addInt64Contents(Long.MAX_VALUE)))
                .addInputs(input("u8", "UINT8", 2).setContents(InferTensorContents.newBuilder().addUintContents(0).addUintContents(255)))
                .addInputs(input("u16", "UINT16", 2).setContents(InferTensorContents.newBuilder().addUintContents(0).addUintContents(65535)))
                .addInputs(input("u32", "UINT32", 2).setContents(InferTensorContents.newBuilder().addUintContents(0).addUintContents(-1)))
                .addInputs(input("u64", "UINT64", 2).setContents(InferTensorContents.newBuilder().addUint64Contents(0).addUint64Contents(-1L)))
                .addInputs(input("f32", "FP32", 2).setContents(InferTensorContents.newBuilder().addFp32Contents(Float.MIN_VALUE).addFp32Contents(-Float.MAX_VALUE)))
                .addInputs(input("f64", "FP64", 2).setContents(InferTensorContents.newBuilder().addFp64Contents(Double.MIN_VALUE).addFp64Contents(Double.NaN)))
                .addInputs(input("s", "BYTES", 2).setContents(InferTensorContents.newBuilder()
                        .addBytesContents(ByteString.copyFromUtf8("\u65e5\u672c")).addBytesContents(ByteString.EMPTY)))
                .build();
        ModelInferResponse r = stub.modelInfer(req);
        assertEquals(0, r.getRawOutputContentsCount());
        for (int i = 0; i < req.getInputsCount(); i++) {
            assertEquals(req.getInputs(i).getName(), r.getOutputs(i).getName());
            assertEquals(req.getInputs(i).getDatatype(), r.getOutputs(i).getDatatype());
            assertEquals(req.getInputs(i).getContents(), r.getOutputs(i).getContents(), req.getInputs(i).getName());
        }
        // the same tensors travel raw too, in the layout Triton's clients use
        ByteBuffer u64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0).putLong(-1L);
        ModelInferResponse raw = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("echo")
                .addInputs(input("u64", "UINT64", 2)).addRawInputContents(ByteString.copyFrom(u64.array())).build());
        assertEquals(ByteString.copyFrom(u64.array()), raw.getRawOutputContents(0));
    }

    @Test
    void rawRequestGetsRawAnswer() {
        ByteBuffer x = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).putFloat(3);
        ByteBuffer s = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN).putInt(5).put("hello".getBytes(StandardCharsets.UTF_8));
        ModelInferRequest req = ModelInferRequest.newBuilder().setModelName("echo").setModelVersion("1")
                .addInputs(input("x", "FP32", 3)).addInputs(input("s", "BYTES", 1))
                .addRawInputContents(ByteString.copyFrom(x.array())).addRawInputContents(ByteString.copyFrom(s.array()))
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("s"))
                .build();
        ModelInferResponse r = stub.modelInfer(req);
        assertEquals("1", r.getModelVersion());
        assertEquals(1, r.getOutputsCount());
        assertEquals("s", r.getOutputs(0).getName());
        assertFalse(r.getOutputs(0).hasContents());
        assertEquals(ByteString.copyFrom(s.array()), r.getRawOutputContents(0));
    }

    @Test
    void halfPrecisionAlwaysGoesRaw() {
        ByteBuffer h = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN)
                .putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-2f));
        ModelInferResponse r = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("echo")
                .addInputs(input("h", "FP16", 2)).addRawInputContents(ByteString.copyFrom(h.array())).build());
        assertEquals(ByteString.copyFrom(h.array()), r.getRawOutputContents(0));
        assertStatus(Status.Code.INVALID_ARGUMENT, "raw_input_contents", () -> stub.modelInfer(ModelInferRequest.newBuilder()
                .setModelName("echo").addInputs(input("h", "FP16", 2).setContents(InferTensorContents.getDefaultInstance())).build()));
    }

    @Test
    void inferErrorsMapToStatusCodes() {
        ModelInferRequest.InferInputTensor.Builder good = input("x", "FP32", 1).setContents(InferTensorContents.newBuilder().addFp32Contents(1));
        assertStatus(Status.Code.NOT_FOUND, "nope", () -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("nope").addInputs(good).build()));
        assertStatus(Status.Code.NOT_FOUND, "7", () -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("echo").setModelVersion("7").addInputs(good).build()));
        assertStatus(Status.Code.UNAVAILABLE, "not ready", () -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("loading").addInputs(good).build()));
        assertStatus(Status.Code.INTERNAL, "internal server error", () -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("boom").addInputs(good).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "unknown datatype", () -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("echo")
                .addInputs(input("x", "FLOAT", 1).setContents(InferTensorContents.newBuilder().addFp32Contents(1))).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "2 fp32_contents", () -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("echo")
                .addInputs(input("x", "FP32", 3).setContents(InferTensorContents.newBuilder().addFp32Contents(1).addFp32Contents(2))).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "out of range", () -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("echo")
                .addInputs(input("x", "INT8", 1).setContents(InferTensorContents.newBuilder().addIntContents(200))).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "shape", () -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("echo")
                .addInputs(input("x", "FP32", 1L << 40, 1L << 40)).addRawInputContents(ByteString.copyFrom(new byte[4])).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "needs 8 bytes", () -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("echo")
                .addInputs(input("x", "FP32", 2)).addRawInputContents(ByteString.copyFrom(new byte[4])).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "one per input", () -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("echo")
                .addInputs(input("x", "FP32", 1)).addInputs(input("y", "FP32", 1)).addRawInputContents(ByteString.copyFrom(new byte[4])).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "one form", () -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("echo")
                .addInputs(good).addRawInputContents(ByteString.copyFrom(new byte[4])).build()));
    }

    @Test
    void repositoryRpcsNeedTheToken() {
        assertStatus(Status.Code.UNAUTHENTICATED, "Bearer", () -> stub.repositoryIndex(RepositoryIndexRequest.getDefaultInstance()));
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TOKEN);
        var authed = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        RepositoryIndexResponse all = authed.repositoryIndex(RepositoryIndexRequest.getDefaultInstance());
        assertEquals(3, all.getModelsCount());
        assertEquals("LOADING", all.getModels(2).getState());
        assertEquals("warming up", all.getModels(2).getReason());
        assertEquals(2, authed.repositoryIndex(RepositoryIndexRequest.newBuilder().setReady(true).build()).getModelsCount());
        authed.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("echo").build());
        authed.repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName("echo").build());
        assertTrue(core.repositoryCalls.containsAll(List.of("load echo", "unload echo")));
        assertStatus(Status.Code.NOT_FOUND, "nope", () -> authed.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName("nope").build()));
    }

    @Test
    void largeTensorsRoundTrip() throws InterruptedException {
        ManagedChannel big = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext()
                .maxInboundMessageSize(64 << 20).build();
        try {
            for (int elements : new int[]{3 * 224 * 224, 4 << 20}) {
                ByteBuffer x = ByteBuffer.allocate(elements * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < elements; i++) {
                    x.putFloat(i * 0.5f);
                }
                ModelInferResponse r = GRPCInferenceServiceGrpc.newBlockingStub(big).withDeadlineAfter(60, TimeUnit.SECONDS)
                        .modelInfer(ModelInferRequest.newBuilder().setModelName("echo")
                                .addInputs(input("x", "FP32", 1, elements)).addRawInputContents(ByteString.copyFrom(x.array())).build());
                assertEquals(ByteString.copyFrom(x.array()), r.getRawOutputContents(0), elements + " elements");
            }
        } finally {
            big.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}

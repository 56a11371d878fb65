package dev.berth.server;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.ServiceDescriptorProto;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What grpc-java's server brings beside the inference service, through grpc-java clients on a real
 * socket: UNIMPLEMENTED with a message for what is not served, grpc.health.v1 (server and per
 * model, Check and Watch), and server reflection in both versions.
 */
class GrpcStandardServicesTest {
    private static FakeCore core;
    private static BerthServer server;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() {
        core = new FakeCore();
        server = BerthServer.builder().inferenceService(core).port(0).build().start();
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.stop();
    }

    /** Calls any method name with an empty message. */
    private static StatusRuntimeException callUnknown(String fullMethodName) {
        MethodDescriptor.Marshaller<byte[]> bytes = new MethodDescriptor.Marshaller<>() {
            @Override
            public InputStream stream(byte[] value) {
                return new ByteArrayInputStream(value);
            }

            @Override
            public byte[] parse(InputStream stream) {
                return new byte[0];
            }
        };
        MethodDescriptor<byte[], byte[]> m = MethodDescriptor.newBuilder(bytes, bytes)
                .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName(fullMethodName).build();
        return assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(channel, m,
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[0]));
    }

    @Test
    void unknownMethodsAndServicesAreUnimplementedWithAMessage() {
        StatusRuntimeException method = callUnknown("inference.GRPCInferenceService/CudaSharedMemoryStatus");
        assertEquals(Status.Code.UNIMPLEMENTED, method.getStatus().getCode());
        assertTrue(method.getStatus().getDescription().contains("'inference.GRPCInferenceService/CudaSharedMemoryStatus' is not part of"),
                method.getStatus().getDescription());
        StatusRuntimeException service = callUnknown("tensorflow.serving.PredictionService/Predict");
        assertEquals(Status.Code.UNIMPLEMENTED, service.getStatus().getCode());
        String text = service.getStatus().getDescription();
        assertTrue(text.contains("unknown service 'tensorflow.serving.PredictionService'")
                && text.contains("inference.GRPCInferenceService") && text.contains("grpc.health.v1.Health"), text);
    }

    private static ServingStatus check(String service) {
        return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
    }

    @Test
    void healthCheckFollowsServerAndModelReadiness() {
        assertEquals(ServingStatus.SERVING, check(""));
        assertEquals(ServingStatus.SERVING, check(GRPCInferenceServiceGrpc.SERVICE_NAME));
        assertEquals(ServingStatus.SERVING, check("echo"));
        assertEquals(ServingStatus.SERVING, check("echo/1"));
        assertEquals(ServingStatus.SERVING, check("echo/production"));
        assertEquals(ServingStatus.NOT_SERVING, check("loading"));
        StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class, () -> check("nope"));
        assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());
        assertTrue(unknown.getStatus().getDescription().contains("'nope'"), unknown.getStatus().getDescription());
        assertEquals(Status.Code.NOT_FOUND, assertThrows(StatusRuntimeException.class, () -> check("echo/7")).getStatus().getCode());
        core.ready.set(false);
        try {
            assertEquals(ServingStatus.NOT_SERVING, check(""));
            assertEquals(ServingStatus.NOT_SERVING, check(GRPCInferenceServiceGrpc.SERVICE_NAME));
        } finally {
            core.ready.set(true);
        }
    }

    /** Collects a watch's messages. */
    private static final class Watcher implements StreamObserver<HealthCheckResponse> {
        final BlockingQueue<Object> events = new LinkedBlockingQueue<>();

        @Override
        public void onNext(HealthCheckResponse value) {
            events.add(value.getStatus());
        }

        @Override
        public void onError(Throwable t) {
            events.add(Status.fromThrowable(t).getCode());
        }

        @Override
        public void onCompleted() {
            events.add("completed");
        }

        Object next() throws InterruptedException {
            Object e = events.poll(10, TimeUnit.SECONDS);
            assertNotNull(e, "a health update within 10 s");
            return e;
        }
    }

    @Test
    void watchSendsTheStatusAndEachChange() throws InterruptedException {
        Watcher server = new Watcher();
        Watcher unknown = new Watcher();
        var async = HealthGrpc.newStub(channel);
        async.watch(HealthCheckRequest.newBuilder().setService("").build(), server);
        async.watch(HealthCheckRequest.newBuilder().setService("nope").build(), unknown);
        assertEquals(ServingStatus.SERVING, server.next());
        // an unknown service is not an error for Watch: the stream stays open and says so
        assertEquals(ServingStatus.SERVICE_UNKNOWN, unknown.next());
        core.ready.set(false);
        try {
            assertEquals(ServingStatus.NOT_SERVING, server.next());
        } finally {
            core.ready.set(true);
        }
        assertEquals(ServingStatus.SERVING, server.next());
        Thread.sleep(3 * GrpcHealth.WATCH_PERIOD_MILLIS);
        assertTrue(server.events.isEmpty() && unknown.events.isEmpty(), "only changes are sent: " + server.events + unknown.events);
    }

    private static List<ServerReflectionResponse> reflect(ServerReflectionRequest... requests) throws InterruptedException {
        BlockingQueue<ServerReflectionResponse> answers = new LinkedBlockingQueue<>();
        StreamObserver<ServerReflectionRequest> out = ServerReflectionGrpc.newStub(channel).serverReflectionInfo(new StreamObserver<>() {
            @Override
            public void onNext(ServerReflectionResponse value) {
                answers.add(value);
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
            }
        });
        List<ServerReflectionResponse> got = new ArrayList<>();
        for (ServerReflectionRequest r : requests) {
            out.onNext(r);
            ServerReflectionResponse answer = answers.poll(10, TimeUnit.SECONDS);
            assertNotNull(answer, "reflection answered " + r);
            got.add(answer);
        }
        out.onCompleted();
        return got;
    }

    @Test
    void reflectionListsTheServicesAndDescribesTheInferenceService() throws Exception {
        List<ServerReflectionResponse> answers = reflect(
                ServerReflectionRequest.newBuilder().setListServices("").build(),
                ServerReflectionRequest.newBuilder().setFileContainingSymbol("inference.GRPCInferenceService").build());
        Set<String> services = new TreeSet<>();
        answers.get(0).getListServicesResponse().getServiceList().forEach(s -> services.add(s.getName()));
        assertEquals(Set.of("inference.GRPCInferenceService", "grpc.health.v1.Health",
                "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"), services);

        // the file defining the service, and the files it imports, so a client needs no .proto of its own
        Set<String> methods = new TreeSet<>();
        Set<String> files = new TreeSet<>();
        for (var bytes : answers.get(1).getFileDescriptorResponse().getFileDescriptorProtoList()) {
            FileDescriptorProto file = FileDescriptorProto.parseFrom(bytes);
            files.add(file.getName());
            for (ServiceDescriptorProto s : file.getServiceList()) {
                s.getMethodList().forEach(m -> methods.add(s.getName() + "/" + m.getName()));
            }
        }
        assertTrue(files.containsAll(Set.of("open_inference_grpc.proto", "triton/model_config.proto")), files.toString());
        assertTrue(methods.containsAll(Set.of("GRPCInferenceService/ModelInfer", "GRPCInferenceService/ModelStreamInfer",
                "GRPCInferenceService/ModelConfig", "GRPCInferenceService/ModelStatistics")), methods.toString());
    }

    @Test
    void reflectionV1alphaAnswersToo() throws InterruptedException {
        BlockingQueue<io.grpc.reflection.v1alpha.ServerReflectionResponse> answers = new LinkedBlockingQueue<>();
        var out = io.grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(channel).serverReflectionInfo(new StreamObserver<>() {
            @Override
            public void onNext(io.grpc.reflection.v1alpha.ServerReflectionResponse value) {
                answers.add(value);
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
            }
        });
        out.onNext(io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder().setListServices("").build());
        var answer = answers.poll(10, TimeUnit.SECONDS);
        out.onCompleted();
        assertNotNull(answer);
        assertTrue(answer.getListServicesResponse().getServiceList().stream()
                .anyMatch(s -> s.getName().equals("inference.GRPCInferenceService")), answer.toString());
    }
}

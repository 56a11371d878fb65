package dev.berth.server;

import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.InferTensorContents;
import dev.berth.server.grpc.proto.ModelInferRequest;
import dev.berth.server.grpc.proto.ModelInferResponse;
import dev.berth.server.grpc.proto.ServerReadyRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Stop refuses new work, lets the request in flight finish, then stops listening and closes the core: REST and gRPC. */
class GracefulShutdownTest {
    // own threads: the common pool may have a single worker on a small machine
    private static final java.util.concurrent.Executor THREADS = r -> Thread.ofPlatform().daemon().start(r);

    @Test
    void inFlightRequestFinishesWhileNewOnesAreRefused() throws Exception {
        FakeCore core = new FakeCore();
        BerthServer server = BerthServer.builder().inferenceService(core).port(0).build().start();
        int port = server.port();
        String body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}";
        CompletableFuture<Response> inFlight = CompletableFuture.supplyAsync(() -> RestAssured.given().baseUri("http://127.0.0.1")
                .port(port).contentType("application/json").body(body).post("/v2/models/gate/infer"), THREADS);
        assertTrue(core.gateEntered.await(20, TimeUnit.SECONDS), "request reached the core");

        CompletableFuture<Void> stopping = CompletableFuture.runAsync(server::stop, THREADS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Response ready;
        do {
            ready = RestAssured.given().baseUri("http://127.0.0.1").port(port).get("/v2/health/ready");
        } while (ready.statusCode() == 200 && System.nanoTime() < deadline);
        assertEquals(503, ready.statusCode(), "not ready while draining");
        Response refused = RestAssured.given().baseUri("http://127.0.0.1").port(port).contentType("application/json")
                .body(body).post("/v2/models/echo/infer");
        assertEquals(503, refused.statusCode());
        assertTrue(refused.asString().contains("shutting down"), refused.asString());
        assertFalse(stopping.isDone(), "stop waits for the request in flight");
        assertFalse(core.closed.get(), "the core stays open while a request runs");

        core.gateRelease.countDown();
        assertEquals(200, inFlight.get(20, TimeUnit.SECONDS).statusCode(), "the request in flight completed");
        stopping.get(20, TimeUnit.SECONDS);
        assertTrue(core.closed.get());
        assertFalse(server.isRunning());
    }

    @Test
    void grpcDrainsTheSameWayAndHealthTurnsNotServing() throws Exception {
        FakeCore core = new FakeCore();
        BerthServer server = BerthServer.builder().inferenceService(core).port(0).build().start();
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
        try {
            var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            BlockingQueue<Object> watch = new LinkedBlockingQueue<>();
            HealthGrpc.newStub(channel).watch(HealthCheckRequest.newBuilder().setService("").build(), new StreamObserver<>() {
                @Override
                public void onNext(HealthCheckResponse value) {
                    watch.add(value.getStatus());
                }

                @Override
                public void onError(Throwable t) {
                    watch.add(Status.fromThrowable(t).getCode());
                }

                @Override
                public void onCompleted() {
                    watch.add("completed");
                }
            });
            assertEquals(ServingStatus.SERVING, watch.poll(10, TimeUnit.SECONDS));

            CompletableFuture<ModelInferResponse> inFlight = CompletableFuture.supplyAsync(() -> stub.modelInfer(request("gate")), THREADS);
            assertTrue(core.gateEntered.await(20, TimeUnit.SECONDS), "request reached the core");
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(server::stop, THREADS);

            // pushed when draining begins, well before the watch's next poll would find it
            assertEquals(ServingStatus.NOT_SERVING, watch.poll(GrpcHealth.WATCH_PERIOD_MILLIS * 20, TimeUnit.MILLISECONDS));
            assertEquals(ServingStatus.NOT_SERVING, health.check(HealthCheckRequest.newBuilder().setService("").build()).getStatus());
            assertEquals(ServingStatus.NOT_SERVING, health.check(HealthCheckRequest.newBuilder().setService("echo").build()).getStatus());
            assertFalse(stub.serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
            StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(request("echo")));
            assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
            assertTrue(refused.getStatus().getDescription().contains("shutting down"), refused.getStatus().toString());
            assertFalse(stopping.isDone(), "stop waits for the request in flight");
            assertFalse(core.closed.get(), "the core stays open while a request runs");

            core.gateRelease.countDown();
            assertEquals("gate", inFlight.get(20, TimeUnit.SECONDS).getModelName(), "the request in flight was answered");
            stopping.get(30, TimeUnit.SECONDS);
            assertEquals(Status.Code.UNAVAILABLE, watch.poll(10, TimeUnit.SECONDS), "the watch ends once the server stops");
            assertTrue(core.closed.get());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.stop();
        }
    }

    private static ModelInferRequest request(String model) {
        return ModelInferRequest.newBuilder().setModelName(model)
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32").addShape(1)
                        .setContents(InferTensorContents.newBuilder().addFp32Contents(1))).build();
    }
}

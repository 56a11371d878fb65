package dev.berth.server;

import dev.berth.server.spi.RequestMetrics;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.InferTensorContents;
import dev.berth.server.grpc.proto.ModelInferRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.helidon.webserver.http.HttpService;
import io.restassured.RestAssured;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What monitoring plugs in: request metrics from both front ends, extra HTTP services, extension names. */
class ExtensionPointsTest {
    record Finished(RequestMetrics.Protocol protocol, String model, String version, RequestMetrics.Outcome outcome,
                    long nanos, long requestBytes, long responseBytes) {
    }

    static final class Recording implements RequestMetrics {
        final List<Protocol> started = new CopyOnWriteArrayList<>();
        final List<Finished> finished = new CopyOnWriteArrayList<>();

        @Override
        public void requestStarted(Protocol protocol) {
            started.add(protocol);
        }

        @Override
        public void requestFinished(Protocol protocol, String model, String version, Outcome outcome, long durationNanos,
                                    long requestBytes, long responseBytes) {
            finished.add(new Finished(protocol, model, version, outcome, durationNanos, requestBytes, responseBytes));
        }
    }

    @Test
    void metricsServicesAndExtensions() throws Exception {
        Recording metrics = new Recording();
        HttpService stats = rules -> rules
                .get("/metrics", (req, res) -> res.send("# metrics here"))
                .get("/v2/models/{model}/stats", (req, res) -> res.send("{\"model_stats\":[]}"));
        try (BerthServer server = BerthServer.builder().inferenceService(new FakeCore()).port(0)
                .requestMetrics(metrics).addService(stats).addExtension("statistics").build().start()) {
            var http = RestAssured.given().baseUri("http://127.0.0.1").port(server.port());
            RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).get("/metrics").then().statusCode(200)
                    .body(equalTo("# metrics here"));
            RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).get("/v2/models/echo/stats").then().statusCode(200);
            http.get("/v2").then().body("extensions", hasItem("statistics"));

            String body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}";
            RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).body(body).post("/v2/models/echo/versions/1/infer")
                    .then().statusCode(200);
            RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).body("{bad").post("/v2/models/echo/infer")
                    .then().statusCode(400);
            RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).body(body).post("/v2/models/boom/infer")
                    .then().statusCode(500);

            ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
            try {
                var stub = GRPCInferenceServiceGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);
                ModelInferRequest.InferInputTensor in = ModelInferRequest.InferInputTensor.newBuilder().setName("x")
                        .setDatatype("FP32").addShape(1).setContents(InferTensorContents.newBuilder().addFp32Contents(1)).build();
                stub.modelInfer(ModelInferRequest.newBuilder().setModelName("echo").addInputs(in).build());
                assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("nope").addInputs(in).build()));
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }

            assertEquals(List.of(RequestMetrics.Protocol.REST, RequestMetrics.Protocol.REST, RequestMetrics.Protocol.REST,
                    RequestMetrics.Protocol.GRPC, RequestMetrics.Protocol.GRPC), metrics.started);
            List<Finished> f = metrics.finished;
            assertEquals(5, f.size(), f.toString());
            assertEquals(new Finished(RequestMetrics.Protocol.REST, "echo", "1", RequestMetrics.Outcome.SUCCESS, f.get(0).nanos(),
                    body.length(), f.get(0).responseBytes()), f.get(0));
            assertTrue(f.get(0).nanos() > 0 && f.get(0).responseBytes() > 0, f.get(0).toString());
            assertEquals(RequestMetrics.Outcome.CLIENT_ERROR, f.get(1).outcome());
            assertEquals("", f.get(1).version(), "no version answered");
            assertEquals(RequestMetrics.Outcome.SERVER_ERROR, f.get(2).outcome());
            assertEquals(new Finished(RequestMetrics.Protocol.GRPC, "echo", "2", RequestMetrics.Outcome.SUCCESS, f.get(3).nanos(),
                    f.get(3).requestBytes(), f.get(3).responseBytes()), f.get(3));
            assertTrue(f.get(3).requestBytes() > 0 && f.get(3).responseBytes() > 0);
            assertEquals(RequestMetrics.Outcome.CLIENT_ERROR, f.get(4).outcome());
            assertEquals("nope", f.get(4).model());
        }
    }
}

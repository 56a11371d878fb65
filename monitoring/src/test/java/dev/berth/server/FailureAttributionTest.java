package dev.berth.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.monitoring.BerthMetrics;
import dev.berth.monitoring.Exposition;
import dev.berth.registry.LocalRegistry;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.ModelInferRequest;
import dev.berth.server.grpc.proto.ModelStatistics;
import dev.berth.server.grpc.proto.ModelStatisticsRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.restassured.RestAssured;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests that fail after the core chose a version are counted for that version, over REST and
 * gRPC, in {@code berth_requests_total} and in Triton's {@code fail} statistics; requests no version
 * answered (unknown model or version, a body that cannot be decoded) stay under version "".
 * Real churn:1 and churn:2 on the ONNX Runtime core (production = 1, staging = 2).
 */
class FailureAttributionTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Three values: churn takes 8 per row, so every version refuses this after resolving the request. */
    private static final String WRONG_SHAPE =
            "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,2,3]}]}";

    @TempDir
    Path models;

    /** Copies both churn versions and model.json (its aliases), without stored reports. */
    private void copyChurnVersions() throws IOException {
        Path source = Churn.CHURN;
        Path target = models.resolve("churn");
        try (var files = Files.walk(source)) {
            for (Path p : files.toList()) {
                Path to = target.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else if (!p.toString().contains("/monitoring/")) {
                    Files.copy(p, to);
                }
            }
        }
    }

    private static ModelInferRequest grpc(String version, float[] values) {
        return Churn.grpcRequest(values).toBuilder().setModelVersion(version).build();
    }

    private static ModelInferRequest grpcWrongShape(String version) {
        // 8 values declared as [2,4]: decodes fine, the version's signature wants [-1,8]
        return grpc(version, new float[]{1, 2, 3, 4, 5, 6, 7, 8}).toBuilder()
                .setInputs(0, ModelInferRequest.InferInputTensor.newBuilder().setName("features").setDatatype("FP32")
                        .addShape(2).addShape(4)).build();
    }

    @Test
    void failuresAfterResolutionCountForTheirVersion() throws Exception {
        copyChurnVersions();
        BerthMetrics metrics = BerthMetrics.builder().registry(LocalRegistry.open(models))
                .reportInterval(Duration.ofHours(1)).build();
        BerthServer server = BerthServer.builder().models(models).port(0).monitoring(metrics).build().start();
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
        try {
            Churn.awaitReady(server, "churn");
            assertTrue(server.inferenceService().modelReady("churn", "2"), "churn:2 loads with churn:1");
            String good = Churn.inferBody(Churn.EXAMPLE);

            // REST, version 1: 3 good, 2 wrong shapes by number, 1 wrong shape by default (production = 1)
            rest(server, "/v2/models/churn/versions/1/infer", good, 200, 3);
            rest(server, "/v2/models/churn/versions/1/infer", WRONG_SHAPE, 400, 2);
            rest(server, "/v2/models/churn/infer", WRONG_SHAPE, 400, 1);
            // REST, version 2: 1 good, 4 wrong shapes by number, 1 through the staging alias
            rest(server, "/v2/models/churn/versions/2/infer", good, 200, 1);
            rest(server, "/v2/models/churn/versions/2/infer", WRONG_SHAPE, 400, 4);
            rest(server, "/v2/models/churn/versions/staging/infer", WRONG_SHAPE, 400, 1);
            // REST, no version answered: an unknown version, an unknown model, a body that is not JSON
            rest(server, "/v2/models/churn/versions/7/infer", good, 404, 1);
            rest(server, "/v2/models/no-such-model/infer", good, 404, 1);
            rest(server, "/v2/models/churn/versions/1/infer", "{\"inputs\": [", 400, 1);

            var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
            // gRPC, version 1: 2 good, 1 wrong shape; version 2: 1 good, 3 wrong shapes; version 9 unknown
            for (int i = 0; i < 2; i++) {
                stub.modelInfer(grpc("1", Churn.EXAMPLE));
            }
            stub.modelInfer(grpc("2", Churn.EXAMPLE));
            grpcFails(stub, grpcWrongShape("1"), Status.Code.INVALID_ARGUMENT, 1);
            grpcFails(stub, grpcWrongShape("2"), Status.Code.INVALID_ARGUMENT, 3);
            grpcFails(stub, grpc("9", Churn.EXAMPLE), Status.Code.NOT_FOUND, 1);

            Exposition e = Exposition.parse(RestAssured.given().baseUri("http://127.0.0.1").port(server.port())
                    .get("/metrics").asString());
            assertRequests(e, "churn", "1", "rest", 3, 3, 0);
            assertRequests(e, "churn", "1", "grpc", 2, 1, 0);
            assertRequests(e, "churn", "2", "rest", 1, 5, 0);
            assertRequests(e, "churn", "2", "grpc", 1, 3, 0);
            // what no version answered keeps version "": unknown version and undecodable body under the
            // model's name (it has loaded versions), the unknown model under _unknown
            assertRequests(e, "churn", "", "rest", 0, 2, 0);
            assertRequests(e, "churn", "", "grpc", 0, 1, 0);
            assertEquals(1, e.value("berth_requests_total", "model", BerthMetrics.UNKNOWN_MODEL, "version", "",
                    "protocol", "rest", "outcome", "client_error"));
            assertEquals(0, e.sum("berth_requests_total", "model", "no-such-model"), "no series for an invented name");
            // a version's client errors are timed under that version and outcome
            assertEquals(5, e.value("berth_request_duration_seconds_count", "model", "churn", "version", "2",
                    "protocol", "rest", "outcome", "client_error"));
            // the core served only the good requests: failures add no queue or compute time
            assertEquals(5, e.value("berth_compute_duration_seconds_count", "model", "churn", "version", "1"));
            assertEquals(2, e.value("berth_compute_duration_seconds_count", "model", "churn", "version", "2"));

            // Triton statistics: success and fail per version, the same over REST and gRPC
            long[][] expected = {{5, 4}, {2, 8}};
            for (int v = 1; v <= 2; v++) {
                String version = Integer.toString(v);
                JsonNode rest = JSON.readTree(RestAssured.given().baseUri("http://127.0.0.1").port(server.port())
                        .get("/v2/models/churn/versions/" + version + "/stats").asByteArray()).path("model_stats").get(0);
                assertEquals(version, rest.path("version").asText());
                assertEquals(expected[v - 1][0], rest.path("inference_stats").path("success").path("count").asLong(), "success v" + v);
                assertEquals(expected[v - 1][1], rest.path("inference_stats").path("fail").path("count").asLong(), "fail v" + v);
                assertTrue(rest.path("inference_stats").path("fail").path("ns").asLong() > 0, "fail durations v" + v);

                ModelStatistics grpcStats = stub.modelStatistics(ModelStatisticsRequest.newBuilder().setName("churn")
                        .setVersion(version).build()).getModelStats(0);
                assertEquals(expected[v - 1][0], grpcStats.getInferenceStats().getSuccess().getCount(), "gRPC success v" + v);
                assertEquals(expected[v - 1][1], grpcStats.getInferenceStats().getFail().getCount(), "gRPC fail v" + v);
                assertEquals(rest.path("inference_stats").path("fail").path("ns").asLong(),
                        grpcStats.getInferenceStats().getFail().getNs(), "the same figure over both protocols, v" + v);
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.stop();
            metrics.close();
        }
    }

    private static void rest(BerthServer server, String path, String body, int status, int times) {
        for (int i = 0; i < times; i++) {
            RequestSpecification http = RestAssured.given().baseUri("http://127.0.0.1").port(server.port())
                    .contentType("application/json").body(body);
            var response = http.post(path);
            assertEquals(status, response.statusCode(), path + ": " + response.asString());
            if (status != 200) {
                assertTrue(response.asString().contains("\"error\""), response.asString());
            }
        }
    }

    private static void grpcFails(GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub, ModelInferRequest request,
                                  Status.Code code, int times) {
        for (int i = 0; i < times; i++) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(request));
            assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        }
    }

    private static void assertRequests(Exposition e, String model, String version, String protocol,
                                       long success, long clientError, long serverError) {
        String where = model + ":" + version + " " + protocol + " ";
        assertEquals(success, e.value("berth_requests_total", "model", model, "version", version, "protocol", protocol,
                "outcome", "success"), where + "success");
        assertEquals(clientError, e.value("berth_requests_total", "model", model, "version", version, "protocol", protocol,
                "outcome", "client_error"), where + "client_error");
        assertEquals(serverError, e.value("berth_requests_total", "model", model, "version", version, "protocol", protocol,
                "outcome", "server_error"), where + "server_error");
    }
}

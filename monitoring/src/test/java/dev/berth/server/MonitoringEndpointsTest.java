package dev.berth.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import dev.berth.monitoring.BerthMetrics;
import dev.berth.monitoring.Exposition;
import dev.berth.monitoring.MonitoringReport;
import dev.berth.registry.LocalRegistry;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.ModelInferRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.berth.server.Churn.CHURN;
import static dev.berth.server.Churn.EXAMPLE;
import static dev.berth.server.Churn.awaitReady;
import static dev.berth.server.Churn.copyChurn;
import static dev.berth.server.Churn.grpcRequest;
import static dev.berth.server.Churn.inferBody;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * /metrics, Triton statistics and reports through a real server and the real ONNX Runtime core,
 * serving a copy of the churn sample registered in models/.
 */
class MonitoringEndpointsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path models;

    @Test
    void metricsStatisticsAndReportsFromRealTraffic() throws Exception {
        copyChurn(models);
        LocalRegistry registry = LocalRegistry.open(models);
        BerthMetrics metrics = BerthMetrics.builder().registry(registry).reportInterval(Duration.ofHours(1)).build();
        BerthServer server = BerthServer.builder().models(models).port(0).monitoring(metrics).build().start();
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
        try {
            awaitReady(server, "churn");
            RequestSpecification http = RestAssured.given().baseUri("http://127.0.0.1").port(server.port());
            for (int i = 0; i < 5; i++) {
                RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).contentType("application/json")
                        .body(inferBody(EXAMPLE)).post("/v2/models/churn/infer").then().statusCode(200);
            }
            String wrongShape = "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,2,3]}]}";
            for (int i = 0; i < 2; i++) {
                RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).contentType("application/json")
                        .body(wrongShape).post("/v2/models/churn/infer").then().statusCode(400);
            }
            RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).contentType("application/json")
                    .body(inferBody(EXAMPLE)).post("/v2/models/no-such-model/infer").then().statusCode(404);
            var grpc = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            for (int i = 0; i < 3; i++) {
                assertEquals(1, grpc.modelInfer(grpcRequest(EXAMPLE)).getOutputsCount() > 0 ? 1 : 0);
            }

            Response scrape = http.get("/metrics");
            assertEquals(200, scrape.statusCode());
            assertEquals(BerthMetrics.PROMETHEUS_TEXT, scrape.contentType());
            // HEAD like GET, as everywhere on the port (uncompressed, so both lengths are the identity body's)
            Response head = http.header("Accept-Encoding", "identity").head("/metrics");
            assertEquals(200, head.statusCode());
            assertEquals(BerthMetrics.PROMETHEUS_TEXT, head.contentType());
            assertTrue(Long.parseLong(head.header("Content-Length")) > 1000, head.headers().toString());
            assertEquals("", head.asString());
            Response stats404 = http.get("/v2/models/no-such-model/stats");
            assertEquals(404, stats404.statusCode());
            assertEquals("no statistics for model 'no-such-model': it is not loaded", stats404.jsonPath().getString("error"));
            Exposition e = Exposition.parse(scrape.asString());
            assertEquals(5, e.value("berth_requests_total", "model", "churn", "version", "1", "protocol", "rest", "outcome", "success"));
            assertEquals(3, e.value("berth_requests_total", "model", "churn", "version", "1", "protocol", "grpc", "outcome", "success"));
            // version 1 refused the wrong shapes after the core resolved them to it
            assertEquals(2, e.value("berth_requests_total", "model", "churn", "version", "1", "protocol", "rest", "outcome", "client_error"));
            assertEquals(2, e.sum("berth_requests_total", "model", "churn", "protocol", "rest", "outcome", "client_error"));
            assertEquals(1, e.value("berth_requests_total", "model", "_unknown", "protocol", "rest", "outcome", "client_error"));
            assertEquals(10, e.sum("berth_request_duration_seconds_count", "model", "churn"), "one duration per request");
            assertEquals(8, e.value("berth_queue_duration_seconds_count", "model", "churn", "version", "1"));
            assertEquals(8, e.value("berth_compute_duration_seconds_count", "model", "churn", "version", "1"));
            assertEquals(16, e.value("berth_inferences_total", "model", "churn", "version", "1"));
            assertEquals(16, e.value("berth_batch_size_rows_sum", "model", "churn", "version", "1"), 1e-9);
            assertEquals(1, e.value("berth_model_ready", "model", "churn", "version", "1"));
            assertEquals(1, e.value("berth_model_load_duration_seconds_count", "model", "churn", "version", "1"));
            assertEquals(5 * inferBody(EXAMPLE).getBytes(StandardCharsets.UTF_8).length + 2 * wrongShape.length(),
                    e.value("berth_request_payload_bytes_sum", "model", "churn", "version", "1", "protocol", "rest"), 1e-9);
            assertEquals(3, e.value("berth_request_payload_bytes_count", "model", "churn", "version", "1", "protocol", "grpc"));
            assertTrue(e.value("berth_request_payload_bytes_sum", "model", "churn", "version", "1", "protocol", "grpc") >= 3 * 64,
                    "gRPC payloads hold at least the 64 raw bytes per request");
            assertEquals(0, e.value("berth_requests_in_flight", "protocol", "rest"));
            assertTrue(e.value("jvm_memory_used_bytes", "area", "heap", "id", "G1 Eden Space") >= 0);

            Response om = http.header("Accept", "application/openmetrics-text; version=1.0.0").get("/metrics");
            assertEquals(BerthMetrics.OPENMETRICS, om.contentType());
            assertTrue(om.asString().endsWith("# EOF\n"));
            assertEquals(405, RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).post("/metrics").statusCode());

            JsonNode all = JSON.readTree(RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).get("/v2/models/stats").asByteArray());
            assertEquals(1, all.path("model_stats").size(), all.toString());
            JsonNode churn = all.path("model_stats").get(0);
            assertEquals("churn", churn.path("name").asText());
            assertEquals("1", churn.path("version").asText());
            assertEquals(8, churn.path("inference_stats").path("success").path("count").asLong());
            assertTrue(churn.path("inference_stats").path("success").path("ns").asLong() > 0);
            assertEquals(8, churn.path("inference_stats").path("compute_infer").path("count").asLong());
            assertEquals(16, churn.path("inference_count").asLong());
            assertTrue(churn.path("last_inference").asLong() > 0);
            JsonNode one = JSON.readTree(RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).get("/v2/models/churn/versions/1/stats").asByteArray());
            assertEquals(churn.path("inference_stats").path("queue"), one.path("model_stats").get(0).path("inference_stats").path("queue"));
            assertEquals(1, JSON.readTree(RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).get("/v2/models/churn/stats").asByteArray())
                    .path("model_stats").size());
            Response missing = RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).get("/v2/models/nothing/stats");
            assertEquals(404, missing.statusCode());
            assertTrue(JSON.readTree(missing.asByteArray()).path("error").asText().contains("nothing"));
            assertEquals(404, RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).get("/v2/models/churn/versions/7/stats").statusCode());
            JsonNode serverMetadata = JSON.readTree(RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).get("/v2").asByteArray());
            assertTrue(serverMetadata.path("extensions").toString().contains("\"statistics\""), serverMetadata.toString());
        } finally {
            channel.shutdownNow();
            server.stop();
            metrics.close();
        }

        List<MonitoringReport> reports = new ArrayList<>();
        for (Path p : registry.monitoringReports("churn", 1)) {
            reports.add(MonitoringReport.read(p));
        }
        assertEquals(1, reports.size(), "one report, written at shutdown");
        MonitoringReport r = reports.get(0);
        assertEquals(8, r.requests().success());
        assertEquals(2, r.requests().clientError());
        assertEquals(8, r.requests().inferences());
        assertEquals(16, r.requests().rows());
        assertEquals(10, r.latency().endToEnd().count(), "end to end covers every request version 1 answered");
        assertEquals(8, r.latency().compute().count());
        MonitoringReport.InputStats features = r.inputs().get(0);
        assertEquals(8, features.columns().size());
        assertEquals("tenure_months", features.columns().get(0).name());
        assertEquals(16, features.columns().get(0).summary().count());
        assertEquals((43.0 + 24.0) / 2, features.columns().get(0).summary().mean(), 1e-6);
        assertEquals("data/processed_customer_data.csv", r.drift().trainingData());
        assertEquals(3000, r.drift().trainingRows());
    }
}

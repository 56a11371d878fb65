package dev.berth.server;

import dev.berth.monitoring.BerthMetrics;
import dev.berth.monitoring.MonitoringFiles;
import dev.berth.monitoring.PrometheusServer;
import dev.berth.registry.LocalRegistry;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.restassured.RestAssured;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Debian's Prometheus scrapes a running berth server (real ONNX core, churn sample plus a version that
 * fails to load) while REST and gRPC traffic flows, with inputs moved away from the training data;
 * then every PromQL expression of the Grafana dashboard and of the rule file must be valid and
 * return series (alerts: what they measure must return series), and the alerts whose condition the
 * traffic creates (model not ready, input drift) must be pending or firing.
 */
class ServerPrometheusIT {
    @TempDir
    Path models;

    @Test
    void dashboardAndRulesWorkAgainstARealServer() throws Exception {
        Churn.copyChurn(models);
        Files.createDirectories(models.resolve("broken/1"));
        Files.writeString(models.resolve("broken/1/model.onnx"), "this is not an ONNX model");
        // customers with far longer tenure and higher charges than any the model was trained on
        // 20 rows a request: PSI needs 100 rows per column in a window (MonitoringReport.MIN_PSI_ROWS), also on a slow machine
        float[] drifted = new float[20 * 8];
        for (int row = 0; row < 20; row++) {
            System.arraycopy(Churn.EXAMPLE, (row % 2) * 8, drifted, row * 8, 8);
            drifted[row * 8] += 60;
            drifted[row * 8 + 1] *= 3;
            drifted[row * 8 + 2] *= 6;
        }
        BerthMetrics metrics = BerthMetrics.builder().registry(LocalRegistry.open(models)).reportInterval(Duration.ofSeconds(1)).build();
        BerthServer server = BerthServer.builder().models(models).port(0).monitoring(metrics).build().start();
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
        ScheduledExecutorService load = Executors.newSingleThreadScheduledExecutor();
        try {
            Churn.awaitReady(server, "churn");
            var grpc = GRPCInferenceServiceGrpc.newBlockingStub(channel);
            String body = Churn.inferBody(drifted);
            Runnable traffic = () -> {
                try {
                    for (int i = 0; i < 4; i++) {
                        RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).contentType("application/json")
                                .body(body).post("/v2/models/churn/infer").then().statusCode(200);
                    }
                    RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).contentType("application/json")
                            .body("{\"inputs\":[]}").post("/v2/models/churn/infer").then().statusCode(400);
                    grpc.withDeadlineAfter(10, TimeUnit.SECONDS).modelInfer(Churn.grpcRequest(drifted));
                } catch (RuntimeException | AssertionError e) {
                    System.err.println("traffic: " + e);
                }
            };
            traffic.run();
            System.gc();
            load.scheduleAtFixedRate(traffic, 0, 100, TimeUnit.MILLISECONDS);

            try (PrometheusServer prometheus = PrometheusServer.start("127.0.0.1:" + server.port(), List.of(MonitoringFiles.rules()))) {
                prometheus.await("up{job=\"berth\"}", r -> r.size() == 1 && r.get(0).path("value").get(1).asText().equals("1"), Duration.ofSeconds(60));
                prometheus.await("count_over_time(up{job=\"berth\"}[1m]) >= 5", r -> r.size() == 1, Duration.ofSeconds(60));
                prometheus.await("berth_input_drift_psi", r -> r.size() > 0, Duration.ofSeconds(30));
                prometheus.await("berth_model_ready == 0", r -> r.size() == 1, Duration.ofSeconds(30));
                Thread.sleep(2500);

                List<MonitoringFiles.Expression> expressions =
                        MonitoringFiles.allExpressions(Map.of("job", "berth", "model", "churn", "version", "1"));
                List<String> failures = MonitoringFiles.failures(prometheus, expressions, false);
                assertEquals(List.of(), failures, "dashboard and rule expressions that failed against a real berth");
                assertTrue(expressions.size() > 30, "expressions checked: " + expressions.size());

                Set<String> active = prometheus.activeAlerts();
                assertTrue(active.containsAll(Set.of("BerthModelNotReady", "BerthInputDrift")), "active alerts: " + active);
                assertTrue(!active.contains("BerthDown"), "berth is up");
            }
        } finally {
            load.shutdownNow();
            load.awaitTermination(10, TimeUnit.SECONDS);
            channel.shutdownNow();
            server.stop();
            metrics.close();
        }
    }
}

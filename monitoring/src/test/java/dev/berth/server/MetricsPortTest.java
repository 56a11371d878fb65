package dev.berth.server;

import dev.berth.monitoring.BerthMetrics;
import dev.berth.registry.LocalRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static dev.berth.server.Churn.EXAMPLE;
import static dev.berth.server.Churn.awaitReady;
import static dev.berth.server.Churn.copyChurn;
import static dev.berth.server.Churn.inferBody;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code metrics-port}: /metrics on a listener of its own, open, while inference on the REST port needs its token. */
class MetricsPortTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @TempDir
    Path models;

    @Test
    void metricsOnTheirOwnPortWithoutTheInferenceToken() throws Exception {
        copyChurn(models);
        BerthMetrics metrics = BerthMetrics.builder().registry(LocalRegistry.open(models)).reportInterval(Duration.ofHours(1)).build();
        BerthServer server = BerthServer.builder().models(models).port(0).metricsPort(0).inferenceTokens(List.of("secret"))
                .monitoring(metrics).build().start();
        try {
            awaitReady(server, "churn");
            assertTrue(server.metricsPort() > 0);
            assertNotEquals(server.port(), server.metricsPort());
            String rest = "http://127.0.0.1:" + server.port();
            HttpResponse<String> infer = HTTP.send(HttpRequest.newBuilder(URI.create(rest + "/v2/models/churn/infer"))
                    .header("Authorization", "Bearer secret").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(inferBody(EXAMPLE))).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, infer.statusCode(), infer.body());

            HttpResponse<String> scrape = get("http://127.0.0.1:" + server.metricsPort() + "/metrics");
            assertEquals(200, scrape.statusCode(), scrape.body());
            assertTrue(scrape.body().contains("berth_requests_total{") && scrape.body().contains("model=\"churn\""), scrape.body());
            assertEquals(404, get("http://127.0.0.1:" + server.metricsPort() + "/v2/models/churn").statusCode(),
                    "the metrics port serves metrics only");

            HttpResponse<String> elsewhere = HTTP.send(HttpRequest.newBuilder(URI.create(rest + "/metrics"))
                    .header("Authorization", "Bearer secret").build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, elsewhere.statusCode(), elsewhere.body());
            assertTrue(elsewhere.body().contains("--metrics-port"), elsewhere.body());
        } finally {
            server.stop();
            // the unloaded version's last report is written by the monitoring; closing waits for it, so it
            // cannot race the removal of the temporary folder
            metrics.close();
        }
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }
}

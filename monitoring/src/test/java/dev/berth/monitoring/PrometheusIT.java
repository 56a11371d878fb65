package dev.berth.monitoring;

import dev.berth.server.spi.RequestMetrics;
import dev.berth.server.spi.Scrape;
import com.sun.net.httpserver.HttpServer;
import dev.berth.registry.LocalRegistry;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static dev.berth.server.spi.RequestMetrics.Outcome.CLIENT_ERROR;
import static dev.berth.server.spi.RequestMetrics.Outcome.SERVER_ERROR;
import static dev.berth.server.spi.RequestMetrics.Outcome.SUCCESS;
import static dev.berth.server.spi.RequestMetrics.Protocol.GRPC;
import static dev.berth.server.spi.RequestMetrics.Protocol.REST;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real Prometheus scrapes BerthMetrics' exposition over HTTP while traffic flows that should trip
 * every alert (server errors, slow requests, a version that failed to load, drifted inputs); then every
 * PromQL expression of the dashboard and the rules must be valid and return series, and the alerts
 * must be pending or firing. The server module runs the same checks against a real berth server.
 */
class PrometheusIT {
    @TempDir
    Path dir;

    @Test
    void everyDashboardAndRuleExpressionReturnsSeries() throws Exception {
        LocalRegistry registry = Fixtures.churnRegistry(dir);
        List<float[]> shifted = new ArrayList<>();
        for (float[] row : Fixtures.churnRows()) {
            float[] s = row.clone();
            s[0] += 40;
            s[1] *= 2;
            shifted.add(s);
        }
        Tensor drifted = Fixtures.features(shifted.subList(0, 64));
        try (BerthMetrics metrics = BerthMetrics.builder().registry(registry).build()) {
            metrics.modelLoaded("churn", 1, 40_000_000, null);
            metrics.modelLoaded("broken", 1, 3_000_000, new IllegalStateException("not an ONNX file"));
            metrics.registryReloaded();
            Runnable traffic = () -> {
                for (int i = 0; i < 10; i++) {
                    RequestMetrics.Protocol protocol = i % 3 == 0 ? GRPC : REST;
                    metrics.requestStarted(protocol);
                    metrics.requestCompleted("churn", 1, List.of(drifted), new InferenceResponse("churn", 1, null, List.of(), 50_000, 300_000, 64), null);
                    metrics.batchExecuted("churn", 1, 64, 1, 300_000);
                    // one in ten successes takes 2 s (latency objective), one request in ten fails on the server (error ratio)
                    RequestMetrics.Outcome outcome = i == 9 ? SERVER_ERROR : i == 8 ? CLIENT_ERROR : SUCCESS;
                    long nanos = i == 0 ? 2_000_000_000L : 1_500_000L;
                    metrics.requestFinished(protocol, "churn", "1", outcome, nanos, 2100, 900);
                }
            };
            traffic.run();
            metrics.writeReports();
            System.gc();

            HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            http.createContext("/metrics", exchange -> {
                Scrape scrape = metrics.scrape(exchange.getRequestHeaders().getFirst("Accept"));
                exchange.getResponseHeaders().set("Content-Type", scrape.contentType());
                exchange.sendResponseHeaders(200, scrape.body().length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(scrape.body());
                }
            });
            http.start();
            ScheduledExecutorService load = Executors.newSingleThreadScheduledExecutor();
            load.scheduleAtFixedRate(traffic, 0, 50, TimeUnit.MILLISECONDS);
            String target = "127.0.0.1:" + http.getAddress().getPort();
            try (PrometheusServer prometheus = PrometheusServer.start(target, List.of(MonitoringFiles.rules()))) {
                prometheus.await("up{job=\"berth\"}", r -> r.size() == 1 && r.get(0).path("value").get(1).asText().equals("1"), Duration.ofSeconds(60));
                // enough scrapes for rate() over 1m windows and for the rules to have been evaluated
                prometheus.await("count_over_time(up{job=\"berth\"}[1m]) >= 5", r -> r.size() == 1, Duration.ofSeconds(60));
                metrics.writeReports();
                prometheus.await("berth_input_drift_psi", r -> r.size() > 0, Duration.ofSeconds(30));
                Thread.sleep(2500);

                List<MonitoringFiles.Expression> expressions =
                        MonitoringFiles.allExpressions(Map.of("job", "berth", "model", "churn", "version", "1"));
                // the traffic trips every alert, so a quiet one fails too (but BerthDown: berth is up)
                List<String> failures = new ArrayList<>(MonitoringFiles.failures(prometheus, expressions, true));
                failures.removeIf(f -> f.startsWith("alert BerthDown: measured but not firing"));
                assertEquals(List.of(), failures, "expressions that failed");
                assertTrue(expressions.size() > 30, "expressions checked: " + expressions.size());

                assertEquals(Set.of("BerthHighErrorRatio", "BerthLatencyObjective", "BerthModelNotReady", "BerthInputDrift"),
                        prometheus.activeAlerts());
            } finally {
                load.shutdownNow();
                http.stop(0);
            }
        }
    }
}

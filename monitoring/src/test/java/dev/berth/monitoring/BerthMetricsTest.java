package dev.berth.monitoring;

import dev.berth.server.codec.TritonStatistics;
import dev.berth.server.spi.RequestMetrics;
import dev.berth.server.spi.Scrape;
import dev.berth.server.spi.TritonStats;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static dev.berth.server.spi.RequestMetrics.Outcome.CLIENT_ERROR;
import static dev.berth.server.spi.RequestMetrics.Outcome.SERVER_ERROR;
import static dev.berth.server.spi.RequestMetrics.Outcome.SUCCESS;
import static dev.berth.server.spi.RequestMetrics.Protocol.GRPC;
import static dev.berth.server.spi.RequestMetrics.Protocol.REST;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BerthMetricsTest {
    private BerthMetrics metrics;

    @BeforeEach
    void setUp() {
        metrics = BerthMetrics.builder().build();
    }

    @AfterEach
    void tearDown() {
        metrics.close();
    }

    /** 7 REST successes, 2 REST client errors, 1 REST server error, 3 gRPC successes; 10 core completions in 3 batches. */
    private void knownTraffic() {
        metrics.modelLoaded("churn", 1, 5_000_000, null);
        metrics.modelLoaded("broken", 1, 1_000_000, new IllegalStateException("bad model file"));
        for (int i = 0; i < 7; i++) {
            finish(REST, SUCCESS, 1_000_000L * (i + 1), 300, 120);
        }
        finish(REST, CLIENT_ERROR, 50_000, 10, 40);
        finish(REST, CLIENT_ERROR, 60_000, 10, 40);
        finish(REST, SERVER_ERROR, 2_000_000_000L, 300, 40);
        for (int i = 0; i < 3; i++) {
            finish(GRPC, SUCCESS, 200_000, 100, 50);
        }
        Tensor input = Fixtures.features(Fixtures.churnRows().subList(0, 1));
        for (int i = 0; i < 10; i++) {
            metrics.requestCompleted("churn", 1, List.of(input),
                    new InferenceResponse("churn", 1, null, List.of(), 100_000, 400_000, 4), null);
        }
        metrics.batchExecuted("churn", 1, 4, 4, 400_000);
        metrics.batchExecuted("churn", 1, 4, 4, 400_000);
        metrics.batchExecuted("churn", 1, 2, 2, 300_000);
        metrics.registryReloaded();
    }

    private void finish(RequestMetrics.Protocol protocol, RequestMetrics.Outcome outcome, long nanos, long in, long out) {
        metrics.requestStarted(protocol);
        metrics.requestFinished(protocol, "churn", "1", outcome, nanos, in, out);
    }

    @Test
    void requestMetersHaveNamesTypesLabelsAndExactCounts() {
        knownTraffic();
        Exposition e = Exposition.parse(metrics.scrape(null).text());

        assertEquals("counter", e.types.get("berth_requests_total"));
        assertEquals(7, e.value("berth_requests_total", "model", "churn", "version", "1", "protocol", "rest", "outcome", "success"));
        assertEquals(2, e.value("berth_requests_total", "model", "churn", "version", "1", "protocol", "rest", "outcome", "client_error"));
        assertEquals(1, e.value("berth_requests_total", "model", "churn", "version", "1", "protocol", "rest", "outcome", "server_error"));
        assertEquals(3, e.value("berth_requests_total", "model", "churn", "version", "1", "protocol", "grpc", "outcome", "success"));
        assertEquals(0, e.value("berth_requests_total", "model", "churn", "version", "1", "protocol", "grpc", "outcome", "server_error"),
                "zero-valued series exist so that error ratios are 0, not absent");
        Set<String> labelNames = e.find("berth_requests_total").stream().map(s -> s.labels().keySet()).flatMap(Set::stream).collect(Collectors.toSet());
        assertEquals(Set.of("model", "version", "protocol", "outcome"), labelNames);

        assertEquals("histogram", e.types.get("berth_request_duration_seconds"));
        assertEquals(7, e.value("berth_request_duration_seconds_count", "model", "churn", "protocol", "rest", "outcome", "success"));
        assertEquals(0.028, e.value("berth_request_duration_seconds_sum", "model", "churn", "protocol", "rest", "outcome", "success"), 1e-9);
        assertEquals(13, e.sum("berth_request_duration_seconds_count", "model", "churn"), "one observation per request");
        assertEquals(13, e.sum("berth_request_duration_seconds_bucket", "model", "churn", "le", "+Inf"));
        // 1..7 ms: 1 at le=1ms, 2 at 2.5ms, 5 at 5ms, 7 at 10ms
        assertEquals(1, e.value("berth_request_duration_seconds_bucket", "model", "churn", "protocol", "rest", "outcome", "success", "le", "0.001"));
        assertEquals(2, e.value("berth_request_duration_seconds_bucket", "model", "churn", "protocol", "rest", "outcome", "success", "le", "0.0025"));
        assertEquals(5, e.value("berth_request_duration_seconds_bucket", "model", "churn", "protocol", "rest", "outcome", "success", "le", "0.005"));
        assertEquals(7, e.value("berth_request_duration_seconds_bucket", "model", "churn", "protocol", "rest", "outcome", "success", "le", "0.01"));
        assertEquals(0, e.value("berth_request_duration_seconds_bucket", "model", "churn", "protocol", "rest", "outcome", "server_error", "le", "1.0"));
        assertEquals(1, e.value("berth_request_duration_seconds_bucket", "model", "churn", "protocol", "rest", "outcome", "server_error", "le", "2.5"));

        assertEquals("gauge", e.types.get("berth_requests_in_flight"));
        assertEquals(0, e.value("berth_requests_in_flight", "protocol", "rest"));
        assertEquals("histogram", e.types.get("berth_request_payload_bytes"));
        assertEquals(7 * 300 + 20 + 300, e.value("berth_request_payload_bytes_sum", "model", "churn", "protocol", "rest"), 1e-9);
        assertEquals(3 * 50, e.value("berth_response_payload_bytes_sum", "model", "churn", "protocol", "grpc"), 1e-9);
        assertEquals(10, e.value("berth_request_payload_bytes_count", "model", "churn", "protocol", "rest"));
    }

    @Test
    void coreAndModelMetersHaveExactCounts() {
        knownTraffic();
        Exposition e = Exposition.parse(metrics.scrape(null).text());

        assertEquals("histogram", e.types.get("berth_queue_duration_seconds"));
        assertEquals(10, e.value("berth_queue_duration_seconds_count", "model", "churn", "version", "1"));
        assertEquals(0.001, e.value("berth_queue_duration_seconds_sum", "model", "churn", "version", "1"), 1e-9);
        assertEquals(10, e.value("berth_compute_duration_seconds_bucket", "model", "churn", "version", "1", "le", "5.0E-4"));
        assertEquals(0, e.value("berth_compute_duration_seconds_bucket", "model", "churn", "version", "1", "le", "2.5E-4"));
        assertEquals("histogram", e.types.get("berth_batch_size_rows"));
        assertEquals(3, e.value("berth_batch_size_rows_count", "model", "churn"));
        assertEquals(10, e.value("berth_batch_size_rows_sum", "model", "churn"), 1e-9);
        assertEquals(1, e.value("berth_batch_size_rows_bucket", "model", "churn", "le", "2.0"));
        assertEquals(10, e.value("berth_inferences_total", "model", "churn", "version", "1"));

        assertEquals(1, e.value("berth_model_ready", "model", "churn", "version", "1"));
        assertEquals(0, e.value("berth_model_ready", "model", "broken", "version", "1"));
        assertEquals(1, e.value("berth_models_loaded"));
        assertEquals(1, e.value("berth_model_load_failures_total", "model", "broken"));
        assertEquals(0, e.value("berth_model_load_failures_total", "model", "churn"));
        assertEquals(1, e.value("berth_model_load_duration_seconds_count", "model", "churn"));
        assertEquals(0.005, e.value("berth_model_load_duration_seconds_sum", "model", "churn"), 1e-9);
        assertEquals(1, e.value("berth_registry_reloads_total"));

        // a changed file of the serving version was refused: one more failure, still ready (the old copy serves)
        metrics.modelReloadRefused("churn", 1, 2_000_000, new IllegalStateException("not an ONNX model"));
        Exposition refused = Exposition.parse(metrics.scrape(null).text());
        assertEquals(1, refused.value("berth_model_ready", "model", "churn", "version", "1"));
        assertEquals(1, refused.value("berth_models_loaded"));
        assertEquals(1, refused.value("berth_model_load_failures_total", "model", "churn"));

        metrics.modelUnloaded("churn", 1);
        Exposition after = Exposition.parse(metrics.scrape(null).text());
        assertTrue(after.find("berth_model_ready", "model", "churn").isEmpty(), "an unloaded version has no ready series");
        assertEquals(0, after.value("berth_models_loaded"));
    }

    @Test
    void jvmProcessAndGcMetersArePresent() {
        Exposition e = Exposition.parse(metrics.scrape(null).text());
        for (String name : List.of("jvm_memory_used_bytes", "jvm_threads_live_threads", "jvm_classes_loaded_classes",
                "process_cpu_usage", "process_uptime_seconds", "system_cpu_count")) {
            assertFalse(e.find(name).isEmpty(), name);
        }
        assertTrue(e.types.keySet().stream().anyMatch(n -> n.startsWith("jvm_gc_")), "GC meters");
        assertTrue(e.value("process_resident_memory_bytes") > 10_000_000);
    }

    @Test
    void inFlightCountsStartedRequestsUntilTheyFinish() {
        metrics.requestStarted(REST);
        metrics.requestStarted(REST);
        metrics.requestStarted(GRPC);
        Exposition e = Exposition.parse(metrics.scrape(null).text());
        assertEquals(2, e.value("berth_requests_in_flight", "protocol", "rest"));
        assertEquals(1, e.value("berth_requests_in_flight", "protocol", "grpc"));
        metrics.requestFinished(REST, "churn", "", CLIENT_ERROR, 1000, 10, 10);
        assertEquals(1, Exposition.parse(metrics.scrape(null).text()).value("berth_requests_in_flight", "protocol", "rest"));
    }

    @Test
    void unknownModelNamesShareOneLabel() {
        metrics.modelLoaded("churn", 1, 1, null);
        for (int i = 0; i < 5; i++) {
            metrics.requestStarted(REST);
            metrics.requestFinished(REST, "no-such-model-" + i, "", CLIENT_ERROR, 1000, 10, 10);
        }
        metrics.requestStarted(REST);
        metrics.requestFinished(REST, "churn", "", CLIENT_ERROR, 1000, 10, 10);
        Exposition e = Exposition.parse(metrics.scrape(null).text());
        assertEquals(5, e.value("berth_requests_total", "model", "_unknown", "version", "", "protocol", "rest", "outcome", "client_error"));
        assertEquals(1, e.value("berth_requests_total", "model", "churn", "version", "", "protocol", "rest", "outcome", "client_error"));
        assertTrue(e.find("berth_requests_total", "model", "no-such-model-1").isEmpty());
    }

    @Test
    void openMetricsOnRequest() {
        knownTraffic();
        Scrape om = metrics.scrape("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
        assertEquals(BerthMetrics.OPENMETRICS, om.contentType());
        assertTrue(om.text().endsWith("# EOF\n"), "OpenMetrics ends with # EOF");
        assertTrue(om.text().contains("# TYPE berth_requests counter"));
        Scrape text = metrics.scrape("text/plain");
        assertEquals(BerthMetrics.PROMETHEUS_TEXT, text.contentType());
        assertFalse(text.text().contains("# EOF"));
    }

    @Test
    void tritonStatisticsComeFromTheSameMeters() {
        knownTraffic();
        TritonStats all = metrics.tritonStats(null, null);
        assertEquals(List.of("broken", "churn"), all.modelStats().stream().map(TritonStats.ModelStats::name).toList());
        TritonStats.ModelStats churn = metrics.tritonStats("churn", "1").modelStats().get(0);
        assertEquals("1", churn.version());
        assertEquals(10, churn.inferenceStats().success().count());
        assertEquals(28_000_000L + 600_000L, churn.inferenceStats().success().ns());
        assertEquals(3, churn.inferenceStats().fail().count());
        assertEquals(2_000_110_000L, churn.inferenceStats().fail().ns());
        assertEquals(10, churn.inferenceStats().queue().count());
        assertEquals(1_000_000, churn.inferenceStats().queue().ns());
        assertEquals(4_000_000, churn.inferenceStats().computeInfer().ns());
        assertEquals(10, churn.inferenceCount());
        assertEquals(3, churn.executionCount());
        assertTrue(churn.lastInference() > 0);
        assertTrue(metrics.tritonStats("churn", "2").modelStats().isEmpty());
        assertTrue(metrics.tritonStats("nothing", null).modelStats().isEmpty());
        String json = new String(churn.inferenceStats() == null ? new byte[0] : TritonStatistics.toJson(metrics.tritonStats("churn", null)));
        assertTrue(json.contains("\"model_stats\"") && json.contains("\"inference_stats\"") && json.contains("\"compute_infer\""), json);
    }

    @Test
    void hotPathAllocatesAlmostNothingPerRequest() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        metrics.modelLoaded("churn", 1, 1, null);
        InferenceResponse response = new InferenceResponse("churn", 1, null, List.of(), 1000, 2000, 1);
        Runnable request = () -> {
            metrics.requestStarted(REST);
            metrics.requestCompleted("churn", 1, null, response, null);
            metrics.requestFinished(REST, "churn", "1", SUCCESS, 50_000, 300, 100);
        };
        for (int i = 0; i < 20_000; i++) {
            request.run();
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        int n = 100_000;
        for (int i = 0; i < n; i++) {
            request.run();
        }
        long perRequest = (threads.getCurrentThreadAllocatedBytes() - before) / n;
        System.out.println("monitoring hot path: " + perRequest + " bytes allocated per request (meters only, no reports)");
        assertTrue(perRequest < 64, "allocated " + perRequest + " bytes per request");
    }

    @Test
    void reportIntervalsParseAsUsersWriteThem() {
        assertEquals(java.time.Duration.ofMinutes(5), BerthMetrics.parseInterval("5m"));
        assertEquals(java.time.Duration.ofSeconds(30), BerthMetrics.parseInterval("30s"));
        assertEquals(java.time.Duration.ofSeconds(45), BerthMetrics.parseInterval("45"));
        assertEquals(java.time.Duration.ofHours(2), BerthMetrics.parseInterval("2h"));
        assertEquals(java.time.Duration.ofMillis(1500), BerthMetrics.parseInterval("1500ms"));
        assertEquals(java.time.Duration.ofMinutes(10), BerthMetrics.parseInterval("PT10M"));
        for (String bad : List.of("", "soon", "-5m", "5 minutes", "500ms", "PTx")) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> BerthMetrics.parseInterval(bad), bad);
            assertTrue(e.getMessage().contains("report interval"), e.getMessage());
        }
    }
}

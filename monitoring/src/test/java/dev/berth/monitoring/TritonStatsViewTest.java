package dev.berth.monitoring;

import dev.berth.runtime.InferenceException;
import dev.berth.server.spi.RequestMetrics;
import dev.berth.server.spi.TritonStats;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Triton's statistics read from real meters: which versions are listed, what is not found, and the counts. */
class TritonStatsViewTest {
    private final RequestMeterBinder requests = new RequestMeterBinder();
    private final InferenceMeterBinder inference = new InferenceMeterBinder();
    private final ModelMeterBinder models = new ModelMeterBinder();
    private final ReportMeterBinder reports = new ReportMeterBinder();
    private final ModelVersionTable table;
    private final Set<String> known = ConcurrentHashMap.newKeySet();
    private final TritonStatsView view;

    TritonStatsViewTest() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        for (MeterBinder b : List.of(requests, inference, models, reports)) {
            b.bindTo(registry);
        }
        table = new ModelVersionTable((m, v, label) -> new VersionState(m, v, label, requests, inference, models, reports));
        view = new TritonStatsView(table, known);
    }

    @Test
    void countsComeFromTheRequestAndInferenceMeters() {
        known.add("m");
        VersionState one = table.get("m", 1);
        one.requestMeters().record(RequestMetrics.Protocol.REST, RequestMetrics.Outcome.SUCCESS, 2_000, 10, 10);
        one.requestMeters().record(RequestMetrics.Protocol.GRPC, RequestMetrics.Outcome.SUCCESS, 3_000, 10, 10);
        one.requestMeters().record(RequestMetrics.Protocol.REST, RequestMetrics.Outcome.CLIENT_ERROR, 500, 10, 10);
        one.inferenceMeters().compute.record(7_000, TimeUnit.NANOSECONDS);
        TritonStats.ModelStats s = view.statistics("m", "1").modelStats().get(0);
        assertEquals("1", s.version());
        assertEquals(2, s.inferenceStats().success().count(), "both protocols count");
        assertEquals(5_000, s.inferenceStats().success().ns());
        assertEquals(1, s.inferenceStats().fail().count());
        assertEquals(7_000, s.inferenceStats().computeInfer().ns());
    }

    @Test
    void onlyNumberedVersionsAreListedAndUnknownOnesAreNotFound() {
        known.add("m");
        table.get("m", 2);
        table.get("m", 0); // requests that no version answered
        assertEquals(List.of("2"), view.statistics("m", null).modelStats().stream().map(TritonStats.ModelStats::version).toList());
        assertEquals(List.of("2"), view.statistics("", "").modelStats().stream().map(TritonStats.ModelStats::version).toList(),
                "empty strings mean all");
        String noVersion = assertThrows(InferenceException.NotFound.class, () -> view.statistics("m", "3")).getMessage();
        assertEquals("no statistics for version '3' of model 'm'", noVersion);
        String noModel = assertThrows(InferenceException.NotFound.class, () -> view.statistics("other", null)).getMessage();
        assertEquals("no statistics for model 'other': it is not loaded", noModel);
        assertTrue(view.tritonStats("other", null).modelStats().isEmpty(), "the plain read answers empty instead");
    }
}

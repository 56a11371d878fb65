package dev.berth.monitoring;

import dev.berth.registry.LocalRegistry;
import dev.berth.runtime.InferenceResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static dev.berth.server.spi.RequestMetrics.Outcome.SUCCESS;
import static dev.berth.server.spi.RequestMetrics.Protocol.REST;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PSI needs {@value MonitoringReport#MIN_PSI_ROWS} values per column in a window: below that "not enough data", no value, no gauge value. */
class DriftMinimumRowsTest {
    private static final Instant T0 = Instant.parse("2026-11-23T02:00:00Z");

    @TempDir
    Path dir;

    private static void traffic(BerthMetrics m, List<float[]> rows, int requests, int rowsEach, int offset) {
        for (int i = 0; i < requests; i++) {
            List<float[]> batch = new ArrayList<>();
            for (int r = 0; r < rowsEach; r++) {
                batch.add(rows.get((offset + i * rowsEach + r) % rows.size()));
            }
            m.requestStarted(REST);
            m.requestCompleted("churn", 1, List.of(Fixtures.features(batch)),
                    new InferenceResponse("churn", 1, null, List.of(), 20_000, 50_000, rowsEach), null);
            m.requestFinished(REST, "churn", "1", SUCCESS, 100_000, 40L * rowsEach, 24);
        }
    }

    @Test
    void aWindowWithFewRowsHasNoPsiAndClearsTheGauge() throws Exception {
        LocalRegistry registry = Fixtures.churnRegistry(dir);
        MutableClock clock = new MutableClock(T0);
        try (BerthMetrics m = BerthMetrics.builder().registry(registry).clock(clock).jvmMetrics(false).build()) {
            m.modelLoaded("churn", 1, 1_000_000, null);
            List<float[]> rows = Fixtures.churnRows();

            // 1. enough rows (exactly the minimum): a value per column and on the gauge
            traffic(m, rows, 25, 4, 0);
            clock.advance(Duration.ofMinutes(5));
            MonitoringReport enough = MonitoringReport.read(m.writeReports().get(0));
            assertEquals(8, enough.drift().columns().size(), enough.drift().toString());
            assertNotNull(enough.drift().maxPsi());
            assertEquals(MonitoringReport.MIN_PSI_ROWS, enough.drift().minRows());
            assertTrue(enough.drift().notEnoughData().isEmpty());
            double tenure = Exposition.parse(m.scrape(null).text()).value("berth_input_drift_psi", "column", "tenure_months");
            assertEquals(enough.drift().columns().get("features.tenure_months"), tenure, 1e-12);

            // 2. a handful of requests (the PSI 6.97 window): not enough data, no value, the gauge shows none
            traffic(m, rows, 3, 2, 1000);
            clock.advance(Duration.ofMinutes(5));
            MonitoringReport few = MonitoringReport.read(m.writeReports().get(0));
            assertTrue(few.drift().columns().isEmpty(), few.drift().toString());
            assertNull(few.drift().maxPsi());
            assertEquals(8, few.drift().notEnoughData().size());
            assertEquals(6L, few.drift().notEnoughData().get("features.tenure_months"));
            for (MonitoringReport.ColumnStats c : few.inputs().get(0).columns()) {
                assertNull(c.summary().psi(), c.name());
                assertEquals(6, c.summary().count());
            }
            double gauge = Exposition.parse(m.scrape(null).text()).value("berth_input_drift_psi", "column", "tenure_months");
            assertTrue(Double.isNaN(gauge), "last window's value must not keep an alert firing: " + gauge);
        }
    }
}

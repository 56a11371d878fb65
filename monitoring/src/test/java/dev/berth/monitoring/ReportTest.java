package dev.berth.monitoring;

import dev.berth.registry.LocalRegistry;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static dev.berth.server.spi.RequestMetrics.Outcome.CLIENT_ERROR;
import static dev.berth.server.spi.RequestMetrics.Outcome.SUCCESS;
import static dev.berth.server.spi.RequestMetrics.Protocol.GRPC;
import static dev.berth.server.spi.RequestMetrics.Protocol.REST;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportTest {
    private static final Instant T0 = Instant.parse("2026-11-23T02:00:00Z");

    @TempDir
    Path dir;

    /** Sends {@code requests} requests of {@code rowsEach} rows from {@code rows}, as the front end and the core would report them. */
    private static long[] traffic(BerthMetrics m, List<float[]> rows, int requests, int rowsEach) {
        long[] latencies = new long[requests];
        for (int i = 0; i < requests; i++) {
            List<float[]> batch = new ArrayList<>();
            for (int r = 0; r < rowsEach; r++) {
                batch.add(rows.get((i * rowsEach + r) % rows.size()));
            }
            Tensor input = Fixtures.features(batch);
            long e2e = 100_000L + 1_000L * i;
            latencies[i] = e2e;
            m.requestStarted(i % 4 == 0 ? GRPC : REST);
            m.requestCompleted("churn", 1, List.of(input), new InferenceResponse("churn", 1, null, List.of(), 20_000, 50_000, rowsEach), null);
            m.batchExecuted("churn", 1, rowsEach, 1, 50_000);
            m.requestFinished(i % 4 == 0 ? GRPC : REST, "churn", "1", SUCCESS, e2e, 40L * rowsEach, 24);
        }
        return latencies;
    }

    private static void clientErrors(BerthMetrics m, int n) {
        for (int i = 0; i < n; i++) {
            m.requestStarted(REST);
            m.requestFinished(REST, "churn", "1", CLIENT_ERROR, 30_000, 10, 60);
        }
    }

    @Test
    void reportFiguresMatchTheTrafficSent() throws Exception {
        LocalRegistry registry = Fixtures.churnRegistry(dir);
        MutableClock clock = new MutableClock(T0);
        try (BerthMetrics m = BerthMetrics.builder().registry(registry).clock(clock).jvmMetrics(false).build()) {
            m.modelLoaded("churn", 1, 1_000_000, null);
            List<float[]> rows = Fixtures.churnRows();
            long[] latencies = traffic(m, rows, 400, 5);
            clientErrors(m, 7);
            clock.advance(Duration.ofSeconds(80));
            List<Path> written = m.writeReports();

            assertEquals(1, written.size());
            Path file = written.get(0);
            assertEquals(registry.versionDir("churn", 1).resolve("monitoring"), file.getParent());
            assertEquals("20261123T020000.000Z-20261123T020120.000Z.json", file.getFileName().toString());
            assertEquals(List.of(file), registry.monitoringReports("churn", 1));
            MonitoringReport r = MonitoringReport.read(file);

            assertEquals(MonitoringReport.FORMAT, r.format());
            assertEquals(T0, r.start());
            assertEquals(T0.plusSeconds(80), r.end());
            assertEquals(407, r.requests().total());
            assertEquals(400, r.requests().success());
            assertEquals(7, r.requests().clientError());
            assertEquals(0, r.requests().serverError());
            assertEquals(100, r.requests().byProtocol().get("grpc"));
            assertEquals(307, r.requests().byProtocol().get("rest"));
            assertEquals(400, r.requests().inferences());
            assertEquals(2000, r.requests().rows());
            assertEquals(400 / 80.0, r.throughput(), 1e-9);

            Arrays.sort(latencies);
            MonitoringReport.Percentiles e2e = r.latency().endToEnd();
            assertEquals(407, e2e.count());
            assertEquals(latencies[399] / 1e6, e2e.max(), 1e-9);
            // 7 client errors at 30 us sit below every success: percentile ranks shift by 7
            long[] all = new long[407];
            System.arraycopy(latencies, 0, all, 7, 400);
            Arrays.fill(all, 0, 7, 30_000);
            assertEquals(all[(int) Math.ceil(0.5 * 407) - 1] / 1e6, e2e.p50(), all[203] / 1e6 * 0.04);
            assertEquals(all[(int) Math.ceil(0.99 * 407) - 1] / 1e6, e2e.p99(), all[402] / 1e6 * 0.04);
            assertEquals(Arrays.stream(all).average().orElseThrow() / 1e6, e2e.mean(), 1e-3);
            assertEquals(400, r.latency().queue().count());
            assertEquals(0.02, r.latency().queue().p50(), 0.02 * 0.04);
            assertEquals(0.05, r.latency().compute().p99(), 0.05 * 0.04);

            assertEquals(400, r.batches().executed());
            assertEquals(5.0, r.batches().meanRows(), 1e-9);
            assertEquals(java.util.Map.of("5", 400L), r.batches().sizes());
            assertEquals(407, r.payload().request().count());
            assertEquals(400 * 200 + 70, r.payload().request().total());
            assertEquals(200, r.payload().request().max());
            assertEquals(24 * 400 + 60 * 7, r.payload().response().total());

            assertEquals(1, r.inputs().size());
            MonitoringReport.InputStats features = r.inputs().get(0);
            assertEquals("features", features.name());
            assertEquals(16000, features.summary().count());
            assertEquals(Fixtures.CHURN_COLUMNS, features.columns().stream().map(MonitoringReport.ColumnStats::name).toList());
            for (int c = 0; c < 8; c++) {
                double sum = 0;
                double min = Double.MAX_VALUE;
                double max = -Double.MAX_VALUE;
                for (int i = 0; i < 2000; i++) {
                    double v = rows.get(i)[c];
                    sum += v;
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
                MonitoringReport.Summary s = features.columns().get(c).summary();
                assertEquals(2000, s.count());
                assertEquals(sum / 2000, s.mean(), Math.abs(sum / 2000) * 1e-9 + 1e-9);
                assertEquals(min, s.min());
                assertEquals(max, s.max());
                assertEquals(2000, s.histogram().stream().mapToLong(MonitoringReport.Bin::count).sum());
                assertNotNull(s.histogram().get(0).trainingFraction(), "bins carry the training share");
            }
            assertNotNull(r.drift());
            assertEquals("data/processed_customer_data.csv", r.drift().trainingData());
            assertEquals(3000, r.drift().trainingRows());
        }
    }

    @Test
    void driftIsNearZeroForTrainingDataAndLargeForShiftedInputs() throws Exception {
        LocalRegistry registry = Fixtures.churnRegistry(dir);
        MutableClock clock = new MutableClock(T0);
        try (BerthMetrics m = BerthMetrics.builder().registry(registry).clock(clock).jvmMetrics(false).build()) {
            m.modelLoaded("churn", 1, 1_000_000, null);
            List<float[]> rows = Fixtures.churnRows();
            // training rows in a different order than the file, as production traffic would come
            List<float[]> shuffled = new ArrayList<>(rows);
            java.util.Collections.shuffle(shuffled, new java.util.Random(7));
            traffic(m, shuffled, 500, 4);
            clock.advance(Duration.ofMinutes(5));
            MonitoringReport same = MonitoringReport.read(m.writeReports().get(0));
            System.out.println("PSI, training-like inputs: " + same.drift().columns());
            assertTrue(same.drift().maxPsi() < 0.05, "PSI for training-like inputs: " + same.drift().columns());
            assertEquals(8, same.drift().columns().size());
            Exposition e = Exposition.parse(m.scrape(null).text());
            assertEquals("gauge", e.types.get("berth_input_drift_psi"));
            assertEquals(same.drift().columns().get("features.tenure_months"),
                    e.value("berth_input_drift_psi", "model", "churn", "version", "1", "input", "features", "column", "tenure_months"), 1e-12);

            // the same customers a few years on: longer tenure, higher charges
            List<float[]> shifted = new ArrayList<>();
            for (float[] row : shuffled) {
                float[] s = row.clone();
                s[0] += 36;
                s[1] *= 1.6f;
                s[2] = s[0] * s[1];
                shifted.add(s);
            }
            traffic(m, shifted, 500, 4);
            clock.advance(Duration.ofMinutes(5));
            MonitoringReport moved = MonitoringReport.read(m.writeReports().get(0));
            System.out.println("PSI, shifted inputs: " + moved.drift().columns());
            assertTrue(moved.drift().columns().get("features.tenure_months") > 1, moved.drift().columns().toString());
            assertTrue(moved.drift().columns().get("features.monthly_charges") > 0.5, moved.drift().columns().toString());
            assertTrue(moved.drift().columns().get("features.total_charges") > 0.5, moved.drift().columns().toString());
            assertTrue(moved.drift().columns().get("features.support_calls") < 0.05, "unchanged columns stay put: " + moved.drift().columns());
            Exposition after = Exposition.parse(m.scrape(null).text());
            assertTrue(after.value("berth_input_drift_psi", "column", "tenure_months") > 1);

            m.modelUnloaded("churn", 1);
            Thread.sleep(300);
            assertTrue(Exposition.parse(m.scrape(null).text()).find("berth_input_drift_psi").isEmpty(),
                    "an unloaded version exports no drift that could keep an alert firing");
        }
    }

    @Test
    void reportsAreWrittenOnIntervalAndAtShutdown() throws Exception {
        LocalRegistry registry = Fixtures.churnRegistry(dir);
        List<float[]> rows = Fixtures.churnRows();
        BerthMetrics m = BerthMetrics.builder().registry(registry).reportInterval(Duration.ofMillis(300)).jvmMetrics(false).build();
        try {
            m.modelLoaded("churn", 1, 1_000_000, null);
            traffic(m, rows, 30, 1);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (registry.monitoringReports("churn", 1).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            List<Path> reports = registry.monitoringReports("churn", 1);
            assertEquals(1, reports.size(), "one report after the first interval");
            MonitoringReport first = MonitoringReport.read(reports.get(0));
            assertEquals(30, first.requests().success());
            Thread.sleep(700);
            assertEquals(1, registry.monitoringReports("churn", 1).size(), "idle windows write nothing");
            traffic(m, rows, 11, 1);
            clientErrors(m, 2);
        } finally {
            // let the interval pass or not: the shutdown report must hold whatever is unwritten
            m.close();
        }
        List<Path> reports = registry.monitoringReports("churn", 1);
        int total = 0;
        int errors = 0;
        for (Path p : reports.subList(1, reports.size())) {
            MonitoringReport r = MonitoringReport.read(p);
            total += (int) r.requests().success();
            errors += (int) r.requests().clientError();
        }
        assertEquals(11, total, "every request after the first report is in a later one");
        assertEquals(2, errors);
    }

    @Test
    void unloadWritesTheLastWindow() throws Exception {
        LocalRegistry registry = Fixtures.churnRegistry(dir);
        try (BerthMetrics m = BerthMetrics.builder().registry(registry).jvmMetrics(false).build()) {
            m.modelLoaded("churn", 1, 1_000_000, null);
            traffic(m, Fixtures.churnRows(), 9, 1);
            m.modelUnloaded("churn", 1);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (registry.monitoringReports("churn", 1).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(9, MonitoringReport.read(registry.monitoringReports("churn", 1).get(0)).requests().success());
        }
    }

    @Test
    void failedReportWritesAreCountedAndLoggedAndServingGoesOn() throws Exception {
        LocalRegistry registry = Fixtures.churnRegistry(dir);
        Path version = registry.versionDir("churn", 1);
        List<LogRecord> logged = new ArrayList<>();
        Logger jul = Logger.getLogger(Reporter.class.getName());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                logged.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        jul.addHandler(capture);
        // a file where the folder should be fails even for root; the read-only version folder fails for everyone else
        Files.writeString(version.resolve("monitoring"), "in the way");
        Files.setPosixFilePermissions(version, PosixFilePermissions.fromString("r-xr-xr-x"));
        try (BerthMetrics m = BerthMetrics.builder().registry(registry).jvmMetrics(false).build()) {
            m.modelLoaded("churn", 1, 1_000_000, null);
            traffic(m, Fixtures.churnRows(), 20, 1);
            assertEquals(List.of(), m.writeReports());

            Exposition e = Exposition.parse(m.scrape(null).text());
            assertEquals(1, e.value("berth_report_failures_total", "model", "churn", "version", "1"));
            assertEquals(0, e.value("berth_reports_written_total", "model", "churn", "version", "1"));
            assertTrue(logged.stream().anyMatch(r -> r.getLevel() == java.util.logging.Level.WARNING
                    && r.getMessage().contains("cannot write monitoring report") && r.getMessage().contains("churn:1")), "a warning is logged");

            traffic(m, Fixtures.churnRows(), 5, 1);
            assertEquals(25, Exposition.parse(m.scrape(null).text())
                    .value("berth_requests_total", "model", "churn", "protocol", "rest", "outcome", "success")
                    + Exposition.parse(m.scrape(null).text()).value("berth_requests_total", "model", "churn", "protocol", "grpc", "outcome", "success"),
                    "requests keep being served and counted");

            Files.setPosixFilePermissions(version, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.delete(version.resolve("monitoring"));
            List<Path> written = m.writeReports();
            assertEquals(2, written.size(), "writing works again once the folder is writable: the held-back window, then the new one");
            assertEquals(20, MonitoringReport.read(written.get(0)).requests().success(), "the window that failed, written late as its own file");
            assertEquals(5, MonitoringReport.read(written.get(1)).requests().success(), "the new window, not mixed with the old");
        } finally {
            jul.removeHandler(capture);
            Files.setPosixFilePermissions(version, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void noReportsWithoutRegistryOrForVersionsWithoutManifest() throws Exception {
        try (BerthMetrics m = BerthMetrics.builder().jvmMetrics(false).build()) {
            m.modelLoaded("churn", 1, 1, null);
            traffic(m, Fixtures.churnRows(), 3, 1);
            assertEquals(List.of(), m.writeReports());
        }
        // a plain Triton-style version: model.onnx only, no manifest, so no columns and no drift
        Files.createDirectories(dir.resolve("plain/1"));
        Files.write(dir.resolve("plain/1/model.onnx"), new byte[]{1});
        try (BerthMetrics m = BerthMetrics.builder().registry(LocalRegistry.open(dir)).jvmMetrics(false).build()) {
            m.modelLoaded("plain", 1, 1, null);
            Tensor input = Fixtures.features(Fixtures.churnRows().subList(0, 2));
            m.requestCompleted("plain", 1, List.of(input), new InferenceResponse("plain", 1, null, List.of(), 1, 1, 2), null);
            MonitoringReport r = MonitoringReport.read(m.writeReports().get(0));
            assertNull(r.drift());
            assertEquals(16, r.inputs().get(0).summary().count());
            assertTrue(r.inputs().get(0).columns().isEmpty());
            assertEquals(1, r.requests().inferences());
        }
    }

    @Test
    void hotPathCostWithReportsAndInputStatistics() throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        LocalRegistry registry = Fixtures.churnRegistry(dir);
        try (BerthMetrics m = BerthMetrics.builder().registry(registry).jvmMetrics(false).build()) {
            m.modelLoaded("churn", 1, 1, null);
            List<Tensor> inputs = List.of(Fixtures.features(Fixtures.churnRows().subList(0, 1)));
            InferenceResponse response = new InferenceResponse("churn", 1, null, List.of(), 1000, 2000, 1);
            Runnable request = () -> {
                m.requestStarted(REST);
                m.requestCompleted("churn", 1, inputs, response, null);
                m.batchExecuted("churn", 1, 1, 1, 2000);
                m.requestFinished(REST, "churn", "1", SUCCESS, 50_000, 300, 100);
            };
            for (int i = 0; i < 50_000; i++) {
                request.run();
            }
            int n = 200_000;
            long bytes = threads.getCurrentThreadAllocatedBytes();
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                request.run();
            }
            long nanos = (System.nanoTime() - start) / n;
            long perRequest = (threads.getCurrentThreadAllocatedBytes() - bytes) / n;
            System.out.println("monitoring hot path with reports, churn row of 8 columns: " + nanos + " ns and "
                    + perRequest + " bytes per request (one thread)");
            assertTrue(perRequest < 256, perRequest + " bytes per request");
            assertEquals(n + 50_000, MonitoringReport.read(m.writeReports().get(0)).requests().success());
        }
    }
}

package dev.berth.cli;

import dev.berth.monitoring.BerthMetrics;
import dev.berth.monitoring.MonitoringReport;
import dev.berth.server.spi.RequestMetrics;
import dev.berth.registry.DataType;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.testing.Samples;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code berth report}'s drift "now" is the latest window's PSI (not one over all windows), the
 * history is a series, and a window with fewer than 100 rows says "not enough data".
 */
class ReportDriftTest {
    @TempDir
    Path tmp;

    private static String[] berth(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out), new PrintWriter(err), args);
        assertEquals(0, code, err.toString());
        return new String[]{out.toString(), err.toString()};
    }

    /** {@code n} requests of two training rows each, from row {@code first}, tenure moved by {@code shift} months. */
    private static void traffic(BerthMetrics m, List<String> csv, int first, int n, float shift) {
        for (int i = 0; i < n; i++) {
            ByteBuffer b = ByteBuffer.allocate(2 * 8 * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < 2; r++) {
                String[] cells = csv.get(1 + (first + 2 * i + r) % (csv.size() - 1)).split(",");
                for (int c = 0; c < 8; c++) {
                    b.putFloat(Float.parseFloat(cells[c]) + (c == 0 ? shift : 0));
                }
            }
            b.flip();
            Tensor t = Tensor.ofRaw("features", DataType.FP32, new long[]{2, 8}, b);
            m.requestStarted(RequestMetrics.Protocol.REST);
            m.requestCompleted("churn", 1, List.of(t), new InferenceResponse("churn", 1, null, List.of(), 10_000, 90_000, 2), null);
            m.requestFinished(RequestMetrics.Protocol.REST, "churn", "1", RequestMetrics.Outcome.SUCCESS, 300_000, 500, 120);
        }
    }

    private static MonitoringReport read(Path p) {
        try {
            return MonitoringReport.read(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void nowIsTheLatestWindowAndAWindowWithFewRowsHasNoPsi() throws Exception {
        Path models = tmp.resolve("models");
        berth("register", Samples.copy(Samples.CHURN, tmp.resolve("churn")).toString(), "--name", "churn", "--models", models.toString());
        LocalRegistry registry = LocalRegistry.open(models);
        List<String> csv = Files.readAllLines(registry.versionDir("churn", 1).resolve("data/processed_customer_data.csv"));
        List<Path> written = new ArrayList<>();
        try (BerthMetrics m = BerthMetrics.builder().registry(registry).jvmMetrics(false).build()) {
            m.modelLoaded("churn", 1, 1_000_000, null);
            traffic(m, csv, 0, 700, 0);          // like the training data
            written.addAll(m.writeReports());
            Thread.sleep(5);
            traffic(m, csv, 1400, 150, 36);      // three years on: tenure shifted
            written.addAll(m.writeReports());
        }
        MonitoringReport shifted = MonitoringReport.read(written.get(1));
        double latest = shifted.drift().columns().get("features.tenure_months");
        assertTrue(latest > 1, "a shifted window drifts: " + latest);

        String out = berth("report", "churn:1", "--models", models.toString())[0];
        assertTrue(out.contains(String.format(Locale.ROOT, "drift now (latest window, ") ), out);
        assertTrue(out.contains(String.format(Locale.ROOT, "max PSI %.3f (features.tenure_months)", shifted.drift().maxPsi())), out);
        List<ReportCharts.Distribution> now = ReportCharts.distributions(List.of(MonitoringReport.read(written.get(0)), shifted));
        ReportCharts.Distribution tenure = now.stream().filter(d -> d.title().equals("features.tenure_months")).findFirst().orElseThrow();
        assertEquals(String.format(Locale.ROOT, "PSI now %.3f", latest), tenure.psiLabel(), "the latest window's value, not one over all windows");
        assertEquals(300, tenure.count(), "the distribution shown is the latest window's");

        // a window of three requests: not enough data, no PSI, no number in the table
        try (BerthMetrics m = BerthMetrics.builder().registry(registry).jvmMetrics(false).build()) {
            m.modelLoaded("churn", 1, 1_000_000, null);
            Thread.sleep(5);
            traffic(m, csv, 0, 3, 36);
            written.addAll(m.writeReports());
        }
        Path html = tmp.resolve("r/report.html");
        Files.createDirectories(html.getParent());
        out = berth("report", "churn:1", "--models", models.toString(), "--html", html.toString())[0];
        List<String> rows = out.lines().filter(l -> l.matches("\\d{4}-.*")).toList();
        assertEquals(3, rows.size(), out);
        assertTrue(rows.get(2).endsWith("not enough data"), rows.get(2));
        assertTrue(out.contains("not enough data (6 rows; PSI needs 100 per column)"), out);
        String page = Files.readString(html);
        // JFreeChart wraps a long title over lines: the start of it is on one
        assertTrue(page.contains("PSI now: not enough data (6 of"), "chart titles say why there is no value");
        List<ReportCharts.Distribution> few = ReportCharts.distributions(written.stream().map(ReportDriftTest::read).toList());
        assertEquals("PSI now: not enough data (6 of 100 rows)", few.get(0).psiLabel());
        assertTrue(page.contains("Drift: largest PSI per window"), "the history as a series");
    }
}

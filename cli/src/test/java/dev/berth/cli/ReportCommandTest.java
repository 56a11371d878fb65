package dev.berth.cli;

import dev.berth.monitoring.BerthMetrics;
import dev.berth.server.spi.RequestMetrics;
import dev.berth.registry.DataType;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.testing.Samples;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code berth report} on reports written for the registered churn sample, fed with rows of its own training data. */
class ReportCommandTest {
    @TempDir
    Path tmp;

    private record Result(int code, String out, String err) {
    }

    private static Result berth(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    /** {@code n} requests of two consecutive training rows each, from row {@code first}. */
    private static void traffic(BerthMetrics m, List<String> csv, int first, int n) {
        for (int i = 0; i < n; i++) {
            ByteBuffer b = ByteBuffer.allocate(2 * 8 * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < 2; r++) {
                String[] cells = csv.get(1 + (first + 2 * i + r) % (csv.size() - 1)).split(",");
                for (int c = 0; c < 8; c++) {
                    b.putFloat(Float.parseFloat(cells[c]));
                }
            }
            b.flip();
            Tensor t = Tensor.ofRaw("features", DataType.FP32, new long[]{2, 8}, b);
            m.requestStarted(RequestMetrics.Protocol.REST);
            m.requestCompleted("churn", 1, List.of(t), new InferenceResponse("churn", 1, null, List.of(), 10_000, 90_000, 2), null);
            m.batchExecuted("churn", 1, 2, 1, 90_000);
            m.requestFinished(RequestMetrics.Protocol.REST, "churn", "1", RequestMetrics.Outcome.SUCCESS, 300_000, 500, 120);
        }
    }

    @Test
    void tabulatesAndDrawsReportsAndSkipsDamagedOnes() throws Exception {
        Path models = tmp.resolve("models");
        assertEquals(0, berth("register", Samples.copy(Samples.CHURN, tmp.resolve("churn")).toString(), "--name", "churn",
                "--models", models.toString()).code());
        LocalRegistry registry = LocalRegistry.open(models);
        List<String> csv = Files.readAllLines(registry.versionDir("churn", 1).resolve("data/processed_customer_data.csv"));
        try (BerthMetrics m = BerthMetrics.builder().registry(registry).jvmMetrics(false).build()) {
            m.modelLoaded("churn", 1, 1_000_000, null);
            traffic(m, csv, 0, 700);
            assertEquals(1, m.writeReports().size());
            Thread.sleep(5); // distinct window names
            traffic(m, csv, 1400, 300);
            m.requestStarted(RequestMetrics.Protocol.GRPC);
            m.requestFinished(RequestMetrics.Protocol.GRPC, "churn", "1", RequestMetrics.Outcome.CLIENT_ERROR, 40_000, 20, 60);
            assertEquals(1, m.writeReports().size());
        }
        registry.writeMonitoringReport("churn", 1, "99991231T000000.000Z-damaged.json", "{\"format\": ".getBytes(StandardCharsets.UTF_8));

        Path html = tmp.resolve("churn.html");
        Path png = tmp.resolve("churn.png");
        Result r = berth("report", "churn:1", "--models", models.toString(), "--html", html.toString(), "--png", png.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("skipped unreadable report 99991231T000000.000Z-damaged.json"), r.err());
        List<String[]> rows = r.out().lines().filter(l -> l.matches("\\d{4}-.*")).map(l -> l.trim().split("\\s+")).toList();
        assertEquals(2, rows.size(), r.out());
        // columns: date, time, minutes, requests, errors, req/s, p50, p95, p99, queue p95, compute p95, rows/batch, max PSI
        assertEquals("700", rows.get(0)[3]);
        assertEquals("0", rows.get(0)[4]);
        assertEquals("301", rows.get(1)[3]);
        assertEquals("1", rows.get(1)[4]);
        assertEquals("2.0", rows.get(0)[11]);
        assertEquals(0.3, Double.parseDouble(rows.get(0)[6]), 0.3 * 0.04);
        for (String[] row : rows) {
            assertTrue(Double.parseDouble(row[12]) < 0.1, "rows of the training data do not drift: " + String.join(" ", row));
        }
        String page = Files.readString(html);
        assertTrue(page.startsWith("<!DOCTYPE html>") && page.contains("<table>") && page.contains("<svg"), "page");
        assertTrue(page.contains("features.monthly_charges") && page.contains("processed_customer_data.csv"), "distributions and training data named");
        assertEquals(1000, ImageIO.read(png.toFile()).getWidth());

        // deleted, the version's windows stay readable
        assertEquals(0, berth("delete", "churn:1", "--force", "--models", models.toString()).code());
        Result retired = berth("report", "churn:1", "--models", models.toString());
        assertEquals(0, retired.code(), retired.err());
        assertTrue(retired.err().contains("version 1 of churn was deleted; these are the reports it left"), retired.err());
        assertEquals(2, retired.out().lines().filter(l -> l.matches("\\d{4}-.*")).count(), retired.out());

        Result none = berth("report", "churn:1", "--models", tmp.resolve("empty").toString());
        assertEquals(1, none.code(), "a registry without the model is an error");
        assertEquals(1, none.err().strip().lines().count(), none.err());
    }
}

package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.monitoring.MonitoringReport;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.testing.Samples;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import static java.nio.file.StandardCopyOption.REPLACE_EXISTING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code berth serve --report-interval} as a real process: /metrics and Triton statistics count the
 * traffic, reports land in the registered version on interval and at SIGTERM with the traffic's
 * figures, {@code berth show} lists them and {@code berth report} tabulates and draws them.
 */
class ServeMonitoringIT {
    @TempDir
    Path tmp;

    private static String run(int expected, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out), new PrintWriter(err), args);
        assertEquals(expected, code, "berth " + String.join(" ", args) + ": " + err);
        return expected == 0 ? out.toString() : err.toString();
    }

    @Test
    void serveWritesReportsThatReportShows() throws Exception {
        Path models = tmp.resolve("models");
        run(0, "register", Samples.copy(Samples.CHURN, tmp.resolve("churn")).toString(), "--name", "churn", "--models", models.toString());
        LocalRegistry registry = LocalRegistry.open(models);
        assertTrue(run(0, "report", "churn", "--models", models.toString()).contains("no monitoring reports for churn:1"));

        try (ServeProcess serve = ServeProcess.start(models, "--report-interval", "2s")) {
            byte[] example = Files.readAllBytes(models.resolve("churn/1/example_request.json"));
            for (int i = 0; i < 6; i++) {
                HttpResponse<String> r = serve.infer("churn", example);
                assertEquals(200, r.statusCode(), r.body());
            }
            String metrics = serve.get("/metrics").body();
            assertTrue(Pattern.compile("(?m)^berth_requests_total\\{[^}]*model=\"churn\"[^}]*outcome=\"success\",protocol=\"rest\",version=\"1\"} 6\\.0$")
                    .matcher(metrics).find(), metrics.lines().filter(l -> l.startsWith("berth_requests_total")).toList().toString());
            JsonNode stats = new ObjectMapper().readTree(serve.get("/v2/models/churn/stats").body());
            assertEquals(6, stats.path("model_stats").get(0).path("inference_stats").path("success").path("count").asLong());

            // an interval may end between two of the six requests, so they can be spread over two reports
            long reported = 0;
            while (reported < 6 && System.nanoTime() < serve.deadline()) {
                Thread.sleep(100);
                reported = 0;
                for (Path f : registry.monitoringReports("churn", 1)) {
                    reported += MonitoringReport.read(f).requests().success();
                }
            }
            assertEquals(6, reported, "the interval reports hold the first six requests");
            for (int i = 0; i < 3; i++) {
                serve.infer("churn", example);
            }
            serve.stop(); // SIGTERM: the shutdown report holds what no interval wrote yet
        }

        List<Path> files = registry.monitoringReports("churn", 1);
        long success = 0;
        long rows = 0;
        for (Path f : files) {
            MonitoringReport r = MonitoringReport.read(f);
            success += r.requests().success();
            rows += r.requests().rows();
            assertEquals("data/processed_customer_data.csv", r.drift().trainingData());
        }
        assertEquals(9, success, "every request is in exactly one report");
        assertEquals(18, rows);

        String show = run(0, "show", "churn", "--models", models.toString());
        assertTrue(show.contains(registry.root().relativize(files.get(0)).toString()), "berth show lists reports:\n" + show);

        Path html = tmp.resolve("report.html");
        Path png = tmp.resolve("report.png");
        String table = run(0, "report", "churn:1", "--models", models.toString(), "--html", html.toString(), "--png", png.toString());
        List<String> lines = table.lines().toList();
        assertEquals("monitoring reports of churn:1", lines.get(0));
        assertTrue(lines.get(1).startsWith("window start (UTC)"), table);
        assertEquals(files.size(), lines.stream().filter(l -> l.matches("\\d{4}-\\d\\d-\\d\\d .*")).count(), table);
        String page = Files.readString(html);
        assertTrue(page.contains("<svg") && page.contains("features.tenure_months") && page.contains("training"), "charts in the page");
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(1000, image.getWidth());
        assertTrue(image.getHeight() > 1000, "latency, throughput and eight column charts");
        Files.copy(png, Path.of(System.getProperty("java.io.tmpdir"), "berth-report-example.png"), REPLACE_EXISTING);

        assertTrue(run(ErrorHandler.MISUSE, "serve", "--models", models.toString(), "--report-interval", "soon").contains("report interval"));
        assertTrue(run(ErrorHandler.FAILURE, "report", "nothing", "--models", models.toString()).contains("nothing"));
    }
}

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
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
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

        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), BerthMain.class.getName(),
                "serve", "--models", models.toString(), "--port", "0", "--report-interval", "2s")
                .redirectErrorStream(true);
        pb.environment().remove("PORT");
        pb.environment().remove("BERTH_PORT");
        pb.environment().remove("BERTH_REPORT_INTERVAL");
        Process p = pb.start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            Pattern serving = Pattern.compile("berth serving .* on http://127\\.0\\.0\\.1:(\\d+)");
            int port = -1;
            StringBuilder log = new StringBuilder();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (port < 0 && System.nanoTime() < deadline) {
                String line = lines.readLine();
                if (line == null) {
                    break;
                }
                log.append(line).append('\n');
                Matcher m = serving.matcher(line);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                }
            }
            assertTrue(port > 0, "server announced its port:\n" + log);
            Thread.ofPlatform().daemon().start(() -> lines.lines().forEach(l -> { }));
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            URI base = URI.create("http://127.0.0.1:" + port);
            int ready = 0;
            while (ready != 200 && System.nanoTime() < deadline) {
                ready = http.send(HttpRequest.newBuilder(base.resolve("/v2/health/ready")).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                Thread.sleep(ready == 200 ? 0 : 100);
            }
            byte[] example = Files.readAllBytes(models.resolve("churn/1/example_request.json"));
            for (int i = 0; i < 6; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/v2/models/churn/infer"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(example)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
            }
            String metrics = http.send(HttpRequest.newBuilder(base.resolve("/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(Pattern.compile("(?m)^berth_requests_total\\{[^}]*model=\"churn\"[^}]*outcome=\"success\",protocol=\"rest\",version=\"1\"} 6\\.0$")
                    .matcher(metrics).find(), metrics.lines().filter(l -> l.startsWith("berth_requests_total")).toList().toString());
            JsonNode stats = new ObjectMapper().readTree(http.send(HttpRequest.newBuilder(base.resolve("/v2/models/churn/stats")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            assertEquals(6, stats.path("model_stats").get(0).path("inference_stats").path("success").path("count").asLong());

            // an interval may end between two of the six requests, so they can be spread over two reports
            long reported = 0;
            while (reported < 6 && System.nanoTime() < deadline) {
                Thread.sleep(100);
                reported = 0;
                for (Path f : registry.monitoringReports("churn", 1)) {
                    reported += MonitoringReport.read(f).requests().success();
                }
            }
            assertEquals(6, reported, "the interval reports hold the first six requests");
            for (int i = 0; i < 3; i++) {
                http.send(HttpRequest.newBuilder(base.resolve("/v2/models/churn/infer"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(example)).build(),
                        HttpResponse.BodyHandlers.discarding());
            }
            p.destroy(); // SIGTERM: the shutdown report holds what no interval wrote yet
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "stopped within 30 s of SIGTERM");
        } finally {
            p.destroyForcibly();
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

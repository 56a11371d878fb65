package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.RegistryJson;
import dev.berth.registry.testing.Samples;
import dev.berth.runtime.onnx.OnnxInferenceService;
import dev.berth.server.BerthServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code berth perf} for real, with tiny windows, on the shipped samples: an in-process server on
 * free ports and in-process ONNX Runtime, real sockets, a real gRPC channel; then the artifact in the
 * registry, {@code berth show} and {@code berth diff}. Also the smoke run CI makes of the command. No
 * figure is asserted: only that every point was measured, without errors, and is kept.
 */
class PerfCommandTest {
    private static final String[] TINY = {"--window", "100ms", "--warmup", "100ms", "--max-windows", "3"};

    @TempDir
    Path tmp;
    Path models;

    record Result(int code, String out, String err) {
    }

    @BeforeEach
    void setUp() {
        models = tmp.resolve("models");
        Path churn = Samples.copy(Samples.CHURN, tmp.resolve("samples/churn"));
        ok("register", churn.toString(), "--name", "churn");
        ok("register", churn.toString(), "--name", "churn", "--allow-duplicate"); // the same model twice: versions to compare
    }

    Result berth(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--models");
        all.add(models.toString());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out), new PrintWriter(err), all.toArray(String[]::new));
        return new Result(code, out.toString(), err.toString());
    }

    Result ok(String... args) {
        Result r = berth(args);
        assertEquals(0, r.code(), () -> String.join(" ", args) + " failed: " + r.err() + r.out());
        return r;
    }

    private static String[] with(String[] base, String... more) {
        return Stream.concat(Stream.of(more), Stream.of(base)).toArray(String[]::new);
    }

    @Test
    void sweepsEveryFrontEndKeepsTheReportAndShowAndDiffReadIt() throws IOException {
        Result run = ok(with(TINY, "perf", "churn:1", "--concurrency", "1,2", "--batch", "1,4"));
        assertTrue(run.err().contains("[16/16] grpc batch 4 concurrency 2"), "progress names every point\n" + run.err());
        assertTrue(run.err().contains("window 1:"), run.err());

        List<Path> files = LocalRegistry.open(models).perfReports("churn", 1);
        assertEquals(2, files.size(), files.toString());
        Path json = files.stream().filter(p -> p.toString().endsWith(".json")).findFirst().orElseThrow();
        Path png = files.stream().filter(p -> p.toString().endsWith(".png")).findFirst().orElseThrow();
        assertTrue(json.getFileName().toString().matches("\\d{8}T\\d{6}Z\\.json"), json.toString());
        assertEquals(models.resolve("churn/1/perf"), json.getParent());
        assertTrue(run.out().strip().endsWith("perf report: " + json + " (chart " + png.getFileName() + ")"), run.out());

        JsonNode report = RegistryJson.mapper().readTree(json.toFile());
        assertEquals("berth.perf.v1", report.get("format").asText());
        assertEquals("churn", report.get("model").asText());
        assertEquals(1, report.get("version").asInt());
        assertEquals("in-process", report.get("target").get("mode").asText());
        assertEquals(100, report.get("settings").get("window_ms").asLong());
        assertNotNull(report.get("serving").get("intra_op_threads"));
        Set<String> points = new HashSet<>();
        for (JsonNode r : report.get("results")) {
            String key = r.get("front_end").asText() + "/" + r.get("batch").asInt() + "/" + r.get("concurrency").asInt();
            assertTrue(points.add(key), "one result per point: " + key);
            assertEquals(0, r.get("errors").asLong(), key + ": " + r);
            assertTrue(r.get("requests").asLong() > 0, key);
            double rps = r.get("requests_per_second").asDouble();
            assertEquals(rps * r.get("batch").asInt(), r.get("inferences_per_second").asDouble(), rps * 0.01 + 0.2, key);
            JsonNode l = r.get("latency_ms");
            assertTrue(l.get("p50").asDouble() > 0 && l.get("p50").asDouble() <= l.get("p90").asDouble()
                    && l.get("p90").asDouble() <= l.get("p99").asDouble() && l.get("p99").asDouble() <= l.get("max").asDouble(), key + ": " + l);
            assertTrue(r.get("windows").asInt() >= 3 && r.get("windows").asInt() <= 3, key);
        }
        Set<String> expected = new HashSet<>();
        for (String f : List.of("in-process", "rest-json", "rest-binary", "grpc")) {
            for (int b : List.of(1, 4)) {
                for (int c : List.of(1, 2)) {
                    expected.add(f + "/" + b + "/" + c);
                }
            }
        }
        assertEquals(expected, points);

        BufferedImage chart = ImageIO.read(png.toFile());
        assertEquals(PerfCharts.WIDTH, chart.getWidth());
        assertTrue(chart.getHeight() > 300);

        String show = ok("show", "churn:1").out();
        assertTrue(show.contains("performance reports (berth perf)"), show);
        assertTrue(show.lines().anyMatch(l -> l.contains("churn/1/perf/" + json.getFileName()) && l.contains("rest-json")
                && l.contains("grpc") && l.contains("in-process")), show);
        assertTrue(show.contains("churn/1/perf/" + png.getFileName()), show);

        String oneSided = ok("diff", "churn:1", "churn:2").out();
        assertTrue(oneSided.contains("perf: no perf report for churn:2"), oneSided);
        assertTrue(oneSided.strip().endsWith("differences"), oneSided);

        ok(with(TINY, "perf", "churn:2", "--concurrency", "1", "--batch", "1", "--front-ends", "rest-json,grpc"));
        String diff = ok("diff", "churn:1", "churn:2").out();
        assertTrue(diff.lines().anyMatch(l -> l.matches("perf\\s+churn/1/perf/\\S+\\.json\\s+churn/2/perf/\\S+\\.json\\s+right/left")), diff);
        assertTrue(diff.lines().anyMatch(l -> l.matches("\\s+rest-json peak inferences/s\\s+[\\d,.]+ \\(b\\d c\\d\\)\\s+[\\d,.]+ \\(b1 c1\\)\\s+\\d+\\.\\d\\dx")), diff);
        assertTrue(diff.lines().anyMatch(l -> l.matches("\\s+grpc p99 ms, lone client\\s+[\\d.]+ \\(b1 c1\\)\\s+[\\d.]+ \\(b1 c1\\)\\s+\\d+\\.\\d\\dx")), diff);
        assertTrue(diff.lines().anyMatch(l -> l.matches("\\s+rest-binary peak inferences/s\\s+[\\d,.]+ \\(b\\d c\\d\\)\\s+-\\s+-")),
                "measured on one side only\n" + diff);
        assertTrue(diff.lines().anyMatch(l -> l.matches("\\s+rest-json peak / in-process peak\\s+\\d+\\.\\d{3}\\s+\\d+\\.\\d{3}\\s+\\d+\\.\\d\\dx")), diff);

        JsonNode diffJson = RegistryJson.mapper().readTree(ok("diff", "churn:1", "churn:2", "--json").out());
        JsonNode perf = diffJson.get("perf");
        assertTrue(perf.get("left").asText().startsWith("churn/1/perf/"), perf.toString());
        assertTrue(perf.get("entries").size() > 8, perf.toString());
        assertEquals("in-process peak inferences/s", perf.get("entries").get(0).get("key").asText());
    }

    @Test
    void measuresARunningServerByUrl() throws Exception {
        OnnxInferenceService core = OnnxInferenceService.builder().registry(LocalRegistry.open(models)).build();
        BerthServer server = BerthServer.builder().inferenceService(core).host("127.0.0.1").port(0).grpcPort(0).build().start();
        try {
            assertTrue(core.awaitInitialLoad(java.time.Duration.ofMinutes(1)));
            Result run = ok(with(TINY, "perf", "churn:2", "--url", "http://127.0.0.1:" + server.port(),
                    "--grpc", "127.0.0.1:" + server.grpcPort(), "--concurrency", "2", "--batch", "1", "--no-ceiling"));
            assertFalse(run.err().contains("in-process"), run.err());
            Path json = PerfTables.latest(LocalRegistry.open(models), "churn", 2).orElseThrow();
            JsonNode report = RegistryJson.mapper().readTree(json.toFile());
            assertEquals("url", report.get("target").get("mode").asText());
            assertEquals("127.0.0.1:" + server.grpcPort(), report.get("target").get("grpc").asText());
            assertEquals(3, report.get("results").size());
        } finally {
            server.stop();
        }
    }

    private String missingMessage() {
        return berth("show", "churn:9").err().strip().replaceFirst("^berth show: ", "");
    }

    @Test
    void refusesWhatItCannotMeasureInOneLine() {
        Result unknown = berth("perf", "churn:1", "--front-ends", "rest-json,soap");
        assertEquals(2, unknown.code());
        assertEquals("berth perf: unknown front end 'soap' (rest-json, rest-binary, grpc)", unknown.err().strip());

        Result down = berth(with(TINY, "perf", "churn:1", "--url", "http://127.0.0.1:1", "--front-ends", "rest-json", "--no-ceiling"));
        assertEquals(1, down.code());
        List<String> lines = down.err().strip().lines().toList();
        assertEquals("berth perf: rest-json, batch 1: Connection refused", lines.get(lines.size() - 1), down.err());
        assertEquals(1, down.err().strip().lines().filter(l -> l.startsWith("berth perf:")).count(), down.err());

        Result missing = berth("perf", "churn:9");
        assertEquals("berth perf: " + missingMessage(), missing.err().strip());
        assertTrue(LocalRegistry.open(models).perfReports("churn", 1).isEmpty(), "a refused run writes nothing");
    }
}

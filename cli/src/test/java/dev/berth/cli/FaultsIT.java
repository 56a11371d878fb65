package dev.berth.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.registry.testing.Samples;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fault script's checks ({@code bench/faults} runs them with more rounds and writes the figures
 * to a file; CI runs this short form): SIGTERM under load with a slow model in flight, repeated
 * {@code berth.faults.rounds} times (default 1), and a served {@code model.onnx} replaced with
 * garbage. Appends a Markdown summary to {@code berth.faults.out} (default {@code target/faults.md}).
 */
class FaultsIT {
    private static final int ROUNDS = Integer.getInteger("berth.faults.rounds", 1);
    private static final Path OUT = Path.of(System.getProperty("berth.faults.out", "target/faults.md"));

    @TempDir
    Path tmp;

    @Test
    void faults() throws Exception {
        List<String> report = new ArrayList<>();
        report.add("# berth fault script, " + Instant.now().toString().substring(0, 19) + "Z, " + ROUNDS + " round(s)");
        report.add("");
        sigtermUnderLoad(report);
        garbageModel(report);
        Files.createDirectories(OUT.toAbsolutePath().getParent());
        Files.writeString(OUT, String.join("\n", report) + "\n", java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
        System.out.println(String.join("\n", report));
    }

    private void sigtermUnderLoad(List<String> report) throws Exception {
        Path models = SlowModelShutdownIT.registerSlowModel(tmp.resolve("slow"));
        report.add("## SIGTERM under load, slow model in flight (8 keep-alive HTTP/1.1 connections and 2 gRPC channels, grace 2 s, timeout 20 s)");
        report.add("");
        report.add("| round | 200 before | 200 after signal | 503 after signal | dropped | closed as the listener closed | refused (closed, never sent) | not ready after | last answer | exit status | exit after |");
        report.add("|---|---|---|---|---|---|---|---|---|---|---|");
        List<String> failures = new ArrayList<>();
        for (int round = 1; round <= ROUNDS; round++) {
            DrainUnderLoadIT.Drill d = DrainUnderLoadIT.Drill.run(models, 2, 20, 8, Duration.ofMillis(1500));
            long before = d.outcomes.stream().filter(o -> o.status() == 200 && o.answeredMs() < 0).count();
            long after = d.outcomes.stream().filter(o -> o.status() == 200 && o.answeredMs() >= 0).count();
            long unavailable = d.outcomes.stream().filter(o -> o.status() == 503).count();
            long dropped = d.dropped().size();
            long atClose = d.closedAtListenerClose().size();
            long refused = d.outcomes.stream().filter(DrainUnderLoadIT.Outcome::refused).count();
            long other = d.outcomes.stream().filter(o -> o.error() == null && o.status() != 200 && o.status() != 503).count();
            report.add("| " + round + " | " + before + " | " + after + " | " + unavailable + " | " + dropped + " | " + atClose + " | " + refused + " | "
                    + d.notReadyMs + " ms | " + d.lastAnswerMs + " ms | " + d.exitCode + " | " + d.exitMs + " ms |");
            if (dropped > 0 || atClose > 8 || other > 0 || d.exitCode != 143 || d.exitMs >= 20_000 || after == 0) {
                failures.add("round " + round + ": " + d.summary() + "; dropped: "
                        + d.dropped());
            }
        }
        report.add("");
        assertEquals(List.of(), failures);
    }

    private void garbageModel(List<String> report) throws Exception {
        Path models = tmp.resolve("garbage-models");
        StringWriter err = new StringWriter();
        assertEquals(0, BerthMain.run(new PrintWriter(new StringWriter()), new PrintWriter(err), "register",
                Samples.copy(Samples.CHURN, tmp.resolve("churn")).toString(), "--name", "churn", "--models", models.toString()), err.toString());
        byte[] example = Files.readAllBytes(models.resolve("churn/1/example_request.json"));
        report.add("## A served model.onnx overwritten with garbage");
        report.add("");
        try (ServeProcess serve = ServeProcess.start(models, "--grpc-port", "0", "--drain-grace-seconds", "0", "--open-repository-api")) {
            assertEquals(200, serve.infer("churn", example).statusCode());
            Path file = models.resolve("churn/1/model.onnx");
            file.toFile().setWritable(true);
            Files.writeString(file, "garbage, not an ONNX model");
            ObjectMapper json = new ObjectMapper();
            JsonNode entry = null;
            while (System.nanoTime() < serve.deadline()) {
                entry = index(serve, json);
                if (entry.path("reason").asText().contains("refused")) {
                    break;
                }
                Thread.sleep(200);
            }
            assertTrue(entry != null && entry.path("reason").asText().contains("refused"), "the index says the reload was refused: " + entry);
            Thread.sleep(5000); // two more registry polls: none may retry or log the same files again
            HttpResponse<String> infer = serve.infer("churn", example);
            HttpResponse<String> load = post(serve.base(), "/v2/repository/models/churn/load");
            String metrics = serve.get("/metrics").body();
            long refusalLines = serve.log().stream().filter(l -> l.contains("churn") && l.contains("refused")).count();
            double ready = metric(metrics, "berth_model_ready\\{[^}]*model=\"churn\"[^}]*version=\"1\"[^}]*}");
            double failures = metric(metrics, "berth_model_load_failures_total\\{[^}]*model=\"churn\"[^}]*version=\"1\"[^}]*}");
            entry = index(serve, json);
            report.add("| check | answer |");
            report.add("|---|---|");
            report.add("| inference after the overwrite | " + infer.statusCode() + " |");
            report.add("| repository index | " + entry.path("state").asText() + ": " + entry.path("reason").asText().replace("|", "/") + " |");
            report.add("| repository load | " + load.statusCode() + " " + load.body().replace("|", "/") + " |");
            report.add("| berth_model_ready | " + ready + " |");
            report.add("| berth_model_load_failures_total (after the explicit load) | " + failures + " |");
            report.add("| log lines about the refusal over 3 polls and a load | " + refusalLines + " |");
            report.add("");
            assertEquals(200, infer.statusCode(), infer.body());
            assertEquals("READY", entry.path("state").asText());
            assertTrue(load.statusCode() >= 400 && load.body().contains("refused"), load.statusCode() + " " + load.body());
            assertEquals(1.0, ready);
            assertEquals(2.0, failures, "the poll's refusal and the explicit load's");
            assertEquals(2, refusalLines, "one line for the poll, one for the explicit load: " + serve.log());
        }
    }

    private static JsonNode index(ServeProcess serve, ObjectMapper json) throws Exception {
        HttpResponse<String> r = post(serve.base(), "/v2/repository/index");
        assertEquals(200, r.statusCode(), r.body());
        return json.readTree(r.body()).get(0);
    }

    private static HttpResponse<String> post(URI base, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}", StandardCharsets.UTF_8)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static double metric(String exposition, String series) {
        Matcher m = Pattern.compile("(?m)^" + series + " (\\S+)$").matcher(exposition);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }
}

package dev.berth.monitoring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Debian's {@code prometheus} binary started on loopback for a test: a free port, a temporary config
 * and storage folder, one-second scrape and rule evaluation intervals. {@link #close} stops it and
 * deletes the folder.
 */
public final class PrometheusServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final Process process;
    private final URI base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private PrometheusServer(Path dir, Process process, URI base) {
        this.dir = dir;
        this.process = process;
        this.base = base;
    }

    /**
     * Starts Prometheus scraping {@code target} (host:port, path {@code /metrics}) as job {@code berth},
     * evaluating {@code ruleFiles}, and waits until it answers queries.
     */
    public static PrometheusServer start(String target, List<Path> ruleFiles) throws IOException, InterruptedException {
        Path binary = Path.of("/usr/bin/prometheus");
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException("Debian's prometheus package is not installed (bash .ci/run installs it)");
        }
        Path dir = Files.createTempDirectory("berth-prometheus-");
        StringBuilder config = new StringBuilder("""
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                  evaluation_interval: 1s
                rule_files:
                """);
        for (Path rules : ruleFiles) {
            config.append("  - \"").append(rules.toAbsolutePath()).append("\"\n");
        }
        config.append("""
                scrape_configs:
                  - job_name: berth
                    metrics_path: /metrics
                    static_configs:
                      - targets: ["%s"]
                """.formatted(target));
        Files.writeString(dir.resolve("prometheus.yml"), config);
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        Process process = new ProcessBuilder(binary.toString(),
                "--config.file=" + dir.resolve("prometheus.yml"),
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("prometheus.log").toFile())
                .start();
        PrometheusServer server = new PrometheusServer(dir, process, URI.create("http://127.0.0.1:" + port));
        try {
            server.awaitReady();
        } catch (RuntimeException | IOException | InterruptedException e) {
            server.close();
            throw e;
        }
        return server;
    }

    private void awaitReady() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("prometheus exited: " + log());
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/-/ready")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("prometheus not ready after 60 s: " + log());
    }

    /** Runs an instant query; the whole {@code /api/v1/query} answer (status, data or error). */
    public JsonNode query(String promql) throws IOException, InterruptedException {
        URI uri = base.resolve("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    /** The result vector of a query that must succeed. */
    public JsonNode result(String promql) throws IOException, InterruptedException {
        JsonNode answer = query(promql);
        if (!"success".equals(answer.path("status").asText())) {
            throw new AssertionError("query failed: " + promql + " -> " + answer);
        }
        return answer.path("data").path("result");
    }

    /** GET of an API path, parsed. */
    public JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    /** Polls {@code promql} until its result satisfies {@code done}. */
    public JsonNode await(String promql, Predicate<JsonNode> done, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = result(promql);
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("timed out waiting on " + promql + ", last " + last + "\nprometheus log: " + log()
                + "\ntargets: " + get("/api/v1/targets"));
    }

    public String log() {
        try {
            String log = Files.readString(dir.resolve("prometheus.log"));
            return log.length() > 4000 ? log.substring(log.length() - 4000) : log;
        } catch (IOException e) {
            return "(no log)";
        }
    }

    @Override
    public void close() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}

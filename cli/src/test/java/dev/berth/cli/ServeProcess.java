package dev.berth.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code berth serve} as a separate JVM, the way users start it: started on a free port, returned
 * once it announced the port and answers ready, stopped with SIGTERM. Closing kills it whatever
 * state the test left it in.
 */
final class ServeProcess implements AutoCloseable {
    private static final Pattern SERVING = Pattern.compile("berth serving .* on http://127\\.0\\.0\\.1:(\\d+)(?: \\(REST\\), gRPC on port (\\d+))?");

    private final Process process;
    private final long deadline;
    private final URI base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Thread drain;
    private String startupLog = "";
    /** The last lines the server wrote, for failure messages. */
    private final java.util.Deque<String> tail = new java.util.ArrayDeque<>();
    /** Every line the server wrote after it announced its port. */
    private final java.util.List<String> log = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    private final StringBuffer output = new StringBuffer();

    private int grpcPort = -1;

    private ServeProcess(Process process, long deadline, int port) {
        this.process = process;
        this.deadline = deadline;
        this.base = URI.create("http://127.0.0.1:" + port);
    }

    /**
     * Starts {@code berth serve --models MODELS --port 0 EXTRA...} and waits (60 s at most) until the
     * server announced its port and {@code /v2/health/ready} answers 200.
     */
    static ServeProcess start(Path models, String... extra) throws IOException, InterruptedException {
        List<String> command = BerthJvm.command("serve", "--models", models.toString(), "--port", "0");
        command.addAll(List.of(extra));
        return start(command, java.util.Map.of());
    }

    /** Starts as {@link #start(Path, String...)} does, but returns once the port is announced, ready or not. */
    static ServeProcess startUnready(Path models, String... extra) throws IOException, InterruptedException {
        List<String> command = BerthJvm.command("serve", "--models", models.toString(), "--port", "0");
        command.addAll(List.of(extra));
        return start(command, java.util.Map.of(), false);
    }

    /**
     * Starts {@code command} (a {@code berth serve ... --port 0}, as a JVM or through the launcher)
     * with {@code environment} added, and waits as {@link #start(Path, String...)} does.
     */
    static ServeProcess start(List<String> command, java.util.Map<String, String> environment) throws IOException, InterruptedException {
        return start(command, environment, true);
    }

    /** As {@link #start(List, java.util.Map)}, with {@code patience} instead of 60 s for the port and readiness. */
    static ServeProcess start(List<String> command, java.util.Map<String, String> environment, Duration patience)
            throws IOException, InterruptedException {
        return start(command, environment, true, patience);
    }

    private static ServeProcess start(List<String> command, java.util.Map<String, String> environment, boolean awaitReady)
            throws IOException, InterruptedException {
        return start(command, environment, awaitReady, Duration.ofSeconds(60));
    }

    private static ServeProcess start(List<String> command, java.util.Map<String, String> environment, boolean awaitReady,
            Duration patience) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(environment);
        // the settings under test come from flags; the environment running the build must not override them
        pb.environment().remove("PORT");
        pb.environment().remove("BERTH_PORT");
        pb.environment().remove("BERTH_REPORT_INTERVAL");
        Process p = pb.start();
        try {
            long deadline = System.nanoTime() + patience.toNanos();
            BufferedReader lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            int port = -1;
            int grpc = -1;
            StringBuilder log = new StringBuilder();
            while (port < 0 && System.nanoTime() < deadline) {
                String line = lines.readLine();
                if (line == null) {
                    break;
                }
                log.append(line).append('\n');
                Matcher m = SERVING.matcher(line);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                    grpc = m.group(2) == null ? -1 : Integer.parseInt(m.group(2));
                }
            }
            assertTrue(port > 0, "server announced its port:\n" + log);
            ServeProcess serve = new ServeProcess(p, deadline, port);
            serve.startupLog = log.toString();
            serve.output.append(log);
            serve.grpcPort = grpc;
            // an unread pipe would block the server once its buffer fills
            serve.drain = Thread.ofPlatform().daemon().start(() -> lines.lines().forEach(l -> {
                serve.remember(l);
                serve.output.append(l).append('\n');
            }));
            if (awaitReady) {
                serve.awaitReady();
            }
            return serve;
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            p.destroyForcibly();
            throw e;
        }
    }

    private void awaitReady() throws IOException, InterruptedException {
        int ready = 0;
        while (ready != 200 && System.nanoTime() < deadline) {
            ready = http.send(HttpRequest.newBuilder(base.resolve("/v2/health/ready")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
            if (ready != 200) {
                Thread.sleep(100);
            }
        }
        assertEquals(200, ready, "ready once the model loaded");
    }

    /** What the server printed up to its "berth serving" line. */
    String startupLog() {
        return startupLog;
    }

    /** {@link System#nanoTime()} at which the start-up's 60 s are over; tests reuse it as their own limit. */
    long deadline() {
        return deadline;
    }

    /** The gRPC port the server announced (-1 when it did not). */
    int grpcPort() {
        return grpcPort;
    }

    /** The server's REST address, {@code http://127.0.0.1:PORT}. */
    URI base() {
        return base;
    }

    /** GET {@code path}, the body as text. */
    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Waits (until the start-up deadline) for a line of the server's output (stdout and stderr) that contains {@code text}. */
    String awaitOutput(String text) throws InterruptedException {
        while (!output.toString().contains(text) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        return output.toString();
    }

    /** POSTs an empty body to {@code path}. */
    HttpResponse<String> post(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** POSTs a JSON inference request to {@code /v2/models/MODEL/infer}. */
    HttpResponse<String> infer(String model, byte[] json) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(base.resolve("/v2/models/" + model + "/infer"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private void remember(String line) {
        log.add(line);
        synchronized (tail) {
            tail.addLast(line);
            if (tail.size() > 40) {
                tail.removeFirst();
            }
        }
    }

    /** Every line the server wrote after it announced its port, so far. */
    java.util.List<String> log() {
        synchronized (log) {
            return java.util.List.copyOf(log);
        }
    }

    /** The last 40 lines the server wrote after it announced its port. */
    String tail() {
        synchronized (tail) {
            return String.join("\n", tail);
        }
    }

    /** POSTs a JSON inference request without waiting for the answer. */
    java.util.concurrent.CompletableFuture<HttpResponse<String>> inferAsync(String model, byte[] json) {
        return http.sendAsync(HttpRequest.newBuilder(base.resolve("/v2/models/" + model + "/infer"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Waits for the process to end; true if it did within the time. */
    boolean waitFor(long time, TimeUnit unit) throws InterruptedException {
        boolean done = process.waitFor(time, unit);
        if (done) {
            drain.join(5000);
        }
        return done;
    }

    /** The exit status of the ended process. */
    int exitCode() {
        return process.exitValue();
    }

    /** Sends SIGTERM and asserts the server exits within 30 s. */
    void stop() throws InterruptedException {
        process.destroy();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "stopped within 30 s of SIGTERM");
        drain.join(5000);
    }

    /** Sends SIGKILL, as the OOM killer or a node failure would, and waits until the process is gone. */
    void kill() throws InterruptedException {
        process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "gone after SIGKILL");
    }

    /** Everything the process printed so far (stdout and stderr). */
    String output() {
        return output.toString();
    }

    /** The server JVM's process: the launched process, or the JVM the launcher script exec'ed into. */
    ProcessHandle handle() {
        return process.toHandle();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}

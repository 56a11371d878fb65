package dev.berth.conformance;

import dev.berth.cli.BerthMain;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code berth serve} as a child JVM, started the way a user starts it, with REST and gRPC on
 * ports picked free at run time. {@link #start} returns once {@code /v2/health/ready} answers 200;
 * {@link #close} always ends the process. Its output goes to a log file beside the test's files,
 * which failure messages name.
 */
final class ServeProcess implements AutoCloseable {
    private static final HttpClient PLAIN = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final HttpClient http;
    private final String scheme;
    private final Process process;
    private final int restPort;
    private final int grpcPort;
    private final Path log;

    private ServeProcess(Process process, int restPort, int grpcPort, Path log, javax.net.ssl.SSLContext tls) {
        this.http = tls == null ? PLAIN : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).sslContext(tls).build();
        this.scheme = tls == null ? "http" : "https";
        this.process = process;
        this.restPort = restPort;
        this.grpcPort = grpcPort;
        this.log = log;
    }

    /**
     * JVM options for a server whose resident memory a test judges: a fixed heap (SerialGC, as the launcher
     * uses) with every page touched at start, so RSS growth is memory outside the Java heap (metaspace, code,
     * threads, ONNX Runtime, malloc) rather than a heap still touching its committed pages.
     */
    static final List<String> PRETOUCHED_HEAP = List.of("-XX:+UseSerialGC", "-Xms384m", "-Xmx384m", "-XX:+AlwaysPreTouch");

    /**
     * Starts {@code berth serve --models MODELS --host 127.0.0.1 --port P --grpc-port G} and waits
     * until it is ready; {@code readyWithin} bounds the wait (a registry of many models loads longer).
     */
    static ServeProcess start(Path models, Path log, Duration readyWithin) throws IOException, InterruptedException {
        return start(models, log, readyWithin, null);
    }

    /**
     * The same with more flags; {@code tls} (trusting the server's certificate) when those flags
     * make REST https.
     */
    static ServeProcess start(Path models, Path log, Duration readyWithin, javax.net.ssl.SSLContext tls, String... extraFlags)
            throws IOException, InterruptedException {
        return start(List.of(), models, log, readyWithin, tls, extraFlags);
    }

    /**
     * The same with options for the server's JVM before the main class ({@code -Xmx1g} is always
     * there; a later {@code -Xmx} wins).
     */
    static ServeProcess start(List<String> jvmOptions, Path models, Path log, Duration readyWithin, javax.net.ssl.SSLContext tls,
            String... extraFlags) throws IOException, InterruptedException {
        int[] ports = freePorts(2);
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Files.createDirectories(log.getParent());
        // the class path goes in an argument file: ONNX Runtime 1.29.0's native start-up dies with SIGSEGV
        // when the process's command line is longer than about 4 KB (docs/conformance.md)
        Path argFile = log.resolveSibling(log.getFileName() + ".args");
        Files.writeString(argFile, "-cp\n" + argFileQuoted(System.getProperty("java.class.path")) + "\n");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx1g"));
        command.addAll(jvmOptions);
        command.addAll(List.of("@" + argFile, BerthMain.class.getName(),
                "serve", "--models", models.toString(), "--host", "127.0.0.1",
                "--port", Integer.toString(ports[0]), "--grpc-port", Integer.toString(ports[1])));
        command.addAll(List.of(extraFlags));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        // the settings come from the flags; the environment running the build must not override them
        for (String v : List.of("PORT", "BERTH_PORT", "BERTH_GRPC_PORT", "BERTH_HOST", "BERTH_MODELS", "BERTH_REPORT_INTERVAL")) {
            pb.environment().remove(v);
        }
        ServeProcess serve = new ServeProcess(pb.start(), ports[0], ports[1], log, tls);
        try {
            serve.awaitReady(readyWithin);
            return serve;
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            serve.close();
            throw e;
        }
    }

    private void awaitReady(Duration within) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        int status = -1;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("berth serve exited with " + process.exitValue() + " before it was ready; log: " + log
                        + "\n" + tail());
            }
            try {
                status = http.send(HttpRequest.newBuilder(rest().resolve("/v2/health/ready")).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode();
                if (status == 200) {
                    return;
                }
            } catch (IOException notListeningYet) {
                // the JVM is still starting
            }
            Thread.sleep(200);
        }
        throw new AssertionError("berth serve not ready within " + within.toSeconds() + " s (last /v2/health/ready: " + status
                + "); log: " + log + "\n" + tail());
    }

    /** An argument-file token: quoted, with backslashes and quotes escaped, as the java launcher reads them. */
    private static String argFileQuoted(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** Ports that were free a moment ago on 127.0.0.1 (held together so that they differ). */
    static int[] freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
    }

    URI rest() {
        return URI.create(scheme + "://127.0.0.1:" + restPort);
    }

    String grpcTarget() {
        return "127.0.0.1:" + grpcPort;
    }

    long pid() {
        return process.pid();
    }

    Path log() {
        return log;
    }

    /** Whether the process runs and answers {@code /v2/health/live} with 200. */
    boolean aliveAndLive() {
        if (!process.isAlive()) {
            return false;
        }
        try {
            return http.send(HttpRequest.newBuilder(rest().resolve("/v2/health/live")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The exit status if the process has ended, for messages. */
    String state() {
        return process.isAlive() ? "running" : "exited with " + process.exitValue();
    }

    /** The last lines of the server's log, for failure messages. */
    String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}

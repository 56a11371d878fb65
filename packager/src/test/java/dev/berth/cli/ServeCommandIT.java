package dev.berth.cli;

import dev.berth.registry.testing.Samples;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code berth serve} as a real process: serves a registered model, answers, and stops cleanly on SIGTERM. */
class ServeCommandIT {
    @TempDir
    Path tmp;

    @Test
    void servesTheRegistryAndStopsOnSigterm() throws Exception {
        Path models = tmp.resolve("models");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out), new PrintWriter(err), "register",
                Samples.copy(Samples.CHURN, tmp.resolve("churn")).toString(), "--name", "churn", "--models", models.toString());
        assertEquals(0, code, err.toString());

        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), BerthMain.class.getName(),
                "serve", "--models", models.toString(), "--port", "0")
                .redirectErrorStream(true);
        pb.environment().remove("PORT");
        pb.environment().remove("BERTH_PORT");
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
            Thread drain = Thread.ofPlatform().daemon().start(() -> lines.lines().forEach(l -> { }));

            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            URI base = URI.create("http://127.0.0.1:" + port);
            int ready = 0;
            while (ready != 200 && System.nanoTime() < deadline) {
                ready = http.send(HttpRequest.newBuilder(base.resolve("/v2/health/ready")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode();
                if (ready != 200) {
                    Thread.sleep(100);
                }
            }
            assertEquals(200, ready, "ready once the model loaded");
            byte[] example = Files.readAllBytes(models.resolve("churn").resolve("1").resolve("example_request.json"));
            HttpResponse<String> infer = http.send(HttpRequest.newBuilder(base.resolve("/v2/models/churn/infer"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(example)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, infer.statusCode(), infer.body());
            assertTrue(infer.body().contains("\"probabilities\""), infer.body());

            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "stopped within 30 s of SIGTERM");
            drain.join(5000);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void missingRegistryFolderIsAOneLineError() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out), new PrintWriter(err), "serve", "--models", tmp.resolve("nope").toString());
        assertEquals(ErrorHandler.MISUSE, code);
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        assertTrue(err.toString().contains("no registry folder"), err.toString());
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            StringWriter busyErr = new StringWriter();
            int busy = BerthMain.run(new PrintWriter(out), new PrintWriter(busyErr), "serve", "--models", tmp.toString(),
                    "--port", Integer.toString(taken.getLocalPort()));
            assertEquals(ErrorHandler.FAILURE, busy);
            assertEquals(1, busyErr.toString().strip().lines().count(), busyErr.toString());
            assertTrue(busyErr.toString().contains("cannot listen"), busyErr.toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        int badPort = BerthMain.run(new PrintWriter(out), new PrintWriter(err), "serve", "--models", tmp.toString(), "--port", "99999");
        assertEquals(ErrorHandler.MISUSE, badPort);
    }
}

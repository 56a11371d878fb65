package dev.berth.server;

import dev.berth.monitoring.BerthMetrics;
import dev.berth.registry.LocalRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static dev.berth.server.Churn.EXAMPLE;
import static dev.berth.server.Churn.inferBody;

/**
 * Run by {@link FullDiskIT} inside a mount namespace where {@code args[0]} is a small tmpfs: serves
 * churn with its reports on that file system, fills it, serves, frees it, fills it again and stops,
 * printing {@code key=value} lines for the test to judge.
 */
public final class FullDiskProbe {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private FullDiskProbe() {
    }

    public static void main(String[] args) throws Exception {
        Path small = Path.of(args[0]);
        Path models = Path.of(args[1]);
        Path reports = Files.createDirectories(small.resolve("reports"));
        Path filler = fill(small, "filler-1");
        BerthMetrics metrics = BerthMetrics.builder().registry(LocalRegistry.open(models).withReportsDir(reports))
                .reportInterval(Duration.ofMillis(400)).build();
        BerthServer server = BerthServer.builder().models(models).port(0).monitoring(metrics).build().start();
        Churn.awaitReady(server, "churn");
        System.out.println("served_while_full=" + serve(server, 10) + "/10");
        Thread.sleep(1000);
        System.out.println("failures=" + failures(server));
        System.out.println("reports_while_full=" + count(reports, ".json"));
        System.out.println("tmp_while_full=" + count(reports, ".tmp"));
        Files.delete(filler);
        Thread.sleep(1500);
        System.out.println("reports_after_freeing=" + count(reports, ".json"));
        fill(small, "filler-2");
        System.out.println("served_full_again=" + serve(server, 3) + "/3");
        server.stop();
        metrics.close();
        System.out.println("tmp_after_stop=" + count(reports, ".tmp"));
        System.out.println("done");
    }

    private static int serve(BerthServer server, int requests) throws Exception {
        int ok = 0;
        for (int i = 0; i < requests; i++) {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v2/models/churn/infer"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(inferBody(EXAMPLE))).build(),
                    HttpResponse.BodyHandlers.ofString());
            ok += r.statusCode() == 200 ? 1 : 0;
            Thread.sleep(100);
        }
        return ok;
    }

    private static double failures(BerthServer server) throws Exception {
        String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("(?m)^berth_report_failures_total\\{[^}]*model=\"churn\"[^}]*} (\\S+)$").matcher(body);
        double sum = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
        }
        return sum;
    }

    /** Writes into {@code name} until the file system says it is full. */
    private static Path fill(Path dir, String name) throws IOException {
        Path file = dir.resolve(name);
        byte[] block = new byte[4096];
        try (OutputStream out = Files.newOutputStream(file)) {
            while (true) {
                out.write(block);
            }
        } catch (IOException full) {
            if (!String.valueOf(full.getMessage()).contains("space")) {
                throw full;
            }
        }
        return file;
    }

    private static long count(Path dir, String suffix) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(suffix)).count();
        }
    }
}

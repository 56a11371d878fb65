package dev.berth.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.oci.DockerRegistry;
import dev.berth.registry.testing.Samples;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code berth serve --models oci://...} as separate JVMs against docker-registry: two servers
 * follow one repository's alias tag, a registry down at start serves the cache, a registry that
 * goes away later changes nothing.
 */
class ServeOciIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String POLL = "1s";

    @TempDir
    Path tmp;

    static String berth(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BerthMain.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        assertEquals(0, code, String.join(" ", args) + "\n" + out + err);
        return out.toString();
    }

    /** The version that answered a request for churn's production alias. */
    static String productionVersion(ServeProcess serve, byte[] request) throws IOException, InterruptedException {
        var r = serve.infer("churn/versions/production", request);
        if (r.statusCode() != 200) {
            return "HTTP " + r.statusCode();
        }
        return JSON.readTree(r.body()).path("model_version").asText();
    }

    @Test
    void twoServersFollowTheAliasTagAndOutliveTheRegistry() throws Exception {
        Path laptop = tmp.resolve("laptop");
        Path sample = Samples.copy(Samples.CHURN, tmp.resolve("sample"));
        berth("register", sample.toString(), "--name", "churn", "--models", laptop.toString());
        Files.writeString(sample.resolve("training_log.txt"), "retrained\n");
        berth("register", sample.toString(), "--name", "churn", "--models", laptop.toString());
        byte[] request = Files.readAllBytes(laptop.resolve("churn/1/example_request.json"));
        try (DockerRegistry registry = DockerRegistry.start()) {
            String repo = registry.address() + "/ml/churn";
            berth("push", "churn:1", repo, "--insecure-registry", "--models", laptop.toString());
            berth("push", "churn:2", repo, "--insecure-registry", "--models", laptop.toString());
            berth("alias", repo, "production", "1", "--insecure-registry");
            String source = "oci://" + repo;
            List<String> flags = List.of("--insecure-registry", "--poll-interval", POLL, "--report-interval", "2s");
            Path cacheA = tmp.resolve("cache-a");
            Path cacheB = tmp.resolve("cache-b");
            try (ServeProcess a = serve(source, cacheA, flags); ServeProcess b = serve(source, cacheB, flags)) {
                assertTrue(a.startupLog().contains("churn versions [1, 2] (pulled [1, 2])"), a.startupLog());
                assertEquals("1", productionVersion(a, request));
                assertEquals("1", productionVersion(b, request));

                long moved = System.nanoTime();
                berth("alias", repo, "production", "2", "--insecure-registry");
                long seenA = awaitVersion(a, request, "2");
                long seenB = awaitVersion(b, request, "2");
                double secondsA = (seenA - moved) / 1e9;
                double secondsB = (seenB - moved) / 1e9;
                System.out.printf("alias tag moved: server A serves it after %.2f s, server B after %.2f s (poll %s, folder poll 2 s)%n",
                        secondsA, secondsB, POLL);
                // one tag poll plus the folder registry's own 2 s poll, with room for a loaded machine
                assertTrue(secondsA < 8 && secondsB < 8, secondsA + " s / " + secondsB + " s");

                // both servers' reports on version 2 reach the registry as referrers of its manifest
                String v2 = registry.head("/v2/ml/churn/manifests/2").headers().firstValue("Docker-Content-Digest").orElseThrow();
                java.util.Set<String> sources = awaitReportSources(registry, v2, 2);
                assertEquals(2, sources.size(), sources.toString());
                String reports = berth("report", repo + ":2", "--insecure-registry");
                assertTrue(reports.startsWith("monitoring reports of churn:2 (" + repo + ")"), reports);
                assertTrue(reports.lines().count() >= 4, "a header and at least two reports:\n" + reports);

                // the registry goes away: nothing served changes, through several polls
                registry.stopProcess();
                Thread.sleep(3500);
                assertEquals("2", productionVersion(b, request));
                assertEquals(200, b.get("/v2/health/ready").statusCode());
                assertEquals(200, b.get("/v2/models/churn/versions/1").statusCode());
                a.stop();

                // a server started while the registry is down serves its cache and says so
                try (ServeProcess c = serve(source, cacheA, flags)) {
                    assertTrue(c.startupLog().contains("cannot be read") && c.startupLog().contains("serving the cached copy")
                            && c.startupLog().contains("churn [1, 2]"), c.startupLog());
                    assertEquals("2", productionVersion(c, request));

                    // the registry is back: the next poll picks up a change again
                    registry.startProcess();
                    berth("alias", repo, "production", "1", "--insecure-registry");
                    awaitVersion(c, request, "1");
                    awaitVersion(b, request, "1");
                }
            }
        }
    }

    /** Waits until the referrers tag of a version lists reports from {@code count} servers; returns their names. */
    private static java.util.Set<String> awaitReportSources(DockerRegistry registry, String digest, int count) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        java.util.Set<String> sources = new java.util.TreeSet<>();
        while (System.nanoTime() < deadline) {
            var r = registry.get("/v2/ml/churn/manifests/" + digest.replace(':', '-'));
            if (r.statusCode() == 200) {
                sources.clear();
                for (var d : JSON.readTree(r.body()).path("manifests")) {
                    assertEquals("application/vnd.berth.monitoring-report.v1", d.path("artifactType").asText());
                    var report = JSON.readTree(registry.get("/v2/ml/churn/manifests/" + d.path("digest").asText()).body());
                    assertEquals(digest, report.path("subject").path("digest").asText(), "the report refers to the version");
                    sources.add(d.path("annotations").path("dev.berth.report.source").asText());
                }
                if (sources.size() >= count) {
                    return sources;
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("reports from " + sources + " only, expected " + count + " servers");
    }

    private static ServeProcess serve(String source, Path cache, List<String> flags) throws IOException, InterruptedException {
        List<String> command = BerthJvm.command("serve", "--models", source, "--cache", cache.toString(), "--port", "0");
        command.addAll(flags);
        return ServeProcess.start(command, java.util.Map.of());
    }

    private static long awaitVersion(ServeProcess serve, byte[] request, String version) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        String seen = "";
        while (System.nanoTime() < deadline) {
            seen = productionVersion(serve, request);
            if (seen.equals(version)) {
                return System.nanoTime();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("production still answered by version " + seen + " after 30 s, expected " + version);
    }
}

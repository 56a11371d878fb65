package dev.berth.packager;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged image runs: podman pulls it by digest from the loopback registry, starts it as its
 * non-root user on the ports given by {@code PORT} and {@code BERTH_GRPC_PORT}, with a read-only root filesystem, and it
 * answers the churn example request with what ONNX Runtime computes for the same model in this JVM, and the gRPC health
 * check the generated manifests' readiness probe makes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServeImageIT {
    private PackagingFixture fixture;
    private LocalOciRegistry registry;
    private Podman podman;
    private Path models;

    @BeforeAll
    void setUp() throws IOException {
        fixture = PackagingFixture.start("berth-serve-image-", true, true);
        registry = fixture.registry();
        podman = fixture.podman();
        models = fixture.models();
    }

    @AfterAll
    void tearDown() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void packagedImageServesCorrectPredictions() throws Exception {
        String base = fixture.baseImage();
        String image = registry.address() + "/models/churn:1";
        Cli.Run run = Cli.packageCommand("churn:1", "--image", image, "--base-image", base, "--insecure-registry",
                "--models", models.toString(), "--work-dir", fixture.work().toString());
        assertEquals(0, run.exitCode(), run.describe());
        String digest = run.lastLine();

        int port = LocalOciRegistry.freePort();
        int grpcPort = LocalOciRegistry.freePort();
        String byDigest = registry.address() + "/models/churn@" + digest;
        // as the generated Kubernetes manifests run it: read-only root, a writable /tmp, no capabilities
        // (host networking: both ports are taken from the free ones, never the image's 8080 and 8081)
        // the reports folder is a tmpfs as the manifests' emptyDir; reports every second so that one is written here
        String container = podman.run("run", "-d", "--name", "berth-churn-" + port, "--env", "PORT=" + port,
                "--env", "BERTH_GRPC_PORT=" + grpcPort, "--env", "BERTH_REPORT_INTERVAL=1s", "--read-only", "--tmpfs", "/tmp",
                "--tmpfs", ImagePackager.REPORTS_DIR + ":rw,mode=1777", "--cap-drop", "ALL", byDigest).trim();
        try {
            String url = "http://127.0.0.1:" + port;
            ServingChecks.awaitReady(podman, container, url);
            assertEquals(200, ServingChecks.get(url + "/v2/health/live").statusCode());
            ServingChecks.assertGrpcServing(grpcPort);

            assertEquals("65532:65532", podman.run("inspect", "--format", "{{.Config.User}}", container).trim());
            String hostUser = podman.run("top", container, "huser").lines().skip(1).findFirst().orElse("").trim();
            assertEquals("65532", hostUser, "the server process runs as the image's numeric user");

            JsonNode metadata = ServingChecks.getJson(url + "/v2/models/churn");
            assertEquals("[\"1\"]", metadata.path("versions").toString(), "the image serves exactly the packaged version");
            ServingChecks.assertChurnPredictions(url, models.resolve("churn/1/model.onnx"));
            // the image sets no token: load and unload are closed, not open to whoever reaches the port
            var unload = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create(url + "/v2/repository/models/churn/unload")).POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(403, unload.statusCode(), unload.body());
            // the predictions above fill a window: a report is written to the writable folder (the image has no
            // shell to list it; the server's own counters say it), and none failed to be written
            String metrics = "";
            for (int i = 0; i < 50 && !metrics.matches("(?s).*berth_reports_written_total\\{[^}]*\\} [1-9].*"); i++) {
                Thread.sleep(200);
                metrics = ServingChecks.get(url + "/metrics").body();
            }
            Cmd.Result logged = podman.exec("logs", container);
            String serverLog = logged.out() + logged.err();
            assertTrue(metrics.matches("(?s).*berth_reports_written_total\\{[^}]*\\} [1-9].*"), "no report written:\n" + serverLog);
            assertTrue(!metrics.matches("(?s).*berth_report_failures_total\\{[^}]*\\} [1-9].*"), metrics);
            String logs = podman.run("logs", container);
            assertTrue(!logs.contains("AccessDeniedException") && !logs.contains("cannot write monitoring report"), logs);
        } finally {
            podman.exec("rm", "--force", "--time", "2", container);
        }
    }
}

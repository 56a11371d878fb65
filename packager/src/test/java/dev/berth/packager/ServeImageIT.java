package dev.berth.packager;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The packaged image runs: podman pulls it by digest from the loopback registry, starts it as its
 * non-root user on the port given by {@code PORT}, with a read-only root filesystem, and it answers the churn example request with
 * what ONNX Runtime computes for the same model in this JVM.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServeImageIT {
    private LocalOciRegistry registry;
    private Podman podman;
    private Path temp;
    private Path models;

    @BeforeAll
    void setUp() throws IOException {
        temp = Files.createTempDirectory("berth-serve-image-");
        models = temp.resolve("models");
        ChurnRegistry.create(models);
        registry = LocalOciRegistry.start();
        podman = Podman.start(List.of(registry.address()));
    }

    @AfterAll
    void tearDown() {
        if (podman != null) {
            podman.close();
        }
        if (registry != null) {
            registry.close();
        }
        Cmd.deleteTree(temp);
    }

    @Test
    void packagedImageServesCorrectPredictions() throws Exception {
        String base = OfflineBaseImage.pushTo(registry, "berth-test/base:1");
        String image = registry.address() + "/models/churn:1";
        Cli.Run run = Cli.packageCommand("churn:1", "--image", image, "--base-image", base, "--insecure-registry",
                "--models", models.toString(), "--work-dir", temp.resolve("work").toString());
        assertEquals(0, run.exitCode(), run.describe());
        String digest = run.lastLine();

        int port = LocalOciRegistry.freePort();
        String byDigest = registry.address() + "/models/churn@" + digest;
        // as the generated Kubernetes manifests run it: read-only root, a writable /tmp, no capabilities
        String container = podman.run("run", "-d", "--name", "berth-churn-" + port, "--env", "PORT=" + port,
                "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", byDigest).trim();
        try {
            String url = "http://127.0.0.1:" + port;
            ServingChecks.awaitReady(podman, container, url);
            assertEquals(200, ServingChecks.get(url + "/v2/health/live").statusCode());

            assertEquals("65532:65532", podman.run("inspect", "--format", "{{.Config.User}}", container).trim());
            String hostUser = podman.run("top", container, "huser").lines().skip(1).findFirst().orElse("").trim();
            assertEquals("65532", hostUser, "the server process runs as the image's numeric user");

            JsonNode metadata = ServingChecks.getJson(url + "/v2/models/churn");
            assertEquals("[\"1\"]", metadata.path("versions").toString(), "the image serves exactly the packaged version");
            ServingChecks.assertChurnPredictions(url, models.resolve("churn/1/model.onnx"));
        } finally {
            podman.exec("rm", "--force", "--time", "2", container);
        }
    }
}

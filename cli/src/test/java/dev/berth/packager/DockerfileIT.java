package dev.berth.packager;

import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import dev.berth.cli.ServingJars;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The top-level Dockerfile builds with {@code podman build} offline and the image serves the
 * repository's models mounted at /models. The Maven stage would need minutes and the network,
 * so the test passes {@code APP_SOURCE}: an image holding the jars this build just made; the
 * runtime stage, which is what users run, is the file's own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DockerfileIT {
    private PackagingFixture fixture;
    private LocalOciRegistry registry;
    private Podman podman;
    private Path temp;

    @BeforeAll
    void setUp() throws Exception {
        fixture = PackagingFixture.start("berth-dockerfile-", false, true);
        temp = fixture.temp();
        registry = fixture.registry();
        podman = fixture.podman();
    }

    @AfterAll
    void tearDown() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void dockerfileBuildsAnImageThatServesTheMountedRegistry() throws Exception {
        String base = fixture.baseImage();
        String app = pushPrebuiltApp();
        Path repo = ChurnRegistry.repositoryModels().getParent();
        String tag = "localhost/berth-dockerfile:test";
        podman.run("build", "--network", "host", "--pull=missing",
                "--build-arg", "APP_SOURCE=" + app, "--build-arg", "RUNTIME_IMAGE=" + base, "--build-arg", "BUILD_IMAGE=" + base,
                "-f", repo.resolve("Dockerfile").toString(), "-t", tag, repo.toString());
        assertEquals("65532:65532", podman.run("image", "inspect", "--format", "{{.User}}", tag).trim());

        Path models = temp.resolve("models");
        ChurnRegistry.create(models);
        int port = LocalOciRegistry.freePort();
        int grpcPort = LocalOciRegistry.freePort();
        String container = podman.run("run", "-d", "--env", "PORT=" + port, "--env", "BERTH_GRPC_PORT=" + grpcPort,
                "-v", models + ":/models:ro", tag).trim();
        try {
            String url = "http://127.0.0.1:" + port;
            ServingChecks.awaitReady(podman, container, url);
            assertTrue(ServingChecks.getJson(url + "/v2/models/churn").path("versions").size() >= 1);
            ServingChecks.assertChurnPredictions(url, models.resolve("churn/1/model.onnx"));
            ServingChecks.assertGrpcServing(grpcPort);
        } finally {
            podman.exec("rm", "--force", "--time", "2", container);
        }
    }

    /** An image holding /app/lib as the Dockerfile's build stage lays it out: the serving jars alone. */
    private String pushPrebuiltApp() throws Exception {
        FileEntriesLayer.Builder layer = FileEntriesLayer.builder().setName("app");
        AbsoluteUnixPath lib = AbsoluteUnixPath.get("/app/lib");
        for (Path jar : ServingJars.locate().classPath()) {
            layer.addEntry(jar, lib.resolve(jar.getFileName().toString()));
        }
        String ref = registry.address() + "/berth-test/app:1";
        Jib.fromScratch().addFileEntriesLayer(layer.build()).containerize(Containerizer.to(RegistryImage.named(ref))
                .setAllowInsecureRegistries(true)
                .setBaseImageLayersCache(temp.resolve("cache/base")).setApplicationLayersCache(temp.resolve("cache/app")));
        return ref;
    }
}

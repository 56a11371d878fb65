package dev.berth.packager;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What the packaging integration tests share: a temporary folder, optionally a copy of the churn
 * registry in it, a loopback OCI registry, optionally an isolated podman that trusts it, and the
 * offline base image pushed there on first use. {@link #close()} stops what was started and
 * removes the folder.
 */
final class PackagingFixture implements AutoCloseable {
    private final Path temp;
    private Path models;
    private LocalOciRegistry registry;
    private Podman podman;
    private String baseImage;

    private PackagingFixture(Path temp) {
        this.temp = temp;
    }

    /**
     * @param tempPrefix   the temporary folder's name prefix, naming the test that left it
     * @param churnModels  whether to copy the churn model into {@code models/} under it
     * @param withPodman   whether to start podman
     */
    static PackagingFixture start(String tempPrefix, boolean churnModels, boolean withPodman) throws IOException {
        PackagingFixture f = new PackagingFixture(Files.createTempDirectory(tempPrefix));
        try {
            if (churnModels) {
                f.models = f.temp.resolve("models");
                ChurnRegistry.create(f.models);
            }
            f.registry = LocalOciRegistry.start();
            if (withPodman) {
                f.podman = Podman.start(List.of(f.registry.address()));
            }
            return f;
        } catch (IOException | RuntimeException | Error e) {
            f.close();
            throw e;
        }
    }

    Path temp() {
        return temp;
    }

    /** The churn registry copy; only when started with {@code churnModels}. */
    Path models() {
        return models;
    }

    /** The work folder the tests pass as {@code --work-dir}. */
    Path work() {
        return temp.resolve("work");
    }

    LocalOciRegistry registry() {
        return registry;
    }

    /** Only when started with {@code withPodman}. */
    Podman podman() {
        return podman;
    }

    /** The offline base image's reference in the loopback registry, pushed on the first call. */
    String baseImage() {
        if (baseImage == null) {
            baseImage = OfflineBaseImage.pushTo(registry, "berth-test/base:1");
        }
        return baseImage;
    }

    @Override
    public void close() {
        try {
            if (podman != null) {
                podman.close();
            }
        } finally {
            if (registry != null) {
                registry.close();
            }
            Cmd.deleteTree(temp);
        }
    }
}

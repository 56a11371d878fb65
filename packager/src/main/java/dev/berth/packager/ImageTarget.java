package dev.berth.packager;

import java.nio.file.Path;

/** Where a built image goes: a registry, a local Docker daemon, or a tarball that {@code docker load} reads. */
public sealed interface ImageTarget {
    /** Pushes to the registry named by the image reference. */
    record Registry() implements ImageTarget {
        @Override
        public String toString() {
            return "registry";
        }
    }

    /** Loads into the Docker daemon through the {@code docker} command. */
    record Docker() implements ImageTarget {
        @Override
        public String toString() {
            return "docker";
        }
    }

    /** Writes a docker-archive tarball. */
    record Tar(Path file) implements ImageTarget {
        @Override
        public String toString() {
            return "tar:" + file;
        }
    }

    /** The registry named by the image reference (the default). */
    static ImageTarget registry() {
        return new Registry();
    }

    /** The local Docker daemon. */
    static ImageTarget docker() {
        return new Docker();
    }

    /** A docker-archive tarball at {@code file}. */
    static ImageTarget tar(Path file) {
        return new Tar(file);
    }

    /** Parses {@code registry}, {@code docker} or {@code tar:FILE}. */
    static ImageTarget parse(String text) {
        if (text == null || text.isBlank() || text.equals("registry")) {
            return registry();
        }
        if (text.equals("docker")) {
            return docker();
        }
        if (text.startsWith("tar:") && text.length() > 4) {
            return tar(Path.of(text.substring(4)));
        }
        throw new PackagingException.InvalidOptionException("'" + text + "' is not a target: use registry, docker or tar:FILE");
    }
}

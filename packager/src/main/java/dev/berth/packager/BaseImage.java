package dev.berth.packager;

import java.nio.file.Path;

/** The image the model image is built on: a registry reference or a local docker-archive tarball. */
public sealed interface BaseImage {
    /**
     * The default base: Eclipse Temurin's Java 21 JRE image, an official image maintained by
     * Adoptium and rebuilt for Java updates and OS security fixes, for amd64 and arm64; a runtime
     * without compiler, on glibc, which ONNX Runtime's native library needs.
     */
    String DEFAULT_REFERENCE = "eclipse-temurin:21-jre";

    /** An image in a registry, for example {@code eclipse-temurin:21-jre} or {@code 127.0.0.1:5000/base:1}. */
    record Reference(String reference) implements BaseImage {
        @Override
        public String toString() {
            return reference;
        }
    }

    /** A docker-archive tarball ({@code docker save}, {@code skopeo copy ... docker-archive:FILE}). */
    record Tar(Path file) implements BaseImage {
        @Override
        public String toString() {
            return "tar:" + file;
        }
    }

    /** {@link #DEFAULT_REFERENCE}. */
    static BaseImage defaultImage() {
        return new Reference(DEFAULT_REFERENCE);
    }

    /** Parses {@code REF} or {@code tar:FILE}. */
    static BaseImage parse(String text) {
        if (text == null || text.isBlank()) {
            return defaultImage();
        }
        if (text.startsWith("tar:")) {
            if (text.length() == 4) {
                throw new PackagingException.InvalidOptionException("'tar:' needs a file name: tar:FILE");
            }
            return new Tar(Path.of(text.substring(4)));
        }
        return new Reference(text);
    }
}

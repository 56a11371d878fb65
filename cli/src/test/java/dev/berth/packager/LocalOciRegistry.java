package dev.berth.packager;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.oci.DockerRegistry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;

/**
 * A real OCI registry on loopback for the packaging tests: the oci module's {@link DockerRegistry}
 * (Debian's {@code docker-registry}) with the manifest and blob reads these tests make.
 */
final class LocalOciRegistry implements AutoCloseable {
    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final DockerRegistry registry;

    private LocalOciRegistry(DockerRegistry registry) {
        this.registry = registry;
    }

    static LocalOciRegistry start() {
        return start(false);
    }

    /** Starts a registry; a read-only one refuses every push, as a registry in maintenance does. */
    static LocalOciRegistry start(boolean readOnly) {
        try {
            return new LocalOciRegistry(readOnly ? DockerRegistry.startReadOnly() : DockerRegistry.start());
        } catch (IOException e) {
            throw new AssertionError("cannot start docker-registry: " + e.getMessage(), e);
        }
    }

    static int freePort() throws IOException {
        return DockerRegistry.freePort();
    }

    String log() {
        return registry.log();
    }

    /** {@code 127.0.0.1:PORT}, the registry part of image references. */
    String address() {
        return registry.address();
    }

    HttpResponse<byte[]> get(String path, String accept) throws IOException {
        return registry.get(path, accept);
    }

    /** The manifest of {@code repository:reference} as JSON, asking for OCI and Docker v2 forms. */
    JsonNode manifest(String repository, String reference) throws IOException {
        HttpResponse<byte[]> r = get("/v2/" + repository + "/manifests/" + reference, OCI_MANIFEST + ", " + DOCKER_MANIFEST);
        if (r.statusCode() != 200) {
            throw new AssertionError("GET manifest " + repository + ":" + reference + " -> " + r.statusCode() + " " + new String(r.body()));
        }
        return JSON.readTree(r.body());
    }

    /** The digest the registry reports for a manifest (header {@code Docker-Content-Digest}). */
    String manifestDigest(String repository, String reference) throws IOException {
        HttpResponse<byte[]> r = get("/v2/" + repository + "/manifests/" + reference, OCI_MANIFEST + ", " + DOCKER_MANIFEST);
        return r.headers().firstValue("Docker-Content-Digest").orElseThrow();
    }

    byte[] blob(String repository, String digest) throws IOException {
        HttpResponse<byte[]> r = get("/v2/" + repository + "/blobs/" + digest, null);
        if (r.statusCode() != 200) {
            throw new AssertionError("GET blob " + digest + " -> " + r.statusCode());
        }
        return r.body();
    }

    JsonNode json(byte[] bytes) throws IOException {
        return JSON.readTree(bytes);
    }

    @Override
    public void close() {
        try {
            registry.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

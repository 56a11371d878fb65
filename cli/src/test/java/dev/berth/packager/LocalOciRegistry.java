package dev.berth.packager;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real OCI registry on loopback for tests: Debian's {@code docker-registry} (CNCF distribution)
 * started with its own config, filesystem storage in a temporary folder, on a free port.
 */
final class LocalOciRegistry implements AutoCloseable {
    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final Process process;
    private final int port;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private LocalOciRegistry(Path dir, Process process, int port) {
        this.dir = dir;
        this.process = process;
        this.port = port;
    }

    static LocalOciRegistry start() {
        return start(false);
    }

    /** Starts a registry; a read-only one refuses every push, as a registry in maintenance does. */
    static LocalOciRegistry start(boolean readOnly) {
        Path dir;
        try {
            dir = Files.createTempDirectory("berth-oci-registry-");
            int port = freePort();
            Files.createDirectories(dir.resolve("data"));
            String config = """
                    version: 0.1
                    log:
                      level: warn
                      accesslog:
                        disabled: true
                    storage:
                      filesystem:
                        rootdirectory: %s
                      delete:
                        enabled: true
                      maintenance:
                        uploadpurging:
                          enabled: false
                        readonly:
                          enabled: %s
                    http:
                      addr: 127.0.0.1:%d
                    """.formatted(dir.resolve("data"), readOnly, port);
            Files.writeString(dir.resolve("config.yml"), config);
            Process process = new ProcessBuilder("docker-registry", "serve", dir.resolve("config.yml").toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
            LocalOciRegistry registry = new LocalOciRegistry(dir, process, port);
            registry.awaitReady();
            return registry;
        } catch (IOException e) {
            throw new AssertionError("cannot start docker-registry: " + e.getMessage(), e);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("docker-registry exited: " + log());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                if (get("/v2/", null).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("docker-registry did not answer within 15 s: " + log());
    }

    String log() {
        try {
            return Files.readString(dir.resolve("registry.log"));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /** {@code 127.0.0.1:PORT}, the registry part of image references. */
    String address() {
        return "127.0.0.1:" + port;
    }

    HttpResponse<byte[]> get(String path, String accept) throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + address() + path)).timeout(Duration.ofSeconds(30));
        if (accept != null) {
            request.header("Accept", accept);
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
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
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Cmd.deleteTree(dir);
    }
}

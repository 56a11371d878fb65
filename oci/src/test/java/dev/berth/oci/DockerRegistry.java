package dev.berth.oci;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's {@code docker-registry} (CNCF distribution) on a free loopback port with filesystem
 * storage in a temporary folder, optionally behind htpasswd basic authentication. It can be
 * stopped and started again on the same port and storage (a registry that goes away).
 */
public final class DockerRegistry implements AutoCloseable {
    private final Path dir;
    private final int port;
    private final String user;
    private final String password;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Process process;

    private DockerRegistry(Path dir, int port, String user, String password) {
        this.dir = dir;
        this.port = port;
        this.user = user;
        this.password = password;
    }

    public static DockerRegistry start() throws IOException {
        return start(null, null);
    }

    /** Starts a registry; with a user, every request needs that user's basic credentials. */
    public static DockerRegistry start(String user, String password) throws IOException {
        return start(user, password, false);
    }

    /** Starts a registry that refuses every push, as a registry in maintenance does. */
    public static DockerRegistry startReadOnly() throws IOException {
        return start(null, null, true);
    }

    private static DockerRegistry start(String user, String password, boolean readOnly) throws IOException {
        Path dir = Files.createTempDirectory("berth-oci-test-registry-");
        int port = freePort();
        Files.createDirectories(dir.resolve("data"));
        String auth = "";
        if (user != null) {
            Files.writeString(dir.resolve("htpasswd"), user + ":" + bcrypt(password) + "\n");
            auth = """
                    auth:
                      htpasswd:
                        realm: berth-test
                        path: %s
                    """.formatted(dir.resolve("htpasswd"));
        }
        Files.writeString(dir.resolve("config.yml"), """
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
                %s""".formatted(dir.resolve("data"), readOnly, port, auth));
        DockerRegistry registry = new DockerRegistry(dir, port, user, password);
        registry.startProcess();
        return registry;
    }

    /** bcrypt, which distribution's htpasswd requires, through Python's crypt module (3.11 still has it). */
    private static String bcrypt(String password) throws IOException {
        Process p = new ProcessBuilder("python3", "-W", "ignore", "-c",
                "import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))", password)
                .redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (p.waitFor() != 0 || !out.startsWith("$2")) {
                throw new IOException("cannot make a bcrypt hash: " + out);
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    public void startProcess() throws IOException {
        process = new ProcessBuilder("docker-registry", "serve", dir.resolve("config.yml").toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("registry.log").toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("docker-registry exited: " + Files.readString(dir.resolve("registry.log")));
            }
            try {
                int status = get("/v2/").statusCode();
                if (status == 200 || status == 401) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            sleep(50);
        }
        throw new IOException("docker-registry did not answer within 15 s");
    }

    /** Stops the process; the storage stays, so {@link #startProcess} brings the same registry back. */
    public void stopProcess() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public String address() {
        return "127.0.0.1:" + port;
    }

    /** A GET on the registry's HTTP API (with the credentials when it has a user). */
    public HttpResponse<byte[]> get(String path) throws IOException {
        return get(path, "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json");
    }

    /** A GET asking for the media types in {@code accept} (none when null). */
    public HttpResponse<byte[]> get(String path, String accept) throws IOException {
        return send(HttpRequest.newBuilder(URI.create("http://" + address() + path)).GET(), accept);
    }

    /** What the registry process wrote, for a test's failure message. */
    public String log() {
        try {
            return Files.readString(dir.resolve("registry.log"));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /** A free loopback port, for a test that needs one nothing listens on. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    public HttpResponse<byte[]> head(String path) throws IOException {
        return send(HttpRequest.newBuilder(URI.create("http://" + address() + path)).method("HEAD", HttpRequest.BodyPublishers.noBody()),
                "application/vnd.oci.image.manifest.v1+json");
    }

    private HttpResponse<byte[]> send(HttpRequest.Builder b, String accept) throws IOException {
        b.timeout(Duration.ofSeconds(30));
        if (accept != null) {
            b.header("Accept", accept);
        }
        if (user != null) {
            b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes()));
        }
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** The blob files in the registry's storage (one per distinct digest, whatever the repository). */
    List<Path> storedBlobs() throws IOException {
        Path blobs = dir.resolve("data/docker/registry/v2/blobs/sha256");
        List<Path> found = new ArrayList<>();
        if (Files.isDirectory(blobs)) {
            try (Stream<Path> files = Files.walk(blobs)) {
                files.filter(p -> p.getFileName().toString().equals("data")).forEach(found::add);
            }
        }
        return found;
    }

    /** The file in storage holding a blob's bytes. */
    Path blobFile(String digest) {
        String hex = digest.substring("sha256:".length());
        return dir.resolve("data/docker/registry/v2/blobs/sha256").resolve(hex.substring(0, 2)).resolve(hex).resolve("data");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws IOException {
        stopProcess();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}

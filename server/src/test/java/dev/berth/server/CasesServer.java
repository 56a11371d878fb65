package dev.berth.server;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * A real server on ephemeral ports over {@link Cases#registry the test models}, started once for a
 * test class and stopped after it:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final CasesServer SERVER = CasesServer.with(b -> b.maxRequestBytes(1 << 20));
 * }</pre>
 */
final class CasesServer implements BeforeAllCallback, AfterAllCallback {
    private final UnaryOperator<BerthServer.Builder> options;
    private Path models;
    private BerthServer server;

    private CasesServer(UnaryOperator<BerthServer.Builder> options) {
        this.options = options;
    }

    /** A server with the default options. */
    static CasesServer create() {
        return new CasesServer(UnaryOperator.identity());
    }

    /** A server with options added to {@code models(..).port(0)}. */
    static CasesServer with(UnaryOperator<BerthServer.Builder> options) {
        return new CasesServer(options);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        models = Files.createTempDirectory("berth-cases-");
        Cases.registry(models);
        server = options.apply(BerthServer.builder().models(models).port(0)).build().start();
        Cases.awaitReady(server, 120);
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        try {
            if (server != null) {
                server.stop();
            }
        } finally {
            if (models != null) {
                try (Stream<Path> files = Files.walk(models)) {
                    for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }

    BerthServer server() {
        return server;
    }

    /** The REST port. */
    int port() {
        return server.port();
    }

    /** Sends one raw HTTP request on a new connection and reads the answer. */
    RawHttp.Answer exchange(String request) throws Exception {
        try (RawHttp http = new RawHttp(server.port())) {
            return http.send(request).read();
        }
    }
}

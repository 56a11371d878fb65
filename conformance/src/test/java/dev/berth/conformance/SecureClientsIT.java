package dev.berth.conformance;

import dev.berth.server.TestCertificates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.DynamicTest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code berth serve --tls-cert --tls-key --inference-token-file} called by Python {@code requests}
 * and {@code grpcio} as users call a secured server: trusting a CA that {@code openssl} makes for the
 * run, with the token in the {@code Authorization} header or gRPC metadata.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecureClientsIT {
    private static final String TOKEN = "conformance-" + Long.toHexString(System.nanoTime());
    private Clients clients;
    private ServeProcess serve;
    private Path out;
    private Path ca;

    @BeforeAll
    void startServer() throws Exception {
        clients = Clients.setUp();
        out = TestRegistry.fresh(clients.out.resolve("secure"));
        Path registry = out.resolve("registry");
        copy(Path.of("..", "models", "churn", "1"), registry.resolve("churn").resolve("1"));
        TestCertificates authority = TestCertificates.authority(out, "berth conformance CA");
        ca = authority.caCertificate();
        TestCertificates.Issued server = authority.loopbackServer("server");
        Path key = server.key();
        Path cert = server.certificate();
        Path tokens = Files.writeString(out.resolve("tokens"), "# rotated tokens, one per line\nold-token\n" + TOKEN + "\n");
        serve = ServeProcess.start(registry, out.resolve("berth-serve.log"), Duration.ofSeconds(90), authority.trustingContext(),
                "--tls-cert", cert.toString(), "--tls-key", key.toString(), "--inference-token-file", tokens.toString());
    }

    @AfterAll
    void stopServer() {
        if (serve != null) {
            serve.close();
        }
    }

    @TestFactory
    Stream<DynamicTest> pythonRequestsAndGrpcioOverTlsWithAToken() throws Exception {
        Path result = out.resolve("python-secure.json");
        Clients.Run run = clients.python("secure_checks.py", Duration.ofMinutes(2), out.resolve("python-secure.out"),
                "--url", serve.rest().toString(), "--target", serve.grpcTarget(), "--ca", ca.toString(), "--token", TOKEN,
                "--stubs", clients.stubs.toString(), "--out", result.toString());
        String log = Files.readString(serve.log());
        assertTrue(!log.contains(TOKEN), "the token never reaches the server's log");
        return CheckResults.tests(result, run, 8);
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : files.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else if (!p.toString().contains("/monitoring/")) {
                    Files.copy(p, target);
                }
            }
        }
    }
}

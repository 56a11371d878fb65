package dev.berth.conformance;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.DynamicTest;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
        ca = out.resolve("ca.crt");
        Path caKey = out.resolve("ca.key");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=berth conformance CA",
                "-keyout", caKey.toString(), "-out", ca.toString());
        Path key = out.resolve("server.key");
        Path csr = out.resolve("server.csr");
        Path cert = out.resolve("server.crt");
        Path ext = Files.writeString(out.resolve("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", key.toString(), "-out", csr.toString());
        openssl("x509", "-req", "-in", csr.toString(), "-CA", ca.toString(), "-CAkey", caKey.toString(), "-CAcreateserial",
                "-days", "2", "-extfile", ext.toString(), "-out", cert.toString());
        Path tokens = Files.writeString(out.resolve("tokens"), "# rotated tokens, one per line\nold-token\n" + TOKEN + "\n");
        serve = ServeProcess.start(registry, out.resolve("berth-serve.log"), Duration.ofSeconds(90), trusting(ca),
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

    private static void openssl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "openssl finished");
        assertEquals(0, p.exitValue(), command + ":\n" + output);
    }

    private static SSLContext trusting(Path caFile) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = Files.newInputStream(caFile)) {
            store.setCertificateEntry("ca", (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}

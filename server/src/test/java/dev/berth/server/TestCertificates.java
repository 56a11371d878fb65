package dev.berth.server;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A certificate authority that Debian's {@code openssl} makes in a test's folder, the certificates it
 * issues, and a client context that trusts it: what a secured berth is tested with. In the server's
 * test-jar, so that the server's own tests and the outside-in clients (conformance) use one CA recipe.
 */
public final class TestCertificates {
    /** A key and the certificate the CA issued for it. */
    public record Issued(Path key, Path certificate) {
    }

    private final Path dir;
    private final Path caCertificate;
    private final Path caKey;

    private TestCertificates(Path dir, Path caCertificate, Path caKey) {
        this.dir = dir;
        this.caCertificate = caCertificate;
        this.caKey = caKey;
    }

    /** A new CA named {@code commonName} ({@code ca.crt}, {@code ca.key}) in {@code dir}, valid for two days. */
    public static TestCertificates authority(Path dir, String commonName) throws Exception {
        Files.createDirectories(dir);
        Path cert = dir.resolve("ca.crt");
        Path key = dir.resolve("ca.key");
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=" + commonName, "-keyout", key.toString(), "-out", cert.toString());
        return new TestCertificates(dir, cert, key);
    }

    /** The CA's certificate (PEM), what clients are told to trust. */
    public Path caCertificate() {
        return caCertificate;
    }

    /**
     * A key and certificate {@code NAME.key} / {@code NAME.crt} for {@code commonName}, signed by this CA,
     * with one X.509 v3 extension line ({@code subjectAltName=IP:127.0.0.1}, {@code extendedKeyUsage=clientAuth}, ...).
     */
    public Issued issue(String name, String commonName, String extension) throws Exception {
        Path key = dir.resolve(name + ".key");
        Path cert = dir.resolve(name + ".crt");
        Path csr = dir.resolve(name + ".csr");
        Path ext = Files.writeString(dir.resolve(name + ".ext"), extension + "\n");
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=" + commonName,
                "-keyout", key.toString(), "-out", csr.toString());
        openssl("x509", "-req", "-in", csr.toString(), "-CA", caCertificate.toString(), "-CAkey", caKey.toString(),
                "-CAcreateserial", "-days", "2", "-extfile", ext.toString(), "-out", cert.toString());
        return new Issued(key, cert);
    }

    /** A server certificate for {@code 127.0.0.1} and {@code localhost}, as the tests' clients connect. */
    public Issued loopbackServer(String name) throws Exception {
        return issue(name, "127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost");
    }

    /** A TLS context that trusts this CA and nothing else. */
    public SSLContext trustingContext() throws Exception {
        return trusting(caCertificate);
    }

    /** A TLS context that trusts the CA certificate in {@code caFile} and nothing else. */
    public static SSLContext trusting(Path caFile) throws Exception {
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

    /** Runs {@code openssl ARGS...}; fails the test with its output unless it exits 0 within a minute. */
    public static String openssl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), command + " finished");
        assertEquals(0, p.exitValue(), command + ":\n" + out);
        return out;
    }
}

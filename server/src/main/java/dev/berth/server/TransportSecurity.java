package dev.berth.server;

import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.helidon.common.configurable.Resource;
import io.helidon.common.pki.Keys;
import io.helidon.common.tls.Tls;
import io.helidon.common.tls.TlsClientAuth;
import io.helidon.common.tls.TlsConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS for both listeners from PEM files: the server's certificate chain and private key (PKCS#8,
 * what {@code openssl} writes by default), and optionally the CA whose client certificates the
 * server requires (mutual TLS). Read and checked once at start-up, so that a wrong path or a key that
 * does not parse is one line naming the file, before any port is bound; then handed to Helidon (REST)
 * and grpc-java (gRPC) in the form each takes.
 */
public final class TransportSecurity {
    private final Path certChain;
    private final Path privateKey;
    private final Optional<Path> clientCa;
    private final Tls rest;
    private final ServerCredentials grpc;

    private TransportSecurity(Path certChain, Path privateKey, Optional<Path> clientCa) {
        this.certChain = certChain;
        this.privateKey = privateKey;
        this.clientCa = clientCa;
        List<X509Certificate> chain = certificates(certChain, "--tls-cert");
        PrivateKey key = privateKey(privateKey);
        TlsConfig.Builder tls = Tls.builder().privateKey(key).privateKeyCertChain(chain);
        TlsServerCredentials.Builder credentials = TlsServerCredentials.newBuilder();
        try {
            credentials.keyManager(certChain.toFile(), privateKey.toFile());
            if (clientCa.isPresent()) {
                List<X509Certificate> trusted = certificates(clientCa.get(), "--tls-client-ca");
                tls.trust(trusted).clientAuth(TlsClientAuth.REQUIRED);
                credentials.trustManager(clientCa.get().toFile()).clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("TLS files cannot be read: " + e.getMessage(), e);
        }
        this.rest = tls.build();
        this.grpc = credentials.build();
    }

    /**
     * @param certChain  PEM certificate chain, the server's certificate first
     * @param privateKey PEM private key of that certificate (PKCS#8, unencrypted)
     * @param clientCa   PEM certificates of the CA(s) client certificates must chain to; empty: no client certificates asked
     * @throws IllegalArgumentException naming the file that is missing or does not parse
     */
    public static TransportSecurity of(Path certChain, Path privateKey, Optional<Path> clientCa) {
        return new TransportSecurity(Objects.requireNonNull(certChain, "certChain"), Objects.requireNonNull(privateKey, "privateKey"),
                Objects.requireNonNull(clientCa, "clientCa"));
    }

    /** Helidon's TLS for the REST listener. */
    Tls rest() {
        return rest;
    }

    /** grpc-java's credentials for the gRPC listener. */
    ServerCredentials grpc() {
        return grpc;
    }

    /** Whether clients must present a certificate. */
    public boolean requiresClientCertificates() {
        return clientCa.isPresent();
    }

    @Override
    public String toString() {
        // paths only: key material never reaches a log line
        return "TLS with " + certChain + " and " + privateKey + clientCa.map(ca -> ", client certificates from " + ca).orElse("");
    }

    private static List<X509Certificate> certificates(Path file, String option) {
        readable(file, option);
        try {
            List<X509Certificate> certs = Keys.builder().pem(p -> p.certificates(Resource.create(file))).build().certs();
            if (certs.isEmpty()) {
                throw new IllegalArgumentException(option + " " + file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
            }
            return certs;
        } catch (RuntimeException e) {
            if (e instanceof IllegalArgumentException) {
                throw e;
            }
            throw new IllegalArgumentException(option + " " + file + " is not a PEM certificate file: " + firstLine(e), e);
        }
    }

    private static PrivateKey privateKey(Path file) {
        readable(file, "--tls-key");
        try {
            return Keys.builder().pem(p -> p.key(Resource.create(file))).build().privateKey()
                    .orElseThrow(() -> new IllegalArgumentException("--tls-key " + file + " holds no PEM private key"));
        } catch (RuntimeException e) {
            if (e instanceof IllegalArgumentException) {
                throw e;
            }
            throw new IllegalArgumentException("--tls-key " + file + " is not an unencrypted PEM private key (PKCS#8 or PKCS#1): "
                    + firstLine(e), e);
        }
    }

    private static void readable(Path file, String option) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IllegalArgumentException(option + " " + file + ": no such readable file");
        }
    }

    private static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m);
    }
}

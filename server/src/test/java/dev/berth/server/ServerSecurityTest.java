package dev.berth.server;

import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.ServerLiveRequest;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static dev.berth.server.Churn.EXAMPLE;
import static dev.berth.server.Churn.awaitReady;
import static dev.berth.server.Churn.copyChurn;
import static dev.berth.server.Churn.grpcRequest;
import static dev.berth.server.Churn.inferBody;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS, mutual TLS and inference tokens through a real server, with certificates {@code openssl}
 * makes for the run, called by curl, the JDK's HTTP client and grpc-java.
 */
class ServerSecurityTest {
    @TempDir
    static Path dir;
    private static Path models;
    private static Path ca;
    private static Path serverCert;
    private static Path serverKey;
    private static Path clientCert;
    private static Path clientKey;

    @BeforeAll
    static void certificates() throws Exception {
        models = dir.resolve("models");
        copyChurn(models);
        TestCertificates authority = TestCertificates.authority(dir, "berth test CA");
        ca = authority.caCertificate();
        TestCertificates.Issued server = authority.loopbackServer("server");
        serverKey = server.key();
        serverCert = server.certificate();
        TestCertificates.Issued client = authority.issue("client", "a client", "extendedKeyUsage=clientAuth");
        clientKey = client.key();
        clientCert = client.certificate();
    }

    /** curl's exit status and output (stdout, then stderr). */
    private static Curl curl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "-w", "\n%{http_code}"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Curl(p.exitValue(), out);
    }

    private record Curl(int exit, String output) {
        String status() {
            return output.substring(output.lastIndexOf('\n') + 1);
        }
    }

    private static BerthServer serve(BerthServer.Builder b) throws InterruptedException {
        BerthServer server = b.models(models).port(0).build().start();
        awaitReady(server, "churn");
        return server;
    }

    @Test
    void restAndGrpcOverTls() throws Exception {
        BerthServer server = serve(BerthServer.builder().tls(TransportSecurity.of(serverCert, serverKey, Optional.empty())));
        try {
            String url = "https://127.0.0.1:" + server.port();
            Curl ready = curl("--cacert", ca.toString(), url + "/v2/health/ready");
            assertEquals("200", ready.status(), ready.output());
            Curl infer = curl("--cacert", ca.toString(), "-H", "Content-Type: application/json", "--data-binary", inferBody(EXAMPLE),
                    url + "/v2/models/churn/infer");
            assertEquals("200", infer.status(), infer.output());
            assertTrue(infer.output().contains("\"model_name\":\"churn\""), infer.output());
            // every HTTP version over TLS: HTTP/1.0 named in ALPN (curl -0), HTTP/2 negotiated by ALPN
            for (String version : List.of("--http1.0", "--http1.1", "--http2")) {
                Curl c = curl("--cacert", ca.toString(), version, "-o", "/dev/null", "-w", "%{http_version}\n%{http_code}", url + "/v2");
                assertEquals("200", c.status(), version + ": " + c.output());
                // curl writes HTTP/1.0 as "1"
                assertTrue(c.output().startsWith(version.equals("--http1.0") ? "1\n" : version.equals("--http1.1") ? "1.1\n" : "2\n"),
                        version + ": " + c.output());
            }
            // a client that does not trust the CA is refused by its own TLS check (curl exit 60)
            assertEquals(60, curl(url + "/v2/health/ready").exit());

            HttpResponse<String> jdk = HttpClient.newBuilder().sslContext(TestCertificates.trusting(ca)).build()
                    .send(HttpRequest.newBuilder(URI.create(url + "/v2")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, jdk.statusCode(), jdk.body());

            ManagedChannel tls = Grpc.newChannelBuilderForAddress("127.0.0.1", server.grpcPort(),
                    TlsChannelCredentials.newBuilder().trustManager(ca.toFile()).build()).overrideAuthority("localhost").build();
            ManagedChannel plain = Grpc.newChannelBuilderForAddress("127.0.0.1", server.grpcPort(), InsecureChannelCredentials.create()).build();
            try {
                var reply = GRPCInferenceServiceGrpc.newBlockingStub(tls).withDeadlineAfter(30, TimeUnit.SECONDS).modelInfer(grpcRequest(EXAMPLE));
                assertEquals("churn", reply.getModelName());
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> GRPCInferenceServiceGrpc.newBlockingStub(plain)
                        .withDeadlineAfter(10, TimeUnit.SECONDS).serverLive(ServerLiveRequest.getDefaultInstance()));
                assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), "plaintext to a TLS port: " + e.getStatus());
            } finally {
                tls.shutdownNow();
                plain.shutdownNow();
            }
        } finally {
            server.stop();
        }
    }

    @Test
    void mutualTlsNeedsAClientCertificate() throws Exception {
        BerthServer server = serve(BerthServer.builder().tls(TransportSecurity.of(serverCert, serverKey, Optional.of(ca))));
        try {
            String url = "https://127.0.0.1:" + server.port() + "/v2/health/ready";
            Curl without = curl("--cacert", ca.toString(), url);
            assertTrue(without.exit() != 0, "no client certificate: the handshake fails: " + without.output());
            Curl with = curl("--cacert", ca.toString(), "--cert", clientCert.toString(), "--key", clientKey.toString(), url);
            assertEquals("200", with.status(), with.output());

            ChannelCredentials anonymous = TlsChannelCredentials.newBuilder().trustManager(ca.toFile()).build();
            ChannelCredentials identified = TlsChannelCredentials.newBuilder().trustManager(ca.toFile())
                    .keyManager(clientCert.toFile(), clientKey.toFile()).build();
            ManagedChannel a = Grpc.newChannelBuilderForAddress("127.0.0.1", server.grpcPort(), anonymous).overrideAuthority("localhost").build();
            ManagedChannel b = Grpc.newChannelBuilderForAddress("127.0.0.1", server.grpcPort(), identified).overrideAuthority("localhost").build();
            try {
                assertThrows(StatusRuntimeException.class, () -> GRPCInferenceServiceGrpc.newBlockingStub(a)
                        .withDeadlineAfter(10, TimeUnit.SECONDS).serverLive(ServerLiveRequest.getDefaultInstance()));
                assertEquals("churn", GRPCInferenceServiceGrpc.newBlockingStub(b).withDeadlineAfter(30, TimeUnit.SECONDS)
                        .modelInfer(grpcRequest(EXAMPLE)).getModelName());
            } finally {
                a.shutdownNow();
                b.shutdownNow();
            }
        } finally {
            server.stop();
        }
    }

    @Test
    void inferenceNeedsOneOfTheTokensAndHealthStaysOpen() throws Exception {
        BerthServer server = serve(BerthServer.builder().inferenceTokens(List.of("first-token", "second-token")));
        try {
            String url = "http://127.0.0.1:" + server.port();
            Curl anonymous = curl("-i", "-H", "Content-Type: application/json", "--data-binary", inferBody(EXAMPLE), url + "/v2/models/churn/infer");
            assertEquals("401", anonymous.status(), anonymous.output());
            assertTrue(anonymous.output().toLowerCase().contains("www-authenticate: bearer"), anonymous.output());
            assertTrue(anonymous.output().contains("{\"error\":\"this server needs a bearer token"), anonymous.output());
            Curl wrong = curl("-H", "Authorization: Bearer guess", "-H", "Content-Type: application/json", "--data-binary", inferBody(EXAMPLE),
                    url + "/v2/models/churn/infer");
            assertEquals("401", wrong.status(), wrong.output());
            assertTrue(wrong.output().contains("invalid bearer token") && !wrong.output().contains("guess"), "the token is not echoed: " + wrong.output());
            Curl second = curl("-H", "Authorization: Bearer second-token", "-H", "Content-Type: application/json", "--data-binary",
                    inferBody(EXAMPLE), url + "/v2/models/churn/infer");
            assertEquals("200", second.status(), second.output());
            assertEquals("401", curl(url + "/v2/models/churn").status(), "metadata is protected too");
            assertEquals("401", curl(url + "/metrics").status(), "so are the metrics on the REST port");
            assertEquals("200", curl(url + "/v2/health/ready").status(), "probes need no token");
            assertEquals("200", curl(url + "/v2/health/live").status(), "probes need no token");

            ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.grpcPort(), InsecureChannelCredentials.create()).build();
            try {
                var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(grpcRequest(EXAMPLE)));
                assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
                assertTrue(e.getStatus().getDescription().contains("authorization: Bearer"), e.getStatus().toString());
                Metadata token = new Metadata();
                token.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer first-token");
                assertEquals("churn", stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(token))
                        .modelInfer(grpcRequest(EXAMPLE)).getModelName());
                assertTrue(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive(), "ServerLive needs no token");
                assertEquals(HealthCheckResponse.ServingStatus.SERVING, HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.getDefaultInstance()).getStatus(), "gRPC health needs no token");
            } finally {
                channel.shutdownNow();
            }
        } finally {
            server.stop();
        }
    }

    @Test
    void badTlsFilesAreOneLineNamingTheFile() throws Exception {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> TransportSecurity.of(dir.resolve("nope.crt"), serverKey, Optional.empty()));
        assertTrue(missing.getMessage().contains("nope.crt") && missing.getMessage().lines().count() == 1, missing.getMessage());
        Path garbage = Files.writeString(dir.resolve("garbage.key"), "not a key\n");
        IllegalArgumentException key = assertThrows(IllegalArgumentException.class,
                () -> TransportSecurity.of(serverCert, garbage, Optional.empty()));
        assertTrue(key.getMessage().contains("garbage.key"), key.getMessage());
        IllegalArgumentException cert = assertThrows(IllegalArgumentException.class,
                () -> TransportSecurity.of(serverKey, serverKey, Optional.empty()));
        assertTrue(cert.getMessage().contains("server.key"), cert.getMessage());
    }
}

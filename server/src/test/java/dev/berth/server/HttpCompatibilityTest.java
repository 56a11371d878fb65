package dev.berth.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HTTP the way proxies and old tools speak it, on a real socket against the churn model: HTTP/1.0
 * (nginx's default upstream protocol, ApacheBench, {@code curl -0}), {@code Connection: close}, HEAD,
 * and request lines and headers past the limits.
 */
class HttpCompatibilityTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String INFER = Churn.inferBody(Churn.EXAMPLE);

    @TempDir
    static Path models;
    private static BerthServer server;

    @BeforeAll
    static void start() throws Exception {
        Churn.copyChurn(models);
        server = BerthServer.builder().models(models).port(0).build().start();
        Churn.awaitReady(server, "churn");
    }

    @AfterAll
    static void stop() {
        server.stop();
    }

    private static RawHttp connect() throws IOException {
        return new RawHttp(server.port());
    }

    private static String post(String version, String path, String extraHeaders, String body) {
        return "POST " + path + " " + version + "\r\nContent-Type: application/json\r\n" + extraHeaders
                + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    /** A valid HTTP/1.0 answer: 1.0 status line, a Content-Length, never chunked. */
    private static void assertHttp10(RawHttp.Answer a, int status) {
        assertEquals("HTTP/1.0 " + status, a.statusLine().substring(0, 12), a.statusLine());
        assertNull(a.header("Transfer-Encoding"), "HTTP/1.0 has no chunked encoding: " + a.headers());
        assertTrue(a.headers().containsKey("content-length"), a.headers().toString());
    }

    /**
     * Finding: Helidon's HTTP/1 selector only takes a first line ending in HTTP/1.1 and closed HTTP/1.0
     * connections without a byte, so nginx (HTTP/1.0 to upstreams by default) answered every request 502.
     */
    @Test
    void http10GetIsAnsweredAndTheConnectionClosed() throws Exception {
        try (RawHttp c = connect()) {
            // no Host header: optional in HTTP/1.0
            RawHttp.Answer a = c.send("GET /v2/health/live HTTP/1.0\r\n\r\n").read();
            assertHttp10(a, 200);
            assertEquals("{\"live\":true}", a.text());
            assertEquals("close", a.header("Connection"));
            assertTrue(c.closedByServer(5000), "HTTP/1.0 without keep-alive: the server closes after the answer");
        }
    }

    @Test
    void http10InferAndErrors() throws Exception {
        try (RawHttp c = connect()) {
            RawHttp.Answer a = c.send(post("HTTP/1.0", "/v2/models/churn/infer", "", INFER)).read();
            assertHttp10(a, 200);
            JsonNode outputs = JSON.readTree(a.body()).get("outputs");
            assertEquals("probabilities", outputs.get(0).get("name").asText());
            assertEquals(4, outputs.get(0).get("data").size());
            assertTrue(c.closedByServer(5000));
        }
        try (RawHttp c = connect()) {
            RawHttp.Answer a = c.send("GET /v2/models/nope HTTP/1.0\r\nHost: x\r\n\r\n").read();
            assertHttp10(a, 404);
            assertTrue(JSON.readTree(a.body()).get("error").asText().contains("nope"), a.text());
        }
        try (RawHttp c = connect()) {
            RawHttp.Answer a = c.send(post("HTTP/1.0", "/v2/models/churn/infer", "", "{bad")).read();
            assertHttp10(a, 400);
            assertTrue(JSON.readTree(a.body()).has("error"), a.text());
        }
    }

    @Test
    void http10KeepAliveServesSeveralRequestsOnOneConnection() throws Exception {
        try (RawHttp c = connect()) {
            String keepAlive = "Connection: keep-alive\r\n";
            RawHttp.Answer get = c.send("GET /v2/models/churn HTTP/1.0\r\n" + keepAlive + "\r\n").read();
            assertHttp10(get, 200);
            assertEquals("keep-alive", get.header("Connection"));
            RawHttp.Answer head = c.send("HEAD /v2/models/churn HTTP/1.0\r\n" + keepAlive + "\r\n").read(true);
            assertHttp10(head, 200);
            assertEquals(get.header("Content-Length"), head.header("Content-Length"), "HEAD has GET's length");
            assertEquals(get.body().length, Integer.parseInt(head.header("Content-Length")));
            RawHttp.Answer infer = c.send(post("HTTP/1.0", "/v2/models/churn/infer", keepAlive, INFER)).read();
            assertHttp10(infer, 200);
            assertEquals("keep-alive", infer.header("Connection"));
            assertFalse(c.closedByServer(300), "keep-alive was asked for");
            RawHttp.Answer last = c.send("GET /v2/health/ready HTTP/1.0\r\n\r\n").read();
            assertHttp10(last, 200);
            assertEquals("close", last.header("Connection"));
            assertTrue(c.closedByServer(5000));
        }
    }

    @Test
    void http10RequestLineInPiecesAndBareLineFeeds() throws Exception {
        try (RawHttp c = connect()) {
            c.send("GET /v2/hea");
            Thread.sleep(200); // the first packet holds no line end: the version is not known yet
            RawHttp.Answer a = c.send("lth/live HTTP/1.0\r\n\r\n").read();
            assertHttp10(a, 200);
        }
        try (RawHttp c = connect()) {
            // old tools end lines with LF alone, which RFC 9112 lets a server accept
            RawHttp.Answer a = c.send("GET /v2/health/live HTTP/1.0\nUser-Agent: old\n\n").read();
            assertHttp10(a, 200);
            assertEquals("{\"live\":true}", a.text());
        }
    }

    @Test
    void http10BinaryTensors() throws Exception {
        byte[] header = ("{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[2,8],"
                + "\"parameters\":{\"binary_data_size\":64}}],\"outputs\":[{\"name\":\"probabilities\","
                + "\"parameters\":{\"binary_data\":true}}]}").getBytes(StandardCharsets.UTF_8);
        ByteBuffer floats = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : Churn.EXAMPLE) {
            floats.putFloat(f);
        }
        try (RawHttp c = connect()) {
            c.send(("POST /v2/models/churn/infer HTTP/1.0\r\nInference-Header-Content-Length: " + header.length
                    + "\r\nContent-Length: " + (header.length + 64) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            c.send(header).send(floats.array());
            RawHttp.Answer a = c.read();
            assertHttp10(a, 200);
            int json = Integer.parseInt(a.header("Inference-Header-Content-Length"));
            JsonNode out = JSON.readTree(new String(a.body(), 0, json, StandardCharsets.UTF_8));
            assertEquals(16, out.get("outputs").get(0).get("parameters").get("binary_data_size").asInt());
            assertEquals(json + 16, a.body().length);
        }
    }

    /** The same through curl's own HTTP/1.0 mode. */
    @Test
    void curlHttp10() throws Exception {
        String base = "http://127.0.0.1:" + server.port();
        List<String> get = curl("-0", "-i", base + "/v2/models/churn");
        assertEquals("HTTP/1.0 200 OK", get.getFirst().strip(), get.toString());
        assertTrue(get.stream().anyMatch(l -> l.startsWith("Content-Length: ")), get.toString());
        assertTrue(get.stream().noneMatch(l -> l.startsWith("Transfer-Encoding")), get.toString());
        assertTrue(get.get(get.size() - 2).contains("\"platform\":\"onnxruntime_onnx\""), get.toString());
        Path body = Files.writeString(models.resolveSibling("infer-" + System.nanoTime() + ".json"), INFER);
        List<String> infer = curl("-0", "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@" + body,
                "-i", base + "/v2/models/churn/infer");
        assertEquals("HTTP/1.0 200 OK", infer.getFirst().strip(), infer.toString());
        assertTrue(infer.get(infer.size() - 2).contains("\"probabilities\""), infer.toString());
    }

    /** Runs curl; what it printed, then "HTTP-VERSION STATUS" as the last line (curl writes HTTP/1.0 as "1"). */
    static List<String> curl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "30", "-w", "\n%{http_version} %{http_code}"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "curl did not finish");
        return out.lines().toList();
    }

    /** Finding: Helidon wrote "Connection: close" and then waited for the client's next request. */
    @Test
    void connectionCloseIsHonoured() throws Exception {
        try (RawHttp c = connect()) {
            RawHttp.Answer a = c.send("GET /v2/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").read();
            assertEquals("HTTP/1.1 200 OK", a.statusLine());
            assertEquals("close", a.header("Connection"));
            assertTrue(c.closedByServer(5000), "the server closes after an answer that says Connection: close");
        }
        try (RawHttp c = connect()) {
            RawHttp.Answer a = c.send(post("HTTP/1.1", "/v2/models/churn/infer", "Host: x\r\nConnection: close\r\n", INFER)).read();
            assertEquals(200, a.status());
            assertTrue(c.closedByServer(5000));
        }
        try (RawHttp c = connect()) {
            // without it the connection stays open for the next request
            assertEquals(200, c.send("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
            assertFalse(c.closedByServer(300));
            assertEquals(200, c.send("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n").read().status());
        }
    }

    /** HEAD has exactly GET's headers, the real Content-Length included, and the connection stays in step. */
    @Test
    void headHasTheHeadersOfGet() throws Exception {
        try (RawHttp c = connect()) {
            for (String path : List.of("/v2/health/live", "/v2/health/ready", "/v2", "/v2/models/churn",
                    "/v2/models/churn/versions/1/ready", "/v2/models/nope")) {
                RawHttp.Answer get = c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").read();
                RawHttp.Answer head = c.send("HEAD " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").read(true);
                assertEquals(get.statusLine(), head.statusLine(), path);
                assertEquals(get.header("Content-Type"), head.header("Content-Type"), path);
                assertEquals(Integer.toString(get.body().length), head.header("Content-Length"), path);
            }
            RawHttp.Answer next = c.send("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n").read();
            assertEquals("{\"live\":true}", next.text(), "no HEAD answer carried a body");
        }
    }

    /**
     * Finding (issue 10): a 10,000-character model name in the path dropped the connection without an
     * answer: Helidon's selector gave up on a first line it could not see the end of.
     */
    @Test
    void overLongRequestLinesAndHeadersAreAnsweredWithJson() throws Exception {
        String name = "m".repeat(10_000);
        for (String version : List.of("HTTP/1.1", "HTTP/1.0")) {
            try (RawHttp c = connect()) {
                RawHttp.Answer a = c.send("GET /v2/models/" + name + " " + version + "\r\nHost: x\r\n\r\n").read();
                assertEquals(414, a.status(), a.statusLine());
                assertEquals("application/json", a.header("Content-Type"));
                assertTrue(JSON.readTree(a.body()).get("error").asText().contains("4096"), a.text());
            }
        }
        List<String> viaCurl = curl("http://127.0.0.1:" + server.port() + "/v2/models/" + name + "/infer", "-d", "{}");
        assertEquals("1.1 414", viaCurl.getLast(), viaCurl.toString());
        try (RawHttp c = connect()) {
            RawHttp.Answer a = c.send("GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n").read();
            assertEquals(431, a.status(), a.statusLine());
            assertTrue(JSON.readTree(a.body()).get("error").asText().contains("16384"), a.text());
        }
        try (RawHttp c = connect()) {
            assertEquals(200, c.send("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n").read().status(), "still serving");
        }
    }

    @Test
    void restOverH2cWithPriorKnowledgeAndByUpgrade() throws Exception {
        String answer = curlHttp2("--http2-prior-knowledge", "-H", "Content-Type: application/json", "--data-binary", INFER,
                "http://127.0.0.1:" + server.port() + "/v2/models/churn/infer");
        assertTrue(answer.endsWith("\n2 200"), "prior knowledge (as sidecar proxies connect): HTTP/2 and 200: " + answer);
        assertTrue(JSON.readTree(answer.substring(0, answer.lastIndexOf('\n'))).path("outputs").size() > 0, answer);
        // an upgrade is offered on a request without a body (Helidon keeps HTTP/1.1 for one with a body)
        String upgraded = curlHttp2("--http2", "http://127.0.0.1:" + server.port() + "/v2/health/ready");
        assertTrue(upgraded.endsWith("\n2 200"), "Upgrade: h2c: " + upgraded);
    }

    private static String curlHttp2(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "-o", "-", "-w", "\n%{http_version} %{http_code}"));
        command.addAll(List.of(args));
        Process curl = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, curl.waitFor(), String.join(" ", command) + ": " + out);
        return out;
    }
}

package dev.berth.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.helidon.config.Config;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CORS on a real socket: off by default, on for the configured origins (or any), preflights answered. */
class CorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static FakeCore core;
    private static BerthServer off;
    private static BerthServer listed;
    private static BerthServer any;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        core = new FakeCore();
        off = BerthServer.builder().inferenceService(new FakeCore()).port(0).build().start();
        listed = BerthServer.builder().inferenceService(core).port(0)
                .corsOrigins(List.of("https://app.example", "http://localhost:3000/")).build().start();
        any = BerthServer.builder().inferenceService(new FakeCore()).port(0).corsOrigins(List.of("*")).build().start();
    }

    @AfterAll
    static void stop() {
        off.stop();
        listed.stop();
        any.stop();
    }

    private static RawHttp.Answer exchange(BerthServer server, String request) throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            return c.send(request).read(request.startsWith("HEAD"));
        }
    }

    private static String preflight(String origin, String path) {
        return "OPTIONS " + path + " HTTP/1.1\r\nHost: x\r\nOrigin: " + origin + "\r\nAccess-Control-Request-Method: POST\r\n"
                + "Access-Control-Request-Headers: content-type, inference-header-content-length\r\n\r\n";
    }

    private static String get(String origin) {
        return "GET /v2/health/ready HTTP/1.1\r\nHost: x\r\nOrigin: " + origin + "\r\n\r\n";
    }

    @Test
    void offByDefault() throws Exception {
        RawHttp.Answer simple = exchange(off, get("https://app.example"));
        assertEquals(200, simple.status());
        assertNull(simple.header("Access-Control-Allow-Origin"));
        RawHttp.Answer pre = exchange(off, preflight("https://app.example", "/v2/models/m/infer"));
        assertEquals(405, pre.status(), "no CORS: OPTIONS is just another method the path does not allow");
        assertNull(pre.header("Access-Control-Allow-Origin"));
    }

    @Test
    void preflightFromAnAllowedOrigin() throws Exception {
        for (String path : List.of("/v2/models/m/infer", "/v2/repository/index", "/anywhere")) {
            RawHttp.Answer a = exchange(listed, preflight("https://app.example", path));
            assertEquals(204, a.status(), path);
            assertEquals("https://app.example", a.header("Access-Control-Allow-Origin"));
            assertTrue(a.header("Access-Control-Allow-Methods").contains("POST"), a.headers().toString());
            for (String h : List.of("Inference-Header-Content-Length", "Content-Type", "Authorization", "Content-Encoding")) {
                assertTrue(a.header("Access-Control-Allow-Headers").contains(h), h + " in " + a.headers());
            }
            assertEquals("600", a.header("Access-Control-Max-Age"));
            assertEquals("Origin", a.header("Vary"));
        }
        // configured with a trailing slash, sent by the browser without
        assertEquals(204, exchange(listed, preflight("http://localhost:3000", "/v2/models/m/infer")).status());
    }

    @Test
    void preflightFromAnotherOriginIsRefusedWithJson() throws Exception {
        RawHttp.Answer a = exchange(listed, preflight("https://evil.example", "/v2/models/m/infer"));
        assertEquals(403, a.status());
        assertEquals("application/json", a.header("Content-Type"));
        assertTrue(JSON.readTree(a.body()).get("error").asText().contains("https://evil.example"), a.text());
        assertNull(a.header("Access-Control-Allow-Origin"));
    }

    @Test
    void requestsFromAllowedOriginsExposeTheBinaryProtocolHeaders() throws Exception {
        RawHttp.Answer a = exchange(listed, get("https://app.example"));
        assertEquals(200, a.status());
        assertEquals("https://app.example", a.header("Access-Control-Allow-Origin"));
        assertTrue(a.header("Access-Control-Expose-Headers").contains("Inference-Header-Content-Length"), a.headers().toString());
        assertEquals("Origin", a.header("Vary"));
        // errors carry them too, so that the page can read the JSON error
        RawHttp.Answer missing = exchange(listed, "GET /v2/models/none HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n\r\n");
        assertEquals(404, missing.status());
        assertEquals("https://app.example", missing.header("Access-Control-Allow-Origin"));
        // another origin is served without CORS headers: the browser withholds the answer, other clients get it
        RawHttp.Answer other = exchange(listed, get("https://evil.example"));
        assertEquals(200, other.status());
        assertNull(other.header("Access-Control-Allow-Origin"));
        // no Origin, no CORS
        assertNull(exchange(listed, "GET /v2/health/ready HTTP/1.1\r\nHost: x\r\n\r\n").header("Access-Control-Allow-Origin"));
    }

    @Test
    void anyOrigin() throws Exception {
        RawHttp.Answer a = exchange(any, get("https://whoever.example"));
        assertEquals("*", a.header("Access-Control-Allow-Origin"));
        assertNull(a.header("Vary"), "the same answer for every origin");
        assertEquals(204, exchange(any, preflight("https://whoever.example", "/v2/models/m/infer")).status());
    }

    @Test
    void originsAreCheckedWhenTheServerIsBuilt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BerthServer.builder()
                .inferenceService(new FakeCore()).port(0).corsOrigins(List.of("app.example", "https://ok.example", "https://x/path"))
                .build());
        assertTrue(e.getMessage().contains("app.example") && e.getMessage().contains("https://x/path"), e.getMessage());
        assertTrue(!e.getMessage().contains("https://ok.example"), e.getMessage());
    }

    /** The config key takes a YAML list or a comma-separated string (what the flag and the environment give). */
    @Test
    void configuration() throws Exception {
        Path yaml = Files.writeString(tmp.resolve("cors.yaml"), """
                berth:
                  cors-origins:
                    - https://a.example
                    - https://b.example
                """);
        assertEquals(List.of("https://a.example", "https://b.example"), origins(ServeSettings.load(yaml, Map.of(), Map.of())));
        assertEquals(List.of("https://env.example", "https://env2.example"), origins(ServeSettings.load(yaml,
                Map.of("BERTH_CORS_ORIGINS", "https://env.example, https://env2.example"), Map.of())));
        assertEquals(List.of("https://flag.example"), origins(ServeSettings.load(yaml,
                Map.of("BERTH_CORS_ORIGINS", "https://env.example"), Map.of("cors-origins", "https://flag.example"))));
        assertEquals(List.of("*"), origins(ServeSettings.load(null, Map.of(), Map.of("cors-origins", "*"))));
    }

    /** What the server builder reads from a settings node, as BerthServer.Builder.config does. */
    private static List<String> origins(Config settings) {
        Config node = settings.get("cors-origins");
        return node.isList() && !node.asString().isPresent() ? node.asList(String.class).get()
                : node.asString().map(Cors::split).orElse(List.of());
    }
}

package dev.berth.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Routes and their failures, mapped once for every path, on a real socket of a server without
 * monitoring: HEAD wherever GET works, 405 with Allow from the one failure mapping, and the monitoring
 * paths answered as what they are (not as a model named "stats").
 */
class RoutesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static BerthServer server;

    @BeforeAll
    static void start() {
        server = BerthServer.builder().inferenceService(new FakeCore()).port(0).build().start();
    }

    @AfterAll
    static void stop() {
        server.stop();
    }

    private static HttpResponse<String> send(String method, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String error(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).path("error").asText();
    }

    @Test
    void headAnswersWhereGetDoesWithTheSameHeadersAndNoBody() throws Exception {
        for (String path : new String[] {"/v2", "/v2/health/live", "/v2/models/echo", "/v2/models/echo/versions/1/config",
                "/v2/models/stats", "/metrics"}) {
            HttpResponse<String> get = send("GET", path);
            HttpResponse<String> head = send("HEAD", path);
            assertEquals(get.statusCode(), head.statusCode(), path);
            assertEquals(get.headers().firstValue("content-length"), head.headers().firstValue("content-length"), path);
            assertEquals("", head.body(), path);
        }
    }

    @Test
    void wrongMethodsAre405FromTheOneMapping() throws Exception {
        for (String[] c : new String[][] {{"DELETE", "/v2", "GET, HEAD"}, {"POST", "/metrics", "GET, HEAD"},
                {"PUT", "/v2/models/stats", "GET, HEAD"}, {"GET", "/v2/models/echo/infer", "POST"}}) {
            HttpResponse<String> r = send(c[0], c[1]);
            assertEquals(405, r.statusCode(), c[1]);
            assertEquals(c[2], r.headers().firstValue("allow").orElse(""), c[1]);
            assertEquals("application/json", r.headers().firstValue("content-type").orElse(""), c[1]);
            assertEquals("method " + c[0] + " is not allowed on " + c[1] + "; use " + c[2], error(r));
        }
    }

    @Test
    void withoutMonitoringStatsAndMetricsSaySoInsteadOfLookingUpAModel() throws Exception {
        for (String path : new String[] {"/v2/models/stats", "/v2/models/echo/stats", "/v2/models/echo/versions/1/stats"}) {
            HttpResponse<String> r = send("GET", path);
            assertEquals(404, r.statusCode(), path);
            assertEquals(MonitoringRoutes.NO_STATISTICS, error(r), path);
        }
        HttpResponse<String> metrics = send("GET", "/metrics");
        assertEquals(404, metrics.statusCode());
        assertTrue(error(metrics).contains("no monitoring"), metrics.body());
        HttpResponse<String> nowhere = send("GET", "/nowhere");
        assertEquals("no such endpoint: GET /nowhere", error(nowhere));
    }
}

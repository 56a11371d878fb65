package dev.berth.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The transport ceiling replays a recorded answer byte for byte, with its protocol headers. */
class CeilingServerTest {
    @TempDir
    Path dir;

    @Test
    void answersTheRecordedBodyAndHeaders() throws Exception {
        byte[] body = new byte[70_000];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) (i * 31);
        }
        Files.write(dir.resolve("r.body"), body);
        Files.writeString(dir.resolve("r.headers"), "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                + "Inference-Header-Content-Length: 123\r\nContent-Length: 70000\r\nDate: x\r\n\r\n");
        try (CeilingServer server = CeilingServer.start(0, Map.of("/v2/models/m/infer", CeilingServer.Recorded.read(dir.resolve("r"))))) {
            HttpClient client = HttpClient.newHttpClient();
            HttpResponse<byte[]> res = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v2/models/m/infer"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[5000])).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, res.statusCode());
            assertArrayEquals(body, res.body());
            assertEquals("application/octet-stream", res.headers().firstValue("content-type").orElseThrow());
            assertEquals("123", res.headers().firstValue("inference-header-content-length").orElseThrow());
            assertFalse(res.headers().firstValue("date").orElse("").equals("x"), "recorded Date is not replayed");

            HttpResponse<String> other = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v2/models/other/infer"))
                    .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, other.statusCode());
        }
    }
}

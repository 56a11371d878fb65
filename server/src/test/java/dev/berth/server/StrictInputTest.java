package dev.berth.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The value classes a seeded fuzzer found accepted (issue 10): each is refused with a 400 (or 404
 * for a version that names nothing) whose message names what was wrong, and the well-formed
 * neighbour of each is still served. Real ONNX models, a real socket, bodies sent byte for byte.
 */
class StrictInputTest {
    @RegisterExtension
    static final CasesServer SERVER = CasesServer.with(b -> b.maxRequestBytes(1 << 20));
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static HttpResponse<String> post(String path, byte[] body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + SERVER.port() + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return post(path, body.getBytes(StandardCharsets.UTF_8));
    }

    private static void assertRefused(HttpResponse<String> r, int status, String... fragments) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode body = Cases.JSON.readTree(r.body());
        String error = body.path("error").asText();
        for (String f : fragments) {
            assertTrue(error.contains(f), "expected '" + f + "' in " + r.body());
        }
    }

    private static String fixedBatch(String element) {
        return "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[4,3],\"data\":[" + element
                + ",2,3,4,5,6,7,8,9,10,11,12]}]}";
    }

    @Test
    void numbersThatOverflowTheDatatypeAreRefusedByElement() throws Exception {
        assertRefused(post("/v2/models/fixed_batch/infer", fixedBatch("1e309")), 400, "'x'", "element 0", "1e309");
        // finite as a double, infinite as FP32
        assertRefused(post("/v2/models/fixed_batch/infer", fixedBatch("3.5e38")), 400, "'x'", "element 0");
        assertEquals(200, post("/v2/models/fixed_batch/infer", fixedBatch("\"Infinity\"")).statusCode(),
                "the quoted form the encoder writes still means infinity");
        assertEquals(200, post("/v2/models/fixed_batch/infer", fixedBatch("3.4e38")).statusCode());
    }

    @Test
    void aBareValueOnlyStandsForARankZeroTensor() throws Exception {
        assertRefused(post("/v2/models/strings/infer",
                "{\"inputs\":[{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":\"abc\"}]}"), 400,
                "'text'", "must be an array");
        assertRefused(post("/v2/models/multi_io/infer", "{\"inputs\":["
                + "{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[1,4],\"data\":[1,2,3,4]},"
                + "{\"name\":\"mask\",\"datatype\":\"BOOL\",\"shape\":[1,1],\"data\":true},"
                + "{\"name\":\"scale\",\"datatype\":\"FP32\",\"shape\":[1,1],\"data\":[1]}]}"), 400, "'mask'");
        assertEquals(200, post("/v2/models/scalar_io/infer",
                "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[],\"data\":1.5}]}").statusCode());
    }

    @Test
    void parameterValuesAreBooleansNumbersOrStrings() throws Exception {
        for (String value : new String[] {"{\"a\":1}", "[1,2]", "null"}) {
            assertRefused(post("/v2/models/scalar_io/infer", "{\"parameters\":{\"tag\":" + value + "},"
                    + "\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[],\"data\":1.5}]}"), 400, "'tag'");
            assertRefused(post("/v2/models/scalar_io/infer", "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\","
                    + "\"shape\":[],\"parameters\":{\"tag\":" + value + "},\"data\":1.5}]}"), 400, "'tag'", "input");
        }
        assertEquals(200, post("/v2/models/scalar_io/infer", "{\"parameters\":{\"a\":true,\"b\":2,\"c\":\"x\"},"
                + "\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[],\"data\":1.5}]}").statusCode());
    }

    @Test
    void invalidUtf8IsRefusedWhereverItAppears() throws Exception {
        byte[] overlongSlash = {(byte) 0xc0, (byte) 0xaf};
        byte[] surrogate = {(byte) 0xed, (byte) 0xa0, (byte) 0x80};
        byte[] truncated = {(byte) 0xe2, (byte) 0x82};
        for (byte[] bad : new byte[][] {overlongSlash, surrogate, truncated}) {
            assertRefused(post("/v2/models/scalar_io/infer", body("{\"id\":\"a", bad,
                    "b\",\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[],\"data\":1.5}]}")), 400, "UTF-8");
            assertRefused(post("/v2/models/strings/infer", body("{\"inputs\":[{\"name\":\"text\",\"datatype\":\"BYTES\","
                    + "\"shape\":[1],\"data\":[\"", bad, "\"]}]}")), 400, "UTF-8");
            assertRefused(post("/v2/models/scalar_io/infer", body("{\"parameters\":{\"", bad, "\":1},"
                    + "\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[],\"data\":1.5}]}")), 400, "UTF-8");
        }
        for (String path : new String[] {"/v2/models/%C0%AF/infer", "/v2/models/strings%FF/infer",
                "/v2/models/strings/versions/%ED%A0%80/infer"}) {
            assertRefused(post(path, "{}"), 400, "UTF-8");
        }
        HttpResponse<String> ok = post("/v2/models/strings/infer",
                "{\"id\":\"ü-1\",\"inputs\":[{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"grüße 😀\"]}]}");
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals("ü-1", Cases.JSON.readTree(ok.body()).path("id").asText());
    }

    @Test
    void onlyANumberOrAnAliasNamesAVersion() throws Exception {
        String request = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[],\"data\":1.5}]}";
        assertEquals(200, post("/v2/models/scalar_io/versions/1/infer", request).statusCode());
        for (String version : new String[] {"%20", "%201", "1%20", "+1", "01", "1.0", "-1"}) {
            HttpResponse<String> r = post("/v2/models/scalar_io/versions/" + version + "/infer", request);
            assertRefused(r, 404, "scalar_io");
        }
    }

    private static byte[] body(String head, byte[] bad, String tail) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(head.getBytes(StandardCharsets.UTF_8));
        out.writeBytes(bad);
        out.writeBytes(tail.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }
}

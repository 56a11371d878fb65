package dev.berth.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every REST endpoint and error class, over a real socket, against the in-test core. */
class RestApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "s3cret-token";
    private static FakeCore core;
    private static BerthServer server;

    @BeforeAll
    static void start() {
        core = new FakeCore();
        server = BerthServer.builder().inferenceService(core).port(0).maxRequestBytes(64 * 1024)
                .repositoryToken(TOKEN).build().start();
    }

    @AfterAll
    static void stop() {
        server.stop();
        assertTrue(core.closed.get(), "stopping the server closes the core");
    }

    private static RequestSpecification given() {
        return RestAssured.given().baseUri("http://127.0.0.1").port(server.port());
    }

    private static JsonNode json(Response r) throws Exception {
        return JSON.readTree(r.asByteArray());
    }

    private static Response postJson(String path, String body) {
        return given().contentType("application/json").body(body.getBytes(StandardCharsets.UTF_8)).post(path);
    }

    private static void assertError(Response r, int status, String fragment) throws Exception {
        assertEquals(status, r.statusCode(), r.asString());
        assertTrue(r.contentType().startsWith("application/json"), r.contentType());
        JsonNode body = json(r);
        assertTrue(body.has("error"), r.asString());
        assertTrue(body.get("error").asText().contains(fragment), "expected '" + fragment + "' in " + r.asString());
    }

    @Test
    void health() {
        given().get("/v2/health/live").then().statusCode(200).body("live", equalTo(true));
        given().get("/v2/health/ready").then().statusCode(200).body("ready", equalTo(true));
        core.ready.set(false);
        try {
            given().get("/v2/health/ready").then().statusCode(503).body("ready", equalTo(false))
                    .body("error", containsString("not ready"));
        } finally {
            core.ready.set(true);
        }
    }

    @Test
    void serverMetadata() {
        given().get("/v2").then().statusCode(200)
                .body("name", equalTo("berth"))
                .body("version", not(equalTo("")))
                .body("extensions", hasItems("binary_tensor_data", "model_repository"));
    }

    @Test
    void modelMetadataWithAndWithoutVersion() {
        for (String path : new String[]{"/v2/models/echo", "/v2/models/echo/versions/1", "/v2/models/echo/versions/production"}) {
            given().get(path).then().statusCode(200)
                    .body("name", equalTo("echo"))
                    .body("versions", hasItems("1", "2"))
                    .body("platform", equalTo("onnxruntime_onnx"))
                    .body("inputs[0].name", equalTo("x"))
                    .body("inputs[0].datatype", equalTo("FP32"))
                    .body("inputs[0].shape", equalTo(java.util.List.of(-1, 3)));
        }
    }

    @Test
    void modelReady() throws Exception {
        given().get("/v2/models/echo/ready").then().statusCode(200).body("ready", equalTo(true)).body("name", equalTo("echo"));
        given().get("/v2/models/echo/versions/1/ready").then().statusCode(200).body("ready", equalTo(true));
        given().get("/v2/models/loading/ready").then().statusCode(503).body("ready", equalTo(false));
        assertError(given().get("/v2/models/nope/ready"), 404, "nope");
        assertError(given().get("/v2/models/echo/versions/7/ready"), 404, "7");
    }

    @Test
    void unknownModelOrVersionIs404() throws Exception {
        assertError(given().get("/v2/models/nope"), 404, "nope");
        assertError(given().get("/v2/models/echo/versions/9"), 404, "9");
        assertError(postJson("/v2/models/nope/infer", "{\"inputs\":[]}"), 404, "nope");
        assertError(postJson("/v2/models/echo/versions/canary/infer", "{\"inputs\":[]}"), 404, "canary");
    }

    @Test
    void jsonInferenceEchoesIdAndResolvesVersions() throws Exception {
        String body = "{\"id\":\"req-7\",\"inputs\":[{\"name\":\"x\",\"shape\":[2,3],\"datatype\":\"FP32\","
                + "\"data\":[[1,2.5,-3],[4,5,6e-3]]}]}";
        Response r = postJson("/v2/models/echo/infer", body);
        assertEquals(200, r.statusCode(), r.asString());
        JsonNode j = json(r);
        assertEquals("echo", j.get("model_name").asText());
        assertEquals("2", j.get("model_version").asText());
        assertEquals("req-7", j.get("id").asText());
        JsonNode out = j.get("outputs").get(0);
        assertEquals("FP32", out.get("datatype").asText());
        assertEquals("[2,3]", out.get("shape").toString());
        assertEquals("[1.0,2.5,-3.0,4.0,5.0,0.006]", out.get("data").toString());

        assertEquals("1", json(postJson("/v2/models/echo/versions/1/infer", body)).get("model_version").asText());
        assertEquals("2", json(postJson("/v2/models/echo/versions/production/infer", body)).get("model_version").asText());
        assertEquals("production", core.last.get().version());
    }

    @Test
    void requestedOutputsAndParametersReachTheCore() throws Exception {
        String body = "{\"parameters\":{\"priority\":3,\"tag\":\"a\"},\"inputs\":["
                + "{\"name\":\"a\",\"shape\":[1],\"datatype\":\"INT32\",\"data\":[1]},"
                + "{\"name\":\"b\",\"shape\":[1],\"datatype\":\"INT32\",\"data\":[2]}],"
                + "\"outputs\":[{\"name\":\"b\"}]}";
        JsonNode j = json(postJson("/v2/models/echo/infer", body));
        assertEquals(1, j.get("outputs").size());
        assertEquals("b", j.get("outputs").get(0).get("name").asText());
        assertEquals(3L, core.last.get().parameters().get("priority"));
        assertEquals("a", core.last.get().parameters().get("tag"));
        assertError(postJson("/v2/models/echo/infer", body.replace("{\"name\":\"b\"}", "{\"name\":\"zz\"}")), 400, "zz");
    }

    @Test
    void binaryInputsAndOutputs() throws Exception {
        String header = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"UINT32\",\"parameters\":{\"binary_data_size\":16}},"
                + "{\"name\":\"s\",\"shape\":[2],\"datatype\":\"BYTES\",\"parameters\":{\"binary_data_size\":14}}],"
                + "\"outputs\":[{\"name\":\"x\",\"parameters\":{\"binary_data\":true}},{\"name\":\"s\"}]}";
        ByteBuffer data = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN);
        data.putInt(1).putInt(2).putInt(-1).putInt(4); // -1 is 4294967295 as UINT32
        data.putInt(3).put("abc".getBytes(StandardCharsets.UTF_8)).putInt(3).put("\u00e9t".getBytes(StandardCharsets.UTF_8));
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(h);
        body.write(data.array());
        Response r = given().contentType("application/octet-stream")
                .header("Inference-Header-Content-Length", h.length)
                .body(body.toByteArray()).post("/v2/models/echo/infer");
        assertEquals(200, r.statusCode(), r.asString());
        assertEquals("application/octet-stream", r.contentType());
        int jsonLength = Integer.parseInt(r.header("Inference-Header-Content-Length"));
        byte[] all = r.asByteArray();
        JsonNode j = JSON.readTree(Arrays.copyOf(all, jsonLength));
        JsonNode x = j.get("outputs").get(0);
        assertEquals(16, x.get("parameters").get("binary_data_size").asInt());
        assertTrue(!x.has("data"));
        assertArrayEquals(Arrays.copyOf(data.array(), 16), Arrays.copyOfRange(all, jsonLength, jsonLength + 16));
        assertEquals(jsonLength + 16, all.length);
        assertEquals("[\"abc\",\"\u00e9t\"]", j.get("outputs").get(1).get("data").toString());

        // binary_data_output makes every output binary, BYTES in Triton's length-prefixed layout
        String allBinary = header.replace("\"outputs\":[{\"name\":\"x\",\"parameters\":{\"binary_data\":true}},{\"name\":\"s\"}]",
                "\"parameters\":{\"binary_data_output\":true}");
        byte[] h2 = allBinary.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream body2 = new ByteArrayOutputStream();
        body2.write(h2);
        body2.write(data.array());
        Response r2 = given().header("Inference-Header-Content-Length", h2.length).body(body2.toByteArray())
                .post("/v2/models/echo/infer");
        assertEquals(200, r2.statusCode(), r2.asString());
        int len2 = Integer.parseInt(r2.header("Inference-Header-Content-Length"));
        byte[] all2 = r2.asByteArray();
        assertArrayEquals(data.array(), Arrays.copyOfRange(all2, len2, all2.length));
    }

    @Test
    void clientMistakesAre400s() throws Exception {
        String ok = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"%s\",\"data\":%s}]}";
        assertError(postJson("/v2/models/echo/infer", "{\"inputs\":[{\"name\":"), 400, "malformed JSON");
        assertError(postJson("/v2/models/echo/infer", "not json"), 400, "malformed JSON");
        assertError(postJson("/v2/models/echo/infer", ok.formatted("FP32", "[1, NaN]")), 400, "malformed JSON");
        assertError(postJson("/v2/models/echo/infer", ok.formatted("FP64", "[Infinity, 1]")), 400, "malformed JSON");
        assertError(postJson("/v2/models/echo/infer", ok.formatted("INT32", "[1, 2.5]")), 400, "not an integer");
        assertError(postJson("/v2/models/echo/infer", ok.formatted("INT8", "[1, 300]")), 400, "out of range");
        assertError(postJson("/v2/models/echo/infer", ok.formatted("UINT64", "[1, -1]")), 400, "out of range");
        assertError(postJson("/v2/models/echo/infer", ok.formatted("UINT64", "[1, 18446744073709551616]")), 400, "out of range");
        assertError(postJson("/v2/models/echo/infer", ok.formatted("FP32", "[1, true]")), 400, "must be a number");
        assertError(postJson("/v2/models/echo/infer", ok.formatted("BOOL", "[1, 0]")), 400, "true or false");
        assertError(postJson("/v2/models/echo/infer", ok.formatted("BYTES", "[\"a\", 5]")), 400, "must be a string");
        assertError(postJson("/v2/models/echo/infer", ok.formatted("FP32", "[1, 2, 3]")), 400, "more data elements");
        assertError(postJson("/v2/models/echo/infer", ok.formatted("FP32", "[1]")), 400, "1 data elements");
        assertError(postJson("/v2/models/echo/infer", ok.formatted("FLOAT", "[1, 2]")), 400, "unknown datatype");
        assertError(postJson("/v2/models/echo/infer",
                "{\"inputs\":[{\"name\":\"x\",\"shape\":[100000000000,100000000000],\"datatype\":\"FP32\",\"data\":[1]}]}"),
                400, "shape");
        assertError(postJson("/v2/models/echo/infer",
                "{\"inputs\":[{\"name\":\"x\",\"shape\":[4294967296,4294967296,4294967296],\"datatype\":\"FP32\",\"data\":[1]}]}"),
                400, "shape");
        assertError(postJson("/v2/models/echo/infer",
                "{\"inputs\":[{\"name\":\"x\",\"shape\":[-1,2],\"datatype\":\"FP32\",\"data\":[1,2]}]}"), 400, "negative");
        assertError(postJson("/v2/models/echo/infer", "{\"inputs\":[{\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}"), 400, "name");
        assertError(postJson("/v2/models/echo/infer", "{\"outputs\":[]}"), 400, "no 'inputs'");
        assertError(postJson("/v2/models/echo/infer", "[1,2]"), 400, "must be an object");

        byte[] badUtf8 = "{\"inputs\":[{\"name\":\"s\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"a?b\"]}]}"
                .getBytes(StandardCharsets.UTF_8);
        int q = new String(badUtf8, StandardCharsets.UTF_8).indexOf('?');
        badUtf8[q] = (byte) 0xC3;
        badUtf8[q + 1] = (byte) 0x28;
        Response r = given().contentType("application/json").body(badUtf8).post("/v2/models/echo/infer");
        assertError(r, 400, "UTF-8");

        // binary header claims more than the body holds / sizes that do not match the shape
        assertError(given().header("Inference-Header-Content-Length", 9999).body("{}".getBytes(StandardCharsets.UTF_8))
                .post("/v2/models/echo/infer"), 400, "Inference-Header-Content-Length");
        String h = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":4}}]}";
        byte[] hb = h.getBytes(StandardCharsets.UTF_8);
        byte[] body = Arrays.copyOf(hb, hb.length + 4);
        assertError(given().header("Inference-Header-Content-Length", hb.length).body(body).post("/v2/models/echo/infer"),
                400, "needs 8 bytes");
    }

    @Test
    void frameworkErrorsAreJson() throws Exception {
        assertError(given().get("/v2/nothing/here"), 404, "no such endpoint");
        assertError(given().get("/"), 404, "no such endpoint");
        Response wrongMethod = given().get("/v2/models/echo/infer");
        assertError(wrongMethod, 405, "POST");
        assertEquals("POST", wrongMethod.header("Allow"));
        assertError(given().delete("/v2/health/live"), 405, "GET");
        assertError(given().post("/v2/models/echo"), 405, "GET");

        byte[] big = new byte[100_000];
        Arrays.fill(big, (byte) ' ');
        assertError(given().contentType("application/json").body(big).post("/v2/models/echo/infer"), 413, "limit");
    }

    @Test
    void unexpectedFailuresAre500WithoutDetailsAndUnavailableIs503() throws Exception {
        String body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}";
        Response r = postJson("/v2/models/boom/infer", body);
        assertError(r, 500, "internal server error");
        assertTrue(!r.asString().contains("secret") && !r.asString().contains("Exception"), r.asString());
        assertError(postJson("/v2/models/loading/infer", body), 503, "not ready");
    }

    @Test
    void repositoryNeedsTheBearerToken() throws Exception {
        Response noToken = given().post("/v2/repository/index");
        assertError(noToken, 401, "Bearer");
        assertEquals("Bearer", noToken.header("WWW-Authenticate"));
        assertError(given().header("Authorization", "Bearer wrong").post("/v2/repository/index"), 401, "invalid");
        assertError(given().post("/v2/repository/models/echo/load"), 401, "Bearer");

        RequestSpecification auth = given().header("Authorization", "Bearer " + TOKEN);
        auth.post("/v2/repository/index").then().statusCode(200)
                .body("name", hasItem("echo")).body("state", hasItems("READY", "LOADING"))
                .body("find { it.name == 'loading' }.reason", equalTo("warming up"));
        given().header("Authorization", "Bearer " + TOKEN).contentType("application/json").body("{\"ready\":true}")
                .post("/v2/repository/index").then().statusCode(200).body("state", not(hasItem("LOADING")));
        given().header("Authorization", "Bearer " + TOKEN).post("/v2/repository/models/echo/load").then().statusCode(200);
        given().header("Authorization", "Bearer " + TOKEN).contentType("application/json").body("{\"parameters\":{}}")
                .post("/v2/repository/models/echo/unload").then().statusCode(200);
        assertTrue(core.repositoryCalls.containsAll(java.util.List.of("load echo", "unload echo")), core.repositoryCalls.toString());
        assertError(given().header("Authorization", "Bearer " + TOKEN).post("/v2/repository/models/nope/load"), 404, "nope");
        assertError(given().header("Authorization", "Bearer " + TOKEN).get("/v2/repository/index"), 405, "POST");
    }

    @Test
    void restAlsoSpeaksHttp2OnTheSharedPort() throws Exception {
        java.net.http.HttpClient h2 = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_2).build();
        String body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}";
        java.net.http.HttpResponse<String> first = h2.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + server.port() + "/v2/health/live")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, first.statusCode());
        // the first request upgrades the connection (h2c); the next one runs over HTTP/2
        java.net.http.HttpResponse<String> r = h2.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + server.port() + "/v2/models/echo/infer"))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(java.net.http.HttpClient.Version.HTTP_2, r.version());
        assertTrue(r.body().contains("\"model_name\":\"echo\""), r.body());
    }

    @Test
    void repositoryIndexIsOpenWithoutAConfiguredToken() {
        try (BerthServer open = BerthServer.builder().inferenceService(new FakeCore()).port(0).build().start()) {
            RestAssured.given().baseUri("http://127.0.0.1").port(open.port()).post("/v2/repository/index")
                    .then().statusCode(200).body("name", hasItem("echo"));
        }
    }
}

package dev.berth.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A repository holding the ONNX backend test model {@code test_div_int32_trunc} (z = x / y on
 * int32 [4]; {@code testing/div_int32_trunc/model.onnx}, written with the onnx package's helper
 * at opset 21) and the churn sample, served on a real socket through the real ONNX Runtime core:
 * the server becomes ready (warm-up does not divide by zero), a zero divisor and {@code MIN / -1}
 * (both of which killed the process with SIGFPE before) are 400s naming the model and the cause,
 * and the requests after them are answered.
 */
class IntegerDivisionTest {
    @TempDir
    static Path models;
    private static BerthServer server;

    @BeforeAll
    static void start() throws Exception {
        Cases.copy("testing/div_int32_trunc/model.onnx", models.resolve("div").resolve("1").resolve("model.onnx"));
        Cases.copy("churn/model.onnx", models.resolve("churn").resolve("1").resolve("model.onnx"));
        Cases.copy("churn/example_request.json", models.resolve("churn").resolve("1").resolve("example_request.json"));
        server = BerthServer.builder().models(models).port(0).build().start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (given().get("/v2/health/ready").statusCode() != 200) {
            assertTrue(System.nanoTime() < deadline, "the server did not become ready");
            Thread.sleep(50);
        }
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private static io.restassured.specification.RequestSpecification given() {
        return RestAssured.given().baseUri("http://127.0.0.1").port(server.port());
    }

    private static Response divide(String x, String y) {
        String body = "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"INT32\", \"shape\": [4], \"data\": " + x + "},"
                + " {\"name\": \"y\", \"datatype\": \"INT32\", \"shape\": [4], \"data\": " + y + "}]}";
        return given().contentType("application/json").body(body.getBytes(StandardCharsets.UTF_8)).post("/v2/models/div/infer");
    }

    private static JsonNode json(Response r) throws Exception {
        return Cases.JSON.readTree(r.asByteArray());
    }

    private static void assertAnswered() throws Exception {
        Response ok = divide("[-3, 3, -3, 3]", "[2, 2, -2, -2]");
        assertEquals(200, ok.statusCode(), ok.asString());
        assertEquals("[-1,1,1,-1]", json(ok).path("outputs").get(0).path("data").toString());
        Response churn = given().contentType("application/json").body(Cases.resource("churn/example_request.json"))
                .post("/v2/models/churn/infer");
        assertEquals(200, churn.statusCode(), churn.asString());
    }

    @Test
    void bothModelsAreReady() throws Exception {
        assertEquals(200, given().get("/v2/models/div/ready").statusCode());
        assertEquals(200, given().get("/v2/models/churn/ready").statusCode());
        assertAnswered();
    }

    @Test
    void aZeroDivisorIsABadRequestNamingTheModelAndTheCause() throws Exception {
        Response r = divide("[1, 2, 3, 4]", "[1, 0, 1, 1]");
        assertEquals(400, r.statusCode(), r.asString());
        String error = json(r).path("error").asText();
        assertTrue(error.contains("model 'div' version 1") && error.contains("Integer division by zero"), error);
        assertAnswered();
    }

    @Test
    void theMinimumDividedByMinusOneIsABadRequestToo() throws Exception {
        Response r = divide("[-2147483648, 1, 1, 1]", "[-1, 1, 1, 1]");
        assertEquals(400, r.statusCode(), r.asString());
        String error = json(r).path("error").asText();
        assertTrue(error.contains("model 'div' version 1") && error.contains("-2147483648 / -1 does not fit in int32"), error);
        assertAnswered();
    }
}

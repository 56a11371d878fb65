package dev.berth.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.InferParameter;
import dev.berth.server.grpc.proto.InferTensorContents;
import dev.berth.server.grpc.proto.ModelInferRequest;
import dev.berth.server.grpc.proto.ModelInferResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server as an outside OIP client sees it: real ONNX models behind a real socket, probed with
 * the mistakes and edge cases standard Triton/KServe clients (and careless users) produce. Each
 * test names the finding it guards.
 */
class ConformanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ROW = "[1,2,3,4,5,6,7,8]";

    @TempDir
    static Path models;
    private static BerthServer server;
    private static ManagedChannel channel;
    private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub grpc;

    @BeforeAll
    static void start() throws Exception {
        Cases.registry(models);
        // the churn model again, registered with class labels in its signature (as the shipped sample is)
        Path signature = java.nio.file.Files.writeString(models.getParent().resolve("signature-" + System.nanoTime() + ".json"),
                "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[-1,8]}],"
                + "\"outputs\":[{\"name\":\"probabilities\",\"datatype\":\"FP32\",\"shape\":[-1,2],"
                + "\"labels\":[\"stays\",\"churns\"]},{\"name\":\"label\",\"datatype\":\"INT64\",\"shape\":[-1]}]}");
        try {
            dev.berth.registry.LocalRegistry.open(models).register(dev.berth.registry.Registration.builder("labelled",
                            models.resolve("churn").resolve("1").resolve("model.onnx")).signatureFile(signature).build(),
                    new dev.berth.runtime.onnx.OnnxSignatureReader());
        } finally {
            java.nio.file.Files.deleteIfExists(signature);
        }
        server = BerthServer.builder().models(models).port(0).maxRequestBytes(1 << 20).build().start();
        Cases.awaitReady(server, 120);
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
        grpc = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.stop();
        }
    }

    private static Response post(String path, String body) {
        return RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).contentType("application/json")
                .body(body.getBytes(StandardCharsets.UTF_8)).post(path);
    }

    private static String churn(String shape, String data) {
        return "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":" + shape + ",\"data\":" + data + "}]}";
    }

    private static String assertError(Response r, int status) throws IOException {
        assertEquals(status, r.statusCode(), r.asString());
        assertTrue(r.contentType().startsWith("application/json"), r.contentType());
        JsonNode body = JSON.readTree(r.asByteArray());
        assertTrue(body.path("error").isTextual() && !body.path("error").asText().isBlank(), r.asString());
        return body.path("error").asText();
    }

    // ---------------------------------------------------------------------------------- REST findings

    /** Finding: ragged or wrongly nested data was flattened and run, feeding the model misaligned rows. */
    @Test
    void nestedDataMustMatchTheShape() throws Exception {
        String ragged = assertError(post("/v2/models/churn/infer",
                churn("[2,8]", "[[1,2,3,4,5,6,7],[1,2,3,4,5,6,7,8,9]]")), 400);
        assertTrue(ragged.contains("'features'") && ragged.contains("dimension 1"), ragged);
        assertTrue(assertError(post("/v2/models/churn/infer", churn("[1,8]", "[[" + ROW + "]]")), 400)
                .contains("deeper"));
        assertTrue(assertError(post("/v2/models/churn/infer", churn("[1,8]", "[" + ROW + "," + ROW + "]")), 400)
                .contains("dimension 0"));
        assertTrue(assertError(post("/v2/models/churn/infer", churn("[1,8]", "[[1,2,3,4],[5,6,7,8]]")), 400)
                .contains("dimension 1"));
        assertError(post("/v2/models/churn/infer", churn("[2,8]", "[" + ROW + ",1,2,3,4,5,6,7,8]")), 400);
        assertError(post("/v2/models/churn/infer", churn("[2,8]", "[1,2,3,4,5,6,7,8," + ROW + "]")), 400);
        // the shape given after the data is still checked against the nesting
        assertError(post("/v2/models/churn/infer", "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\","
                + "\"data\":[[1,2,3,4,5,6,7],[1,2,3,4,5,6,7,8,9]],\"shape\":[2,8]}]}"), 400);

        // nested exactly as the shape, and flat, both work and agree
        Response nested = post("/v2/models/churn/infer", churn("[2,8]", "[" + ROW + "," + ROW + "]"));
        Response flat = post("/v2/models/churn/infer", churn("[2,8]", "[1,2,3,4,5,6,7,8,1,2,3,4,5,6,7,8]"));
        assertEquals(200, nested.statusCode(), nested.asString());
        assertEquals(JSON.readTree(flat.asByteArray()), JSON.readTree(nested.asByteArray()));
        Response late = post("/v2/models/churn/infer", "{\"inputs\":[{\"data\":[" + ROW + "," + ROW + "],"
                + "\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[2,8]}]}");
        assertEquals(JSON.readTree(flat.asByteArray()), JSON.readTree(late.asByteArray()));
        // a 0-row batch is legal in ONNX and in the protocol
        Response empty = post("/v2/models/churn/infer", churn("[0,8]", "[]"));
        assertEquals(200, empty.statusCode(), empty.asString());
        assertEquals("[0,2]", JSON.readTree(empty.asByteArray()).path("outputs").path(0).path("shape").toString());
    }

    /** Finding: "fp32" was accepted although the protocol's names are upper case and Triton refuses it. */
    @Test
    void datatypeNamesAreUpperCase() throws Exception {
        String e = assertError(post("/v2/models/churn/infer",
                churn("[1,8]", ROW).replace("\"FP32\"", "\"fp32\"")), 400);
        assertTrue(e.contains("'FP32'"), e);
        StatusRuntimeException g = assertThrows(StatusRuntimeException.class, () -> grpc.modelInfer(
                churnGrpc().setInputs(0, churnGrpc().getInputs(0).toBuilder().setDatatype("fp32")).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, g.getStatus().getCode());
    }

    /** Finding: a malformed body sent to an unknown model answered 400, hiding the real mistake (the model). */
    @Test
    void unknownModelIsNotFoundEvenWithABadBody() throws Exception {
        assertTrue(assertError(post("/v2/models/nope/infer", "{}"), 404).contains("nope"));
        assertError(post("/v2/models/nope/infer", "not json"), 404);
        assertError(post("/v2/models/churn/versions/99/infer", "{\"inputs\":{}}"), 404);
        // a known model with a bad body is still a 400
        assertError(post("/v2/models/churn/infer", "{}"), 400);

        StatusRuntimeException g = assertThrows(StatusRuntimeException.class, () -> grpc.modelInfer(
                ModelInferRequest.newBuilder().setModelName("nope").addInputs(
                        ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FLOAT")).build()));
        assertEquals(Status.Code.NOT_FOUND, g.getStatus().getCode());
        g = assertThrows(StatusRuntimeException.class, () -> grpc.modelInfer(
                churnGrpc().setModelVersion("99").addRawInputContents(ByteString.copyFrom(new byte[3])).build()));
        assertEquals(Status.Code.NOT_FOUND, g.getStatus().getCode());
    }

    /**
     * Finding: Triton's classification output parameter was silently ignored, returning raw scores
     * where the client expects "value:index:label" strings. Now implemented (Triton's extension).
     */
    @Test
    void classificationReturnsTopClassesWithLabels() throws Exception {
        String rows = "[" + ROW + ",[8,7,6,5,4,3,2,1]]";
        Response plain = post("/v2/models/churn/infer", churn("[2,8]", rows));
        JsonNode scores = JSON.readTree(plain.asByteArray()).path("outputs").path(0).path("data");
        String body = "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[2,8],\"data\":" + rows
                + "}],\"outputs\":[{\"name\":\"probabilities\",\"parameters\":{\"classification\":1}},{\"name\":\"label\"}]}";
        Response r = post("/v2/models/labelled/infer", body);
        assertEquals(200, r.statusCode(), r.asString());
        JsonNode out = JSON.readTree(r.asByteArray()).path("outputs");
        assertEquals("probabilities", out.path(0).path("name").asText());
        assertEquals("BYTES", out.path(0).path("datatype").asText());
        assertEquals("[2,1]", out.path(0).path("shape").toString());
        String[] labels = {"stays", "churns"}; // from the churn sample's registered signature
        for (int row = 0; row < 2; row++) {
            float p0 = (float) scores.path(row * 2).asDouble();
            float p1 = (float) scores.path(row * 2 + 1).asDouble();
            int top = p1 > p0 ? 1 : 0;
            assertEquals((top == 1 ? p1 : p0) + ":" + top + ":" + labels[top], out.path(0).path("data").path(row).asText());
            assertEquals(top, out.path(1).path("data").path(row).asInt(), "label output agrees with the top class");
        }
        // k above the class count is cut to it; integer outputs and binary outputs work too
        Response all = post("/v2/models/labelled/infer", churn("[1,8]", ROW).replace("}]}",
                "}],\"outputs\":[{\"name\":\"probabilities\",\"parameters\":{\"classification\":5,\"binary_data\":true}}]}"));
        assertEquals(200, all.statusCode(), all.asString());
        int headerLength = Integer.parseInt(all.header("Inference-Header-Content-Length"));
        JsonNode header = JSON.readTree(java.util.Arrays.copyOf(all.asByteArray(), headerLength));
        assertEquals("[1,2]", header.path("outputs").path(0).path("shape").toString());
        ByteBuffer binary = ByteBuffer.wrap(all.asByteArray(), headerLength, all.asByteArray().length - headerLength)
                .order(ByteOrder.LITTLE_ENDIAN);
        List<String> classes = new ArrayList<>();
        while (binary.hasRemaining()) {
            byte[] e = new byte[binary.getInt()];
            binary.get(e);
            classes.add(new String(e, StandardCharsets.UTF_8));
        }
        assertEquals(2, classes.size());
        assertTrue(classes.get(0).endsWith(":stays") || classes.get(0).endsWith(":churns"), classes.toString());

        for (String bad : List.of("0", "-1", "1.5", "\"two\"", "true")) {
            String e = assertError(post("/v2/models/churn/infer", churn("[1,8]", ROW).replace("}]}",
                    "}],\"outputs\":[{\"name\":\"probabilities\",\"parameters\":{\"classification\":" + bad + "}}]}")), 400);
            assertTrue(e.contains("classification"), e);
        }
        // a rank-1 output is one set of classes: the top element of the whole vector
        Response vector = post("/v2/models/strings/infer", "{\"inputs\":[{\"name\":\"text\",\"datatype\":\"BYTES\","
                + "\"shape\":[3],\"data\":[\"dog\",\"zebra\",\"fish\"]}],\"outputs\":[{\"name\":\"class_id\","
                + "\"parameters\":{\"classification\":2}}]}");
        assertEquals(200, vector.statusCode(), vector.asString());
        JsonNode classified = JSON.readTree(vector.asByteArray()).path("outputs").path(0);
        assertEquals("[2]", classified.path("shape").toString());
        assertEquals("[\"3:2\",\"1:0\"]", classified.path("data").toString()); // fish=3, dog=1, zebra=-1 (cases.json)
        // a BYTES output has no scores to rank
        assertError(post("/v2/models/all_types/infer", allTypes("in_int8", "1").replace("]}]}",
                "]}],\"outputs\":[{\"name\":\"out_string\",\"parameters\":{\"classification\":1}}]}")), 400);
    }

    @Test
    void classificationOverGrpc() {
        ModelInferResponse answer = grpc.modelInfer(churnGrpc().addRawInputContents(ByteString.copyFrom(rawRow()))
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("probabilities")
                        .putParameters("classification", InferParameter.newBuilder().setInt64Param(2).build()))
                .build());
        assertEquals("BYTES", answer.getOutputs(0).getDatatype());
        assertEquals(List.of(1L, 2L), answer.getOutputs(0).getShapeList());
        ByteBuffer raw = answer.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        List<String> classes = new ArrayList<>();
        while (raw.hasRemaining()) {
            byte[] e = new byte[raw.getInt()];
            raw.get(e);
            classes.add(new String(e, StandardCharsets.UTF_8));
        }
        assertEquals(2, classes.size());
        assertTrue(Float.parseFloat(classes.get(0).split(":")[0]) >= Float.parseFloat(classes.get(1).split(":")[0]), classes.toString());
        StatusRuntimeException g = assertThrows(StatusRuntimeException.class, () -> grpc.modelInfer(churnGrpc()
                .addRawInputContents(ByteString.copyFrom(rawRow()))
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("probabilities")
                        .putParameters("classification", InferParameter.newBuilder().setInt64Param(0).build()))
                .build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, g.getStatus().getCode());
    }

    /**
     * Finding: Triton's shared-memory parameters were ignored: an input naming a region failed with
     * "neither data nor binary_data_size", an output naming one came back in the body instead.
     */
    @Test
    void sharedMemoryIsRefusedClearly() throws Exception {
        String input = assertError(post("/v2/models/churn/infer", "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\","
                + "\"shape\":[1,8],\"parameters\":{\"shared_memory_region\":\"in0\",\"shared_memory_byte_size\":32}}]}"), 400);
        assertTrue(input.contains("shared_memory_region"), input);
        assertError(post("/v2/models/churn/infer", churn("[1,8]", ROW).replace("}]}",
                "}],\"outputs\":[{\"name\":\"label\",\"parameters\":{\"shared_memory_region\":\"out0\"}}]}")), 400);
        ModelInferRequest.Builder shm = churnGrpc();
        shm.setInputs(0, shm.getInputs(0).toBuilder().putParameters("shared_memory_region",
                InferParameter.newBuilder().setStringParam("in0").build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, grpcCode(shm.build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, grpcCode(churnGrpc().addRawInputContents(ByteString.copyFrom(rawRow()))
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("label")
                        .putParameters("shared_memory_region", InferParameter.newBuilder().setStringParam("out0").build()))
                .build()));
    }

    /** Finding: error messages quoted Jackson's switches and a redacted source location. */
    @Test
    void malformedJsonMessagesSpeakToTheClient() throws Exception {
        String nan = assertError(post("/v2/models/churn/infer", churn("[1,8]", "[NaN,2,3,4,5,6,7,8]")), 400);
        assertTrue(nan.contains("NaN") && !nan.contains("JsonReadFeature"), nan);
        String cut = assertError(post("/v2/models/churn/infer", "{\"inputs\":[{\"name\":\"features\""), 400);
        assertFalse(cut.contains("Source:") || cut.contains("REDACTED"), cut);
        assertTrue(cut.startsWith("malformed JSON"), cut);
        String longNumber = assertError(post("/v2/models/churn/infer", churn("[1,8]", "[1" + "0".repeat(5000) + ",2,3,4,5,6,7,8]")), 400);
        assertTrue(longNumber.contains("length") && !longNumber.contains("StreamReadConstraints"), longNumber);
    }

    // ------------------------------------------------------------------------------ REST regression guards

    /** Client mistakes each give their 4xx with a JSON error, never a 500. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "empty body          | ``                                                                            | 400",
            "null                | null                                                                          | 400",
            "array               | []                                                                            | 400",
            "no inputs           | {}                                                                            | 400",
            "inputs not array    | {\"inputs\":{}}                                                               | 400",
            "input without name  | {\"inputs\":[{\"datatype\":\"FP32\",\"shape\":[1,8],\"data\":" + ROW + "}]}   | 400",
            "input without shape | {\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"data\":" + ROW + "}]} | 400",
            "no datatype         | {\"inputs\":[{\"name\":\"features\",\"shape\":[1,8],\"data\":" + ROW + "}]}   | 400",
            "huge shape          | {\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1000000000000000000,1000000000000000000],\"data\":[]}]} | 400",
            "exponent shape      | {\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1e18,1e18],\"data\":[]}]} | 400",
            "negative dim        | {\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[-1,8],\"data\":" + ROW + "}]} | 400",
            "float dim           | {\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1.5,8],\"data\":" + ROW + "}]} | 400",
            "string for number   | {\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,8],\"data\":[\"1\",2,3,4,5,6,7,8]}]} | 400",
            "unknown datatype    | {\"inputs\":[{\"name\":\"features\",\"datatype\":\"FLOAT\",\"shape\":[1,8],\"data\":" + ROW + "}]} | 400",
            "wrong datatype      | {\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP64\",\"shape\":[1,8],\"data\":" + ROW + "}]} | 400",
            "too few elements    | {\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,8],\"data\":[1,2]}]} | 400",
            "id not a string     | {\"id\":5,\"inputs\":[]}                                                     | 400",
            "unknown output      | {\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,8],\"data\":" + ROW + "}],\"outputs\":[{\"name\":\"nope\"}]} | 400",
            "trailing garbage    | {\"inputs\":[]}xyz                                                           | 400",
    })
    void clientMistakes(String what, String body, int status) throws Exception {
        assertError(post("/v2/models/churn/infer", body == null ? "" : body), status);
    }

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({
            "in_uint8, -1", "in_uint64, 18446744073709551616", "in_int8, 128", "in_int32, 1.5",
            "in_bool, 1", "in_int32, true", "in_string, 5", "in_fp32, null"})
    void elementValuesOutsideTheirDatatype(String input, String value) throws Exception {
        String e = assertError(post("/v2/models/all_types/infer", allTypes(input, value)), 400);
        assertTrue(e.contains(input), e);
    }

    @Test
    void exactIntegersInAnyJsonFormAndUint64Extremes() throws Exception {
        // 1e3 and 2.0 are exact integers written as JSON numbers with a fraction or exponent: accepted
        Response r = post("/v2/models/all_types/infer", allTypes("in_int32", "1e3").replace(
                "\"in_uint64\",\"datatype\":\"UINT64\",\"shape\":[1,1],\"data\":[1]",
                "\"in_uint64\",\"datatype\":\"UINT64\",\"shape\":[1,1],\"data\":[18446744073709551615]"));
        assertEquals(200, r.statusCode(), r.asString());
        JsonNode outputs = JSON.readTree(r.asByteArray()).path("outputs");
        for (JsonNode o : outputs) {
            if (o.path("name").asText().equals("out_int32")) {
                assertEquals(1000, o.path("data").path(0).asInt());
            }
            if (o.path("name").asText().equals("out_uint64")) {
                assertEquals("18446744073709551615", o.path("data").path(0).bigIntegerValue().toString());
            }
        }
    }

    /** The document shapes of the specification: names and JSON types. */
    @Test
    void responseDocumentsFollowTheSpecification() throws Exception {
        Response r = post("/v2/models/churn/versions/1/infer?ignored=1", "{\"id\":\"q-1\",\"unknown\":{\"a\":[1]},"
                + "\"parameters\":{\"x\":1},\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,8],"
                + "\"data\":" + ROW + ",\"extra\":true}],\"outputs\":[{\"name\":\"label\"}]}");
        assertEquals(200, r.statusCode(), r.asString());
        assertTrue(r.contentType().startsWith("application/json"));
        JsonNode body = JSON.readTree(r.asByteArray());
        assertEquals("churn", body.path("model_name").asText());
        assertTrue(body.path("model_version").isTextual());
        assertEquals("1", body.path("model_version").asText());
        assertEquals("q-1", body.path("id").asText());
        assertEquals(1, body.path("outputs").size());
        JsonNode out = body.path("outputs").path(0);
        assertEquals("label", out.path("name").asText());
        assertEquals("INT64", out.path("datatype").asText());
        assertEquals("[1]", out.path("shape").toString());
        assertTrue(out.path("data").isArray() && out.path("data").path(0).isIntegralNumber());

        JsonNode meta = JSON.readTree(RestAssured.given().port(server.port()).get("/v2/models/churn").asByteArray());
        assertEquals("churn", meta.path("name").asText());
        assertTrue(meta.path("versions").path(0).isTextual());
        assertEquals("onnxruntime_onnx", meta.path("platform").asText());
        assertEquals("[-1,8]", meta.path("inputs").path(0).path("shape").toString());
        JsonNode serverMeta = JSON.readTree(RestAssured.given().port(server.port()).get("/v2").asByteArray());
        assertTrue(serverMeta.path("name").isTextual() && serverMeta.path("version").isTextual());
        assertTrue(serverMeta.path("extensions").isArray());
        assertEquals(Map.of("ready", true), JSON.convertValue(JSON.readTree(RestAssured.given()
                .port(server.port()).get("/v2/health/ready").asByteArray()), Map.class));
    }

    /** After a refused request the same keep-alive connection serves the next one. */
    @Test
    void connectionStaysUsableAfterErrors() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            for (String body : List.of("{bad", churn("[1,8]", "[1,2]"), "{}", churn("[1,8]", ROW))) {
                byte[] b = body.getBytes(StandardCharsets.UTF_8);
                out.write(("POST /v2/models/churn/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + b.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(b);
                out.flush();
                String head = readResponse(in);
                assertTrue(head.startsWith(body.equals(churn("[1,8]", ROW)) ? "HTTP/1.1 200" : "HTTP/1.1 400"), head);
            }
        }
    }

    /**
     * Finding: HEAD was refused on GET endpoints, and Helidon sent a body with every HEAD answer, which
     * a keep-alive client reads as the start of its next response.
     */
    @Test
    void headAnswersLikeGetWithoutABody() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            for (String[] probe : List.of(new String[]{"/v2/health/live", "200"}, new String[]{"/v2/health/ready", "200"},
                    new String[]{"/v2/models/churn", "200"}, new String[]{"/v2/models/nope", "404"},
                    new String[]{"/v2/models/churn/infer", "405"}, new String[]{"/nowhere", "404"})) {
                out.write(("HEAD " + probe[0] + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String head = readHead(in);
                assertTrue(head.startsWith("HTTP/1.1 " + probe[1]), probe[0] + ": " + head);
            }
            // the connection is in step: the next GET gets its own answer, not leftovers of the HEADs
            out.write("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String head = readHead(in);
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            assertEquals("{\"live\":true}", new String(in.readNBytes(contentLength(head)), StandardCharsets.UTF_8));
        }
        assertEquals("GET, HEAD", RestAssured.given().port(server.port()).put("/v2/models/churn").header("Allow"));
    }

    /**
     * Finding: a compressed request body was answered with a bare "Bad Request". gzip, deflate and identity
     * are decoded now (ContentCodingTest); any other coding is a 415 naming it.
     */
    @Test
    void unsupportedContentEncodingIsNamed() throws Exception {
        Response r = RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).contentType("application/json")
                .header("Content-Encoding", "br").body(new byte[]{11, 2, -128, 123, 125, 3})
                .post("/v2/models/churn/infer");
        String e = assertError(r, 415);
        assertTrue(e.contains("Content-Encoding 'br'"), e);
    }

    /** Reads a response head (through the blank line) without its body. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int c = in.read();
            assertTrue(c >= 0, "connection closed after: " + head);
            head.write(c);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    private static int contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                return Integer.parseInt(line.substring(15).trim());
            }
        }
        return 0;
    }

    /** Reads one response with a Content-Length body; returns its head. */
    private static String readResponse(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int c = in.read();
            assertTrue(c >= 0, "connection closed after: " + head);
            head.write(c);
        }
        String text = head.toString(StandardCharsets.US_ASCII);
        int length = 0;
        for (String line : text.split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        assertEquals(length, in.readNBytes(length).length);
        return text;
    }

    @Test
    void binaryExtensionMistakes() throws Exception {
        byte[] floats = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN)
                .putFloat(1).putFloat(2).putFloat(3).putFloat(4).putFloat(5).putFloat(6).putFloat(7).putFloat(8).array();
        byte[] header = ("{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,8],"
                + "\"parameters\":{\"binary_data_size\":32}}]}").getBytes(StandardCharsets.UTF_8);
        byte[] body = concat(header, floats);
        for (String length : List.of(Integer.toString(body.length + 1), "-5", "abc", Integer.toString(header.length - 3))) {
            assertError(binary("/v2/models/churn/infer", body, length), 400);
        }
        assertError(binary("/v2/models/churn/infer", concat(header, new byte[28]), Integer.toString(header.length)), 400);
        assertError(binary("/v2/models/churn/infer", concat(body, new byte[2]), Integer.toString(header.length)), 400);
        assertEquals(200, binary("/v2/models/churn/infer", body, Integer.toString(header.length)).statusCode());

        for (byte[] strings : List.of(
                concat(le(50), "hello".getBytes(StandardCharsets.UTF_8)),
                concat(le(-1), "hello".getBytes(StandardCharsets.UTF_8)),
                new byte[]{5, 0},
                concat(le(2), new byte[]{(byte) 0xff, (byte) 0xfe}))) {
            byte[] h = ("{\"inputs\":[{\"name\":\"text\",\"datatype\":\"BYTES\",\"shape\":[1],"
                    + "\"parameters\":{\"binary_data_size\":" + strings.length + "}}]}").getBytes(StandardCharsets.UTF_8);
            assertError(binary("/v2/models/strings/infer", concat(h, strings), Integer.toString(h.length)), 400);
        }
    }

    private static Response binary(String path, byte[] body, String headerLength) {
        return RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).contentType("application/octet-stream")
                .header("Inference-Header-Content-Length", headerLength).body(body).post(path);
    }

    private static byte[] le(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** 64 connections mixing good and bad requests: every answer is the caller's own, no 500s. */
    @Test
    void concurrentGoodAndBadRequestsDoNotCrossTalk() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(64);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int c = 0; c < 64; c++) {
                int client = c;
                results.add(pool.submit(() -> {
                    try (Socket s = new Socket("127.0.0.1", server.port())) {
                        s.setSoTimeout(30_000);
                        for (int i = 0; i < 20; i++) {
                            int kind = (client + i) % 3;
                            String id = client + "-" + i;
                            String path = kind == 2 ? "/v2/models/nope/infer" : "/v2/models/churn/infer";
                            String body = kind == 1 ? churn("[1,8]", "[1,2]")
                                    : "{\"id\":\"" + id + "\",\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\","
                                    + "\"shape\":[1,8],\"data\":[" + client + "," + i + ",0,0,0,0,0,0]}]}";
                            byte[] b = body.getBytes(StandardCharsets.UTF_8);
                            s.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                    + b.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                            s.getOutputStream().write(b);
                            String head = readResponseWithBody(s.getInputStream(), id, kind);
                            if (head != null) {
                                return head;
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<String> f : results) {
                String problem = f.get(120, TimeUnit.SECONDS);
                assertEquals(null, problem);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Finding: dynamic batching merged requests whose inputs disagreed on the batch axis. A request
     * with 1 row of ids and 2 of mask (refused when run alone) merged with one of 2 and 1 made a
     * consistent-looking batch, and the well-formed caller got answers computed from the other
     * caller's mask row.
     */
    @Test
    void disagreeingBatchAxesNeverMergeWithOthers() throws Exception {
        String odd = "{\"inputs\":[{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[1,4],\"data\":[1,2,3,4]},"
                + "{\"name\":\"mask\",\"datatype\":\"BOOL\",\"shape\":[2,4],\"data\":[false,false,false,false,false,false,false,false]},"
                + "{\"name\":\"scale\",\"datatype\":\"FP32\",\"shape\":[1,1],\"data\":[1]}]}";
        // valid for the model alone: the single mask row broadcasts over both id rows
        String broadcast = "{\"inputs\":[{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[2,4],\"data\":[1,2,3,4,5,6,7,8]},"
                + "{\"name\":\"mask\",\"datatype\":\"BOOL\",\"shape\":[1,4],\"data\":[true,true,true,true]},"
                + "{\"name\":\"scale\",\"datatype\":\"FP32\",\"shape\":[2,1],\"data\":[1,1]}]}";
        Response alone = post("/v2/models/multi_io/infer", broadcast);
        assertEquals(200, alone.statusCode(), alone.asString());
        JsonNode expected = JSON.readTree(alone.asByteArray());
        assertEquals(400, post("/v2/models/multi_io/infer", odd).statusCode());

        ExecutorService pool = Executors.newFixedThreadPool(12);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int c = 0; c < 12; c++) {
                boolean isOdd = c % 2 == 1;
                results.add(pool.submit(() -> {
                    for (int i = 0; i < 60; i++) {
                        Response r = post("/v2/models/multi_io/infer", isOdd ? odd : broadcast);
                        if (isOdd && r.statusCode() != 400) {
                            return "the malformed request was answered " + r.statusCode() + ": " + r.asString();
                        }
                        if (!isOdd && !expected.equals(JSON.readTree(r.asByteArray()))) {
                            return "a well-formed caller got " + r.asString() + " instead of " + expected;
                        }
                    }
                    return null;
                }));
            }
            for (Future<String> f : results) {
                assertEquals(null, f.get(120, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Returns null when the answer is what this request should get, else a description. */
    private static String readResponseWithBody(InputStream in, String id, int kind) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                return "closed";
            }
            head.write(c);
        }
        String text = head.toString(StandardCharsets.US_ASCII);
        int length = 0;
        for (String line : text.split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        JsonNode body = JSON.readTree(in.readNBytes(length));
        String want = switch (kind) {
            case 0 -> "HTTP/1.1 200";
            case 1 -> "HTTP/1.1 400";
            default -> "HTTP/1.1 404";
        };
        if (!text.startsWith(want)) {
            return text + body;
        }
        if (kind == 0 && !id.equals(body.path("id").asText())) {
            return "answer for " + body.path("id") + " reached " + id;
        }
        return null;
    }

    // -------------------------------------------------------------------------------------------- gRPC

    private static ModelInferRequest.Builder churnGrpc() {
        return ModelInferRequest.newBuilder().setModelName("churn").setId("g-1").addInputs(
                ModelInferRequest.InferInputTensor.newBuilder().setName("features").setDatatype("FP32")
                        .addShape(1).addShape(8));
    }

    private static byte[] rawRow() {
        ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 1; i <= 8; i++) {
            b.putFloat(i);
        }
        return b.array();
    }

    private static Status.Code grpcCode(ModelInferRequest request) {
        return assertThrows(StatusRuntimeException.class, () -> grpc.modelInfer(request)).getStatus().getCode();
    }

    @Test
    void grpcMistakesAndFeatures() {
        InferTensorContents.Builder row = InferTensorContents.newBuilder();
        for (int i = 1; i <= 8; i++) {
            row.addFp32Contents(i);
        }
        ModelInferRequest.Builder typed = churnGrpc();
        typed.setInputs(0, typed.getInputs(0).toBuilder().setContents(row));
        // both typed contents and raw_input_contents
        assertEquals(Status.Code.INVALID_ARGUMENT, grpcCode(typed.clone().addRawInputContents(ByteString.copyFrom(rawRow())).build()));
        // raw size mismatch
        assertEquals(Status.Code.INVALID_ARGUMENT, grpcCode(churnGrpc().addRawInputContents(ByteString.copyFrom(new byte[28])).build()));
        // missing datatype
        ModelInferRequest.Builder noType = churnGrpc().addRawInputContents(ByteString.copyFrom(rawRow()));
        noType.setInputs(0, noType.getInputs(0).toBuilder().clearDatatype());
        assertEquals(Status.Code.INVALID_ARGUMENT, grpcCode(noType.build()));
        // typed contents in the wrong field for the datatype
        ModelInferRequest.Builder wrongField = churnGrpc();
        wrongField.setInputs(0, wrongField.getInputs(0).toBuilder().setContents(
                InferTensorContents.newBuilder().addAllIntContents(List.of(1, 2, 3, 4, 5, 6, 7, 8))));
        assertEquals(Status.Code.INVALID_ARGUMENT, grpcCode(wrongField.build()));
        // unknown model and version
        assertEquals(Status.Code.NOT_FOUND, grpcCode(churnGrpc().setModelName("nope").addRawInputContents(ByteString.copyFrom(rawRow())).build()));
        assertEquals(Status.Code.NOT_FOUND, grpcCode(churnGrpc().setModelVersion("7").addRawInputContents(ByteString.copyFrom(rawRow())).build()));

        // parameters accepted, outputs subset, id echoed, typed answer to a typed request
        ModelInferResponse answer = grpc.modelInfer(typed.clone()
                .putParameters("priority", InferParameter.newBuilder().setInt64Param(1).build())
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("label")).build());
        assertEquals("g-1", answer.getId());
        assertEquals("churn", answer.getModelName());
        assertFalse(answer.getModelVersion().isEmpty());
        assertEquals(1, answer.getOutputsCount());
        assertEquals("label", answer.getOutputs(0).getName());
        assertEquals("INT64", answer.getOutputs(0).getDatatype());
        assertEquals(1, answer.getOutputs(0).getContents().getInt64ContentsCount());
        // raw request, raw answer
        ModelInferResponse raw = grpc.modelInfer(churnGrpc().addRawInputContents(ByteString.copyFrom(rawRow())).build());
        assertEquals(2, raw.getRawOutputContentsCount());
        assertEquals(answer.getOutputs(0).getContents().getInt64Contents(0),
                raw.getRawOutputContents(1).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getLong());
    }

    @Test
    void grpcMetadataAndHealthRpcs() {
        assertTrue(grpc.serverLive(dev.berth.server.grpc.proto.ServerLiveRequest.getDefaultInstance()).getLive());
        assertTrue(grpc.serverReady(dev.berth.server.grpc.proto.ServerReadyRequest.getDefaultInstance()).getReady());
        var meta = grpc.serverMetadata(dev.berth.server.grpc.proto.ServerMetadataRequest.getDefaultInstance());
        assertTrue(meta.getExtensionsList().contains("classification"), meta.toString());
        var model = grpc.modelMetadata(dev.berth.server.grpc.proto.ModelMetadataRequest.newBuilder().setName("churn").build());
        assertEquals("onnxruntime_onnx", model.getPlatform());
        assertEquals(List.of(-1L, 8L), model.getInputs(0).getShapeList());
        assertTrue(grpc.modelReady(dev.berth.server.grpc.proto.ModelReadyRequest.newBuilder().setName("churn").setVersion("1").build()).getReady());
        for (String name : List.of("nope", "", "../churn")) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> grpc.modelMetadata(
                    dev.berth.server.grpc.proto.ModelMetadataRequest.newBuilder().setName(name).build()));
            assertTrue(e.getStatus().getCode() == Status.Code.NOT_FOUND || e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT,
                    name + " -> " + e.getStatus());
            e = assertThrows(StatusRuntimeException.class, () -> grpc.modelInfer(ModelInferRequest.newBuilder().setModelName(name).build()));
            assertTrue(e.getStatus().getCode() == Status.Code.NOT_FOUND || e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT,
                    name + " -> " + e.getStatus());
        }
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> grpc.modelReady(
                dev.berth.server.grpc.proto.ModelReadyRequest.newBuilder().setName("churn").setVersion("9").build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    }

    // ------------------------------------------------------------------------------------------ helpers

    /** An all_types request with one element replaced by a raw JSON value. */
    private static String allTypes(String input, String value) {
        String[][] inputs = {
                {"in_bool", "BOOL", "true"}, {"in_uint8", "UINT8", "1"}, {"in_uint16", "UINT16", "1"},
                {"in_uint32", "UINT32", "1"}, {"in_uint64", "UINT64", "1"}, {"in_int8", "INT8", "1"},
                {"in_int16", "INT16", "1"}, {"in_int32", "INT32", "1"}, {"in_int64", "INT64", "1"},
                {"in_fp16", "FP16", "1"}, {"in_fp32", "FP32", "1"}, {"in_fp64", "FP64", "1"},
                {"in_string", "BYTES", "\"a\""}};
        StringBuilder b = new StringBuilder("{\"inputs\":[");
        for (int i = 0; i < inputs.length; i++) {
            String v = inputs[i][0].equals(input) ? value : inputs[i][2];
            b.append(i == 0 ? "" : ",").append("{\"name\":\"").append(inputs[i][0]).append("\",\"datatype\":\"")
                    .append(inputs[i][1]).append("\",\"shape\":[1,1],\"data\":[").append(v).append("]}");
        }
        return b.append("]}").toString();
    }
}

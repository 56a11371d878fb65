package dev.berth.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.berth.registry.DataType;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.ModelInferRequest;
import dev.berth.server.grpc.proto.ModelInferResponse;
import dev.berth.server.grpc.proto.ModelMetadataRequest;
import dev.berth.server.grpc.proto.ModelMetadataResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end through the real ONNX Runtime core: every case of the six test models round-tripped
 * over REST JSON, REST binary, gRPC raw and gRPC typed, compared with cases.json; and the churn
 * sample's example request.
 */
class SampleModelsTest {
    @TempDir
    static Path models;
    private static BerthServer server;
    private static ManagedChannel channel;
    private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub grpc;

    @BeforeAll
    static void start() throws Exception {
        Cases.registry(models);
        Cases.copy("testing/scalar_io/model.onnx", models.resolve("spare").resolve("1").resolve("model.onnx"));
        // a version whose file is not a model: it must not keep the others from serving (lenient readiness: not from ready either)
        java.nio.file.Files.createDirectories(models.resolve("broken").resolve("1"));
        java.nio.file.Files.writeString(models.resolve("broken").resolve("1").resolve("model.onnx"), "not an onnx model");
        server = BerthServer.builder().models(models).port(0).openRepositoryApi(true).strictReadiness(false).build().start();
        Cases.awaitReady(server, 120);
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext()
                .maxInboundMessageSize(64 << 20).build();
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

    private static Response post(String model, byte[] body, Integer headerLength) {
        var spec = RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).body(body);
        if (headerLength != null) {
            spec = spec.header("Inference-Header-Content-Length", headerLength).contentType("application/octet-stream");
        } else {
            spec = spec.contentType("application/json");
        }
        return spec.post("/v2/models/" + model + "/infer");
    }

    private static long[] shape(JsonNode node) {
        long[] s = new long[node.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = node.get(i).asLong();
        }
        return s;
    }

    @Test
    void restJson() throws Exception {
        for (String model : Cases.MODELS) {
            for (Cases.Case c : Cases.load(model)) {
                ObjectNode req = Cases.JSON.createObjectNode();
                req.put("id", c.toString());
                ArrayNode inputs = req.putArray("inputs");
                c.inputs().forEach(t -> inputs.add(Cases.jsonInput(t)));
                Response r = post(model, Cases.JSON.writeValueAsBytes(req), null);
                assertEquals(200, r.statusCode(), c + ": " + r.asString());
                JsonNode body = Cases.JSON.readTree(r.asByteArray());
                assertEquals(c.toString(), body.get("id").asText());
                assertEquals("1", body.get("model_version").asText());
                Map<String, JsonNode> outputs = new HashMap<>();
                body.get("outputs").forEach(o -> outputs.put(o.get("name").asText(), o));
                assertEquals(c.outputs().size(), outputs.size(), c + " outputs");
                for (Cases.CaseTensor want : c.outputs()) {
                    JsonNode got = outputs.get(want.name());
                    DataType type = DataType.valueOf(got.get("datatype").asText());
                    Cases.assertOutput(c + " json " + want.name(), want, type, shape(got.get("shape")), Cases.fromJson(type, got.get("data")));
                }
            }
        }
    }

    @Test
    void restBinary() throws Exception {
        for (String model : Cases.MODELS) {
            for (Cases.Case c : Cases.load(model)) {
                ObjectNode req = Cases.JSON.createObjectNode();
                req.putObject("parameters").put("binary_data_output", true);
                ArrayNode inputs = req.putArray("inputs");
                ByteArrayOutputStream binary = new ByteArrayOutputStream();
                for (Cases.CaseTensor t : c.inputs()) {
                    byte[] raw = Cases.raw(t);
                    ObjectNode in = Cases.jsonInput(t);
                    in.remove("data");
                    in.putObject("parameters").put("binary_data_size", raw.length);
                    inputs.add(in);
                    binary.write(raw);
                }
                byte[] header = Cases.JSON.writeValueAsBytes(req);
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                body.write(header);
                body.write(binary.toByteArray());
                Response r = post(model, body.toByteArray(), header.length);
                assertEquals(200, r.statusCode(), c + ": " + r.asString());
                int jsonLength = Integer.parseInt(r.header("Inference-Header-Content-Length"));
                byte[] all = r.asByteArray();
                JsonNode head = Cases.JSON.readTree(Arrays.copyOf(all, jsonLength));
                int cursor = jsonLength;
                Map<String, Cases.CaseTensor> want = new HashMap<>();
                c.outputs().forEach(t -> want.put(t.name(), t));
                for (JsonNode o : head.get("outputs")) {
                    int size = o.get("parameters").get("binary_data_size").asInt();
                    DataType type = DataType.valueOf(o.get("datatype").asText());
                    Cases.assertOutput(c + " binary " + o.get("name").asText(), want.get(o.get("name").asText()), type,
                            shape(o.get("shape")), Cases.fromRaw(type, ByteBuffer.wrap(all, cursor, size)));
                    cursor += size;
                }
                assertEquals(all.length, cursor, c + " binary sections fill the body");
            }
        }
    }

    @Test
    void grpcRawAndTyped() {
        for (String model : Cases.MODELS) {
            for (Cases.Case c : Cases.load(model)) {
                ModelInferRequest.Builder raw = ModelInferRequest.newBuilder().setModelName(model).setId(c.toString());
                ModelInferRequest.Builder typed = ModelInferRequest.newBuilder().setModelName(model).setModelVersion("1");
                boolean typedPossible = true;
                for (Cases.CaseTensor t : c.inputs()) {
                    ModelInferRequest.InferInputTensor.Builder in = ModelInferRequest.InferInputTensor.newBuilder()
                            .setName(t.name()).setDatatype(t.type().name());
                    Arrays.stream(t.shape()).forEach(in::addShape);
                    raw.addInputs(in.clone()).addRawInputContents(ByteString.copyFrom(Cases.raw(t)));
                    if (t.type() == DataType.FP16) {
                        typedPossible = false; // FP16 has no typed form in the protocol
                    } else {
                        typed.addInputs(in.setContents(Cases.typed(t)));
                    }
                }
                ModelInferResponse r = grpc.modelInfer(raw.build());
                assertEquals(c.toString(), r.getId());
                assertEquals(c.outputs().size(), r.getRawOutputContentsCount(), c + " raw outputs");
                check(c, r, true);
                if (typedPossible) {
                    ModelInferResponse t = grpc.modelInfer(typed.build());
                    assertEquals(0, t.getRawOutputContentsCount(), c + " typed request gets typed outputs");
                    check(c, t, false);
                }
            }
        }
    }

    private static void check(Cases.Case c, ModelInferResponse r, boolean raw) {
        Map<String, Cases.CaseTensor> want = new HashMap<>();
        c.outputs().forEach(t -> want.put(t.name(), t));
        for (int i = 0; i < r.getOutputsCount(); i++) {
            ModelInferResponse.InferOutputTensor o = r.getOutputs(i);
            DataType type = DataType.valueOf(o.getDatatype());
            long[] shape = o.getShapeList().stream().mapToLong(Long::longValue).toArray();
            List<Object> values = raw ? Cases.fromRaw(type, r.getRawOutputContents(i).asReadOnlyByteBuffer())
                    : Cases.fromTyped(type, o.getContents());
            Cases.assertOutput(c + (raw ? " grpc raw " : " grpc typed ") + o.getName(), want.get(o.getName()), type, shape, values);
        }
    }

    @Test
    void churnExampleRequest() throws Exception {
        Response r = post("churn", Cases.resource("churn/example_request.json"), null);
        assertEquals(200, r.statusCode(), r.asString());
        JsonNode body = Cases.JSON.readTree(r.asByteArray());
        Map<String, JsonNode> out = new HashMap<>();
        body.get("outputs").forEach(o -> out.put(o.get("name").asText(), o));
        JsonNode probabilities = out.get("probabilities");
        JsonNode label = out.get("label");
        assertEquals("[2,2]", probabilities.get("shape").toString());
        assertEquals("INT64", label.get("datatype").asText());
        for (int row = 0; row < 2; row++) {
            double p0 = probabilities.get("data").get(2 * row).asDouble();
            double p1 = probabilities.get("data").get(2 * row + 1).asDouble();
            assertEquals(1.0, p0 + p1, 1e-5, "probabilities of row " + row + " sum to 1");
            assertEquals(p1 > p0 ? 1 : 0, label.get("data").get(row).asInt(), "label is the likelier class");
        }
    }

    @Test
    void metadataOfTheRealModels() {
        RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).get("/v2/models/multi_io").then().statusCode(200)
                .body("platform", org.hamcrest.Matchers.equalTo("onnxruntime_onnx"))
                .body("inputs.name", org.hamcrest.Matchers.contains("ids", "mask", "scale"))
                .body("inputs[0].shape", org.hamcrest.Matchers.equalTo(List.of(-1, -1)));
        ModelMetadataResponse m = grpc.modelMetadata(ModelMetadataRequest.newBuilder().setName("scalar_io").build());
        assertEquals(0, m.getInputs(0).getShapeCount());
        assertEquals("FP32", m.getInputs(0).getDatatype());
        RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).get("/v2/health/ready").then().statusCode(200);
    }

    @Test
    void aModelThatFailsToLoadIsNotReadyWhileTheOthersServe() throws Exception {
        var http = RestAssured.given().baseUri("http://127.0.0.1").port(server.port());
        http.get("/v2/health/ready").then().statusCode(200);
        RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).get("/v2/models/broken/ready").then().statusCode(503)
                .body("ready", org.hamcrest.Matchers.equalTo(false));
        Response infer = post("broken", "{\"inputs\":[]}".getBytes(StandardCharsets.UTF_8), null);
        assertEquals(503, infer.statusCode(), infer.asString());
        JsonNode index = Cases.JSON.readTree(RestAssured.given().baseUri("http://127.0.0.1").port(server.port())
                .post("/v2/repository/index").asByteArray());
        boolean sawBroken = false;
        for (JsonNode entry : index) {
            if (entry.get("name").asText().equals("broken")) {
                sawBroken = true;
                assertEquals("UNAVAILABLE", entry.get("state").asText(), entry.toString());
                assertTrue(!entry.get("reason").asText().isBlank(), entry.toString());
            } else {
                assertEquals("READY", entry.get("state").asText(), entry.toString());
            }
        }
        assertTrue(sawBroken, index.toString());
        assertEquals(200, post("scalar_io", "{\"inputs\":[{\"name\":\"x\",\"shape\":[],\"datatype\":\"FP32\",\"data\":[2]}]}"
                .getBytes(StandardCharsets.UTF_8), null).statusCode());
    }

    @Test
    void repositoryUnloadAndLoadThroughTheRealCore() throws Exception {
        byte[] body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[],\"datatype\":\"FP32\",\"data\":[2]}]}".getBytes(StandardCharsets.UTF_8);
        assertEquals(200, post("spare", body, null).statusCode());
        RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).post("/v2/repository/models/spare/unload")
                .then().statusCode(200);
        RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).get("/v2/models/spare/ready").then().statusCode(503);
        Response refused = post("spare", body, null);
        assertTrue(refused.statusCode() == 503 || refused.statusCode() == 404, refused.statusCode() + " " + refused.asString());
        RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).post("/v2/repository/models/spare/load")
                .then().statusCode(200);
        RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).get("/v2/models/spare/ready").then().statusCode(200);
        Response back = post("spare", body, null);
        assertEquals(200, back.statusCode(), back.asString());
        assertTrue(back.asString().contains("4.0"), back.asString());
        RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).post("/v2/repository/models/nope/load")
                .then().statusCode(404);
    }

    @Test
    void signatureMismatchesAre400WithTheReason() {
        String wrongType = "{\"inputs\":[{\"name\":\"x\",\"shape\":[4,3],\"datatype\":\"FP64\",\"data\":[1,2,3,4,5,6,7,8,9,10,11,12]}]}";
        Response r = post("fixed_batch", wrongType.getBytes(StandardCharsets.UTF_8), null);
        assertEquals(400, r.statusCode(), r.asString());
        assertTrue(r.asString().contains("FP32") && r.asString().contains("FP64"), r.asString());
        String wrongShape = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,3],\"datatype\":\"FP32\",\"data\":[1,2,3,4,5,6]}]}";
        Response s = post("fixed_batch", wrongShape.getBytes(StandardCharsets.UTF_8), null);
        assertEquals(400, s.statusCode(), s.asString());
        String wrongName = "{\"inputs\":[{\"name\":\"nope\",\"shape\":[],\"datatype\":\"FP32\",\"data\":[1]}]}";
        Response n = post("scalar_io", wrongName.getBytes(StandardCharsets.UTF_8), null);
        assertEquals(400, n.statusCode(), n.asString());
        assertTrue(n.asString().contains("nope"), n.asString());
    }
}

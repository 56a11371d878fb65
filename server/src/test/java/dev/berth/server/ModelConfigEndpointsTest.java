package dev.berth.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.registry.triton.DataType;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.registry.triton.ModelConfig;
import dev.berth.server.grpc.proto.ModelConfigRequest;
import dev.berth.registry.triton.ModelInstanceGroup;
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

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Triton's model configuration over REST ({@code GET /v2/models/{m}[/versions/{v}]/config}) and
 * gRPC ({@code ModelConfig}) on the real core: the shape tritonclient's {@code get_model_config}
 * reads, and the same facts both ways.
 */
class ModelConfigEndpointsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path models;
    private static BerthServer server;
    private static ManagedChannel channel;
    private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub grpc;

    @BeforeAll
    static void start() throws Exception {
        Cases.registry(models);
        server = BerthServer.builder().models(models).port(0).build().start();
        Cases.awaitReady(server, 120);
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
        grpc = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
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

    private static Response get(String path) {
        return RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).get(path);
    }

    private static JsonNode rest(String path) throws Exception {
        Response r = get(path);
        assertEquals(200, r.statusCode(), r.asString());
        assertTrue(r.contentType().startsWith("application/json"), r.contentType());
        return JSON.readTree(r.asByteArray());
    }

    private static List<Long> longs(JsonNode array) {
        List<Long> out = new ArrayList<>();
        array.forEach(n -> {
            assertTrue(n.isIntegralNumber(), "dims are JSON numbers, as Triton writes them: " + array);
            out.add(n.asLong());
        });
        return out;
    }

    @Test
    void batchingModelInTritonsShape() throws Exception {
        JsonNode c = rest("/v2/models/churn/config");
        JsonNode meta = rest("/v2/models/churn");
        assertEquals("churn", c.path("name").asText());
        assertEquals("onnxruntime_onnx", c.path("platform").asText());
        assertEquals("onnxruntime", c.path("backend").asText());
        assertEquals(32, c.path("max_batch_size").asInt(), "the default serving config's batch limit");
        assertTrue(c.path("version_policy").path("all").isObject(), c.toString());
        JsonNode input = c.path("input").get(0);
        assertEquals(meta.path("inputs").get(0).path("name").asText(), input.path("name").asText());
        assertEquals("TYPE_FP32", input.path("data_type").asText());
        assertEquals("FORMAT_NONE", input.path("format").asText());
        List<Long> shape = longs(meta.path("inputs").get(0).path("shape"));
        assertEquals(shape.subList(1, shape.size()), longs(input.path("dims")), "dims leave the batch axis out");
        assertFalse(input.path("optional").asBoolean());
        assertEquals("TYPE_FP32", c.path("output").get(0).path("data_type").asText());
        assertEquals(500, c.path("dynamic_batching").path("max_queue_delay_microseconds").asLong());
        assertTrue(c.path("dynamic_batching").path("preferred_batch_size").isArray());
        JsonNode group = c.path("instance_group").get(0);
        assertEquals("KIND_CPU", group.path("kind").asText());
        assertEquals(1, group.path("count").asInt());
        assertEquals(c, rest("/v2/models/churn/versions/1/config"), "version 1 is the default version here");
    }

    @Test
    void modelWithAFixedFirstAxisHasNoBatching() throws Exception {
        JsonNode c = rest("/v2/models/fixed_batch/config");
        assertEquals(0, c.path("max_batch_size").asInt());
        assertFalse(c.has("dynamic_batching"), c.toString());
        assertEquals(longs(rest("/v2/models/fixed_batch").path("inputs").get(0).path("shape")), longs(c.path("input").get(0).path("dims")));
    }

    @Test
    void grpcSaysTheSame() throws Exception {
        for (String model : List.of("churn", "fixed_batch", "strings")) {
            ModelConfig g = grpc.modelConfig(ModelConfigRequest.newBuilder().setName(model).build()).getConfig();
            JsonNode r = rest("/v2/models/" + model + "/config");
            assertEquals(r.path("name").asText(), g.getName());
            assertEquals(r.path("backend").asText(), g.getBackend());
            assertEquals(r.path("max_batch_size").asInt(), g.getMaxBatchSize());
            assertEquals(r.path("input").size(), g.getInputCount());
            for (int i = 0; i < g.getInputCount(); i++) {
                assertEquals(r.path("input").get(i).path("name").asText(), g.getInput(i).getName());
                assertEquals(r.path("input").get(i).path("data_type").asText(), g.getInput(i).getDataType().name());
                assertEquals(longs(r.path("input").get(i).path("dims")), g.getInput(i).getDimsList());
            }
            assertEquals(r.has("dynamic_batching"), g.hasDynamicBatching(), model);
            assertEquals(ModelInstanceGroup.Kind.KIND_CPU, g.getInstanceGroup(0).getKind());
            assertTrue(g.getVersionPolicy().hasAll());
        }
        ModelConfig strings = grpc.modelConfig(ModelConfigRequest.newBuilder().setName("strings").setVersion("1").build()).getConfig();
        assertEquals(DataType.TYPE_STRING, strings.getInput(0).getDataType(), "BYTES is Triton's TYPE_STRING");
    }

    @Test
    void unknownModelOrVersionIsNotFound() throws Exception {
        Response r = get("/v2/models/nope/config");
        assertEquals(404, r.statusCode());
        assertTrue(JSON.readTree(r.asByteArray()).path("error").asText().contains("nope"), r.asString());
        assertEquals(404, get("/v2/models/churn/versions/9/config").statusCode());
        assertEquals(405, RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).post("/v2/models/churn/config").statusCode());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> grpc.modelConfig(ModelConfigRequest.newBuilder().setName("nope").build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("nope"), e.getStatus().toString());
    }
}

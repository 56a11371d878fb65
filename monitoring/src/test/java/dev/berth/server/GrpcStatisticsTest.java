package dev.berth.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.monitoring.BerthMetrics;
import dev.berth.registry.LocalRegistry;
import dev.berth.server.grpc.proto.GRPCInferenceServiceGrpc;
import dev.berth.server.grpc.proto.ModelInferRequest;
import dev.berth.server.grpc.proto.ModelStatistics;
import dev.berth.server.grpc.proto.ModelStatisticsRequest;
import dev.berth.server.grpc.proto.ModelStatisticsResponse;
import dev.berth.server.grpc.proto.StatisticDuration;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.restassured.RestAssured;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Triton's {@code ModelStatistics} RPC through a real socket, after real inference traffic on the ONNX
 * Runtime core, against the counts that traffic must have produced and against the REST statistics.
 */
class GrpcStatisticsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path models;

    @Test
    void statisticsMatchTheTrafficAndTheRestEndpoint() throws Exception {
        Churn.copyChurn(models);
        BerthMetrics metrics = BerthMetrics.builder().registry(LocalRegistry.open(models))
                .reportInterval(Duration.ofHours(1)).build();
        BerthServer server = BerthServer.builder().models(models).port(0).monitoring(metrics).build().start();
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
        try {
            Churn.awaitReady(server, "churn");
            var grpc = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);

            ModelStatistics before = grpc.modelStatistics(ModelStatisticsRequest.newBuilder().setName("churn").build())
                    .getModelStats(0);
            assertEquals(0, before.getInferenceStats().getSuccess().getCount(), "no traffic yet");
            assertEquals(0, before.getLastInference());

            // 3 gRPC and 2 REST successes of 2 rows each, one gRPC request of 1 row, 2 failures
            for (int i = 0; i < 3; i++) {
                grpc.modelInfer(Churn.grpcRequest(Churn.EXAMPLE));
            }
            for (int i = 0; i < 2; i++) {
                RestAssured.given().baseUri("http://127.0.0.1").port(server.port()).contentType("application/json")
                        .body(Churn.inferBody(Churn.EXAMPLE))
                        .post("/v2/models/churn/infer").then().statusCode(200);
            }
            float[] oneRow = java.util.Arrays.copyOf(Churn.EXAMPLE, 8);
            grpc.modelInfer(Churn.grpcRequest(oneRow));
            ModelInferRequest wrongShape = Churn.grpcRequest(new float[]{1, 2, 3, 4, 5, 6, 7, 8})
                    .toBuilder().setInputs(0, ModelInferRequest.InferInputTensor.newBuilder().setName("features")
                            .setDatatype("FP32").addShape(2).addShape(4)).build();
            for (int i = 0; i < 2; i++) {
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> grpc.modelInfer(wrongShape));
                assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
            }

            ModelStatisticsResponse all = grpc.modelStatistics(ModelStatisticsRequest.getDefaultInstance());
            assertEquals(1, all.getModelStatsCount(), all.toString());
            ModelStatistics churn = all.getModelStats(0);
            assertEquals("churn", churn.getName());
            assertEquals("1", churn.getVersion());
            assertEquals(6, churn.getInferenceStats().getSuccess().getCount());
            assertTrue(churn.getInferenceStats().getSuccess().getNs() > 0);
            // the two wrong shapes failed after the core resolved them to version 1, so they are its failures
            assertEquals(2, churn.getInferenceStats().getFail().getCount());
            assertTrue(churn.getInferenceStats().getFail().getNs() > 0);
            assertEquals(6, churn.getInferenceStats().getComputeInfer().getCount());
            assertTrue(churn.getInferenceStats().getComputeInfer().getNs() > 0);
            assertEquals(6, churn.getInferenceStats().getQueue().getCount());
            assertEquals(5 * 2 + 1, churn.getInferenceCount(), "rows inferred");
            assertTrue(churn.getExecutionCount() >= 1 && churn.getExecutionCount() <= 6, String.valueOf(churn.getExecutionCount()));
            long now = System.currentTimeMillis();
            assertTrue(churn.getLastInference() > now - 120_000 && churn.getLastInference() <= now,
                    "last inference is a recent epoch millisecond: " + churn.getLastInference());

            // the REST endpoint reads the same figures (no traffic in between)
            JsonNode rest = JSON.readTree(RestAssured.given().baseUri("http://127.0.0.1").port(server.port())
                    .get("/v2/models/churn/versions/1/stats").asByteArray()).path("model_stats").get(0);
            ModelStatistics one = grpc.modelStatistics(ModelStatisticsRequest.newBuilder().setName("churn").setVersion("1").build())
                    .getModelStats(0);
            assertEquals(churn, one, "a version alone answers like the whole list");
            assertEquals(rest.path("inference_count").asLong(), one.getInferenceCount());
            assertEquals(rest.path("execution_count").asLong(), one.getExecutionCount());
            assertEquals(rest.path("last_inference").asLong(), one.getLastInference());
            for (String phase : new String[]{"success", "fail", "queue", "compute_input", "compute_infer", "compute_output",
                    "cache_hit", "cache_miss"}) {
                StatisticDuration d = (StatisticDuration) one.getInferenceStats().getField(
                        one.getInferenceStats().getDescriptorForType().findFieldByName(phase));
                assertEquals(rest.path("inference_stats").path(phase).path("count").asLong(), d.getCount(), phase);
                assertEquals(rest.path("inference_stats").path(phase).path("ns").asLong(), d.getNs(), phase);
            }

            StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
                    () -> grpc.modelStatistics(ModelStatisticsRequest.newBuilder().setName("nothing").build()));
            assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());
            assertTrue(unknown.getStatus().getDescription().contains("nothing"), unknown.getStatus().toString());
            StatusRuntimeException noVersion = assertThrows(StatusRuntimeException.class,
                    () -> grpc.modelStatistics(ModelStatisticsRequest.newBuilder().setName("churn").setVersion("7").build()));
            assertEquals(Status.Code.NOT_FOUND, noVersion.getStatus().getCode());
            assertTrue(noVersion.getStatus().getDescription().contains("'7'"), noVersion.getStatus().toString());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.stop();
            metrics.close();
        }
    }

    @Test
    void withoutMonitoringTheRpcIsUnimplemented() throws InterruptedException {
        try (BerthServer server = BerthServer.builder().inferenceService(new FakeCore()).port(0).build().start()) {
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
            try {
                var grpc = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                        () -> grpc.modelStatistics(ModelStatisticsRequest.getDefaultInstance()));
                assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode(), e.getStatus().toString());
                assertTrue(e.getStatus().getDescription().contains("statistics"), e.getStatus().toString());
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}

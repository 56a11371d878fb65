package dev.berth.server.codec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.berth.server.grpc.proto.InferBatchStatistics;
import dev.berth.server.grpc.proto.InferStatistics;
import dev.berth.server.grpc.proto.ModelStatistics;
import dev.berth.server.grpc.proto.ModelStatisticsResponse;
import dev.berth.server.grpc.proto.StatisticDuration;
import dev.berth.server.spi.TritonStats;

/** Triton's statistics extension on the wire: the REST JSON body and the gRPC {@code ModelStatisticsResponse}. */
public final class TritonStatistics {
    /** Triton's snake_case field names, every field written (a zero is a value, not an absence). */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .serializationInclusion(JsonInclude.Include.ALWAYS)
            .build();

    private TritonStatistics() {
    }

    /** The body of {@code GET /v2/models[/{m}[/versions/{v}]]/stats}. */
    public static byte[] toJson(TritonStats stats) {
        try {
            return JSON.writeValueAsBytes(stats);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("statistics not serialisable", e);
        }
    }

    /** The answer of the {@code ModelStatistics} RPC. */
    public static ModelStatisticsResponse toProto(TritonStats stats) {
        ModelStatisticsResponse.Builder b = ModelStatisticsResponse.newBuilder();
        for (TritonStats.ModelStats m : stats.modelStats()) {
            TritonStats.InferenceStats i = m.inferenceStats();
            ModelStatistics.Builder mb = ModelStatistics.newBuilder()
                    .setName(m.name()).setVersion(m.version())
                    .setLastInference(m.lastInference())
                    .setInferenceCount(m.inferenceCount())
                    .setExecutionCount(m.executionCount())
                    .setInferenceStats(InferStatistics.newBuilder()
                            .setSuccess(toProto(i.success())).setFail(toProto(i.fail())).setQueue(toProto(i.queue()))
                            .setComputeInput(toProto(i.computeInput())).setComputeInfer(toProto(i.computeInfer()))
                            .setComputeOutput(toProto(i.computeOutput()))
                            .setCacheHit(toProto(i.cacheHit())).setCacheMiss(toProto(i.cacheMiss())));
            for (TritonStats.BatchStats batch : m.batchStats()) {
                mb.addBatchStats(InferBatchStatistics.newBuilder().setBatchSize(batch.batchSize())
                        .setComputeInput(toProto(batch.computeInput())).setComputeInfer(toProto(batch.computeInfer()))
                        .setComputeOutput(toProto(batch.computeOutput())));
            }
            b.addModelStats(mb);
        }
        return b.build();
    }

    private static StatisticDuration toProto(TritonStats.StatDuration d) {
        return StatisticDuration.newBuilder().setCount(d.count()).setNs(d.ns()).build();
    }
}

package dev.berth.server.spi;

import java.util.List;

/**
 * Triton's statistics extension ({@code GET /v2/models[/{m}[/versions/{v}]]/stats} and the gRPC
 * {@code ModelStatistics} RPC), as monitoring reads it from the same meters Prometheus scrapes; the
 * wire forms are written by {@code dev.berth.server.codec.TritonStatistics}. Durations are cumulative
 * nanoseconds since start.
 *
 * @param modelStats one entry per model version
 */
public record TritonStats(List<ModelStats> modelStats) {
    public TritonStats {
        modelStats = List.copyOf(modelStats);
    }

    /**
     * @param name           model name
     * @param version        version label
     * @param lastInference  milliseconds since the epoch of the last successful inference, 0 if none
     * @param inferenceCount rows inferred successfully (each row of a batched request counts)
     * @param executionCount model runs executed (a dynamic batch of several requests counts once)
     * @param inferenceStats per-phase counts and durations
     * @param batchStats     per batch size durations; berth does not split compute by batch size, so this is empty
     */
    public record ModelStats(String name, String version, long lastInference, long inferenceCount, long executionCount,
                             InferenceStats inferenceStats, List<BatchStats> batchStats) {
        public ModelStats {
            batchStats = List.copyOf(batchStats);
        }
    }

    /**
     * Triton's phases. {@code success} and {@code fail} are end-to-end request durations as the front
     * ends measured them; {@code queue} the wait for a batch or a session; {@code computeInfer} the ONNX
     * Runtime run. berth does not time input and output conversion apart from the request, so
     * {@code computeInput} and {@code computeOutput} carry the request count with 0 ns; berth has no
     * response cache, so the cache entries are zero.
     */
    public record InferenceStats(StatDuration success, StatDuration fail, StatDuration queue, StatDuration computeInput,
                                 StatDuration computeInfer, StatDuration computeOutput, StatDuration cacheHit,
                                 StatDuration cacheMiss) {
    }

    public record BatchStats(long batchSize, StatDuration computeInput, StatDuration computeInfer, StatDuration computeOutput) {
    }

    public record StatDuration(long count, long ns) {
        public static final StatDuration ZERO = new StatDuration(0, 0);
    }
}

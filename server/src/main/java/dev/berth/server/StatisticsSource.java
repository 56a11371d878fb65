package dev.berth.server;

import dev.berth.monitoring.TritonStats;

/**
 * Where the gRPC {@code ModelStatistics} RPC reads Triton's statistics from. The server itself keeps
 * no meters: monitoring hands one in through {@link BerthServer.Builder#statistics(StatisticsSource)}
 * ({@link MetricsService#install} does), so the front end needs no metrics library and a server
 * without monitoring answers the RPC with UNIMPLEMENTED.
 */
@FunctionalInterface
public interface StatisticsSource {
    /**
     * Statistics of every version of every model when {@code model} is null, of every version of
     * {@code model} when {@code version} is null, else of that version.
     *
     * @throws dev.berth.runtime.InferenceException.NotFound when the model has no statistics (never
     *                                                       loaded) or the version has none
     */
    TritonStats statistics(String model, String version);
}

package dev.berth.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.registry.RegistryJson;
import dev.berth.registry.ServingConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * A {@code berth perf} run as it is kept in the registry ({@code <name>/<version>/perf/<time>.json};
 * the format is described in docs/registry-format.md). Written and read with the registry's JSON
 * conventions (snake_case, UTC times).
 */
record PerfReport(String format, String model, int version, Instant created, Target target, Settings settings,
                  Machine machine, ServingConfig serving, List<Result> results) {
    /** The value of {@code format}. */
    static final String FORMAT = "berth.perf.v1";
    /** The ceiling's front-end name. */
    static final String IN_PROCESS = "in-process";

    /** What was measured: berth's own in-process server on ephemeral ports, or a running server. */
    record Target(String mode, String url, String grpc) {
    }

    /** The sweep and perf_analyzer-style windows. */
    record Settings(long warmupMs, long windowMs, double stabilityPercent, int stableWindows, int maxWindows,
                    List<Integer> concurrency, List<Integer> batchSizes, List<String> frontEnds) {
    }

    /** The machine, for reading the figures: the load average says how busy it was before the run. */
    record Machine(int cores, String os, String java, Double loadAverage) {
    }

    /** Latency of the successful requests in milliseconds. */
    record Latency(double mean, double p50, double p90, double p99, double max) {
    }

    /** One point: a front end at one batch size and concurrency, over its last stable windows. */
    record Result(String frontEnd, int batch, int concurrency, long requests, long errors, double seconds,
                  double requestsPerSecond, double inferencesPerSecond, Latency latencyMs, int windows, boolean stable,
                  String firstError) {
    }

    static PerfReport read(Path file) throws IOException {
        return mapper().readValue(file.toFile(), PerfReport.class);
    }

    byte[] toJson() throws IOException {
        return mapper().writeValueAsBytes(this);
    }

    private static ObjectMapper mapper() {
        return RegistryJson.mapper();
    }

    /** The point of {@code frontEnd} with the most inferences per second, over every batch size and concurrency. */
    Optional<Result> peak(String frontEnd) {
        return results.stream().filter(r -> r.frontEnd().equals(frontEnd))
                .max(Comparator.comparingDouble(Result::inferencesPerSecond));
    }

    /** The point of {@code frontEnd} at the smallest batch and concurrency measured: its latency is the lone client's. */
    Optional<Result> lone(String frontEnd) {
        return results.stream().filter(r -> r.frontEnd().equals(frontEnd))
                .min(Comparator.comparingInt(Result::batch).thenComparingInt(Result::concurrency));
    }

    /** The in-process point of the same batch and concurrency, where measured. */
    Optional<Result> ceilingOf(Result r) {
        return results.stream().filter(c -> c.frontEnd().equals(IN_PROCESS) && c.batch() == r.batch()
                && c.concurrency() == r.concurrency()).findFirst();
    }

    /** Front ends in the order of the settings (the ceiling first where measured). */
    List<String> frontEnds() {
        return results.stream().map(Result::frontEnd).distinct()
                .sorted(Comparator.comparingInt(f -> settings.frontEnds().indexOf(f))).toList();
    }
}

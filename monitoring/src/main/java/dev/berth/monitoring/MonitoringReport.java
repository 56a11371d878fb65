package dev.berth.monitoring;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.berth.registry.RegistryJson;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One performance report of a served model version over a time window, as stored in the version's
 * {@code monitoring/} folder ({@code <start>-<end>.json}, snake_case keys). The format is described in
 * {@code docs/monitoring.md}; this record and that document change together.
 *
 * @param format     {@value #FORMAT}
 * @param model      model name
 * @param version    model version
 * @param start      window start (UTC)
 * @param end        window end (UTC)
 * @param requests   request counts as the protocol front ends saw them
 * @param throughput successful requests per second over the window
 * @param latency    end-to-end, queue and compute time percentiles, in milliseconds
 * @param batches    executed batch sizes (rows per ONNX Runtime run) and how often each occurred
 * @param payload    request and response payload sizes
 * @param inputs     summary statistics of the inputs the model received
 * @param drift      population stability index against the training data, where the version has it; else null
 */
public record MonitoringReport(String format, String model, int version, Instant start, Instant end,
                               Requests requests, double throughput, Latency latency, Batches batches,
                               Payload payload, List<InputStats> inputs, Drift drift) {
    /** The value of {@code format} in reports this version writes. */
    public static final String FORMAT = "berth.monitoring-report/1";
    /**
     * Fewest values of a column in one window for its PSI to be computed. With fewer, ten bins are
     * mostly empty or single values and the index measures noise (a window of 8 requests showed
     * PSI 6.97 for an unchanged column), so the report says "not enough data" instead: no value,
     * no gauge, no alert.
     */
    public static final int MIN_PSI_ROWS = 100;

    public MonitoringReport {
        format = format == null ? FORMAT : format;
        inputs = inputs == null ? List.of() : List.copyOf(inputs);
    }

    /** Window length in seconds. */
    public double seconds() {
        return Math.max(0.001, (end.toEpochMilli() - start.toEpochMilli()) / 1000.0);
    }

    /** Reads a stored report. */
    public static MonitoringReport read(Path file) throws IOException {
        return RegistryJson.mapper().readValue(file.toFile(), MonitoringReport.class);
    }

    /** The report as the registry stores it. */
    public byte[] toJson() {
        try {
            return RegistryJson.mapper().writeValueAsBytes(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("report not serialisable", e);
        }
    }

    /**
     * @param total       requests that reached this version through REST or gRPC
     * @param success     answered successfully
     * @param clientError refused as the client's fault (bad input)
     * @param serverError failed on the server's side
     * @param byProtocol  requests per protocol label (rest, grpc)
     * @param inferences  requests the inference core completed (also those of in-process callers)
     * @param rows        rows (batch elements) the core inferred
     */
    public record Requests(long total, long success, long clientError, long serverError,
                           Map<String, Long> byProtocol, long inferences, long rows) {
        /** Client and server errors together. */
        public long errors() {
            return clientError + serverError;
        }
    }

    public record Latency(Percentiles endToEnd, Percentiles queue, Percentiles compute) {
    }

    /** Durations in milliseconds. */
    public record Percentiles(long count, double mean, double p50, double p90, double p95, double p99, double max) {
    }

    /**
     * @param executed runs of the model
     * @param meanRows average rows per run
     * @param sizes    runs by row count (keys are row counts, as text)
     */
    public record Batches(long executed, double meanRows, Map<String, Long> sizes) {
    }

    public record Payload(Bytes request, Bytes response) {
    }

    public record Bytes(long count, long total, double mean, long max) {
    }

    /**
     * @param name     input name
     * @param datatype OIP datatype
     * @param summary  over every element seen (sampled for large tensors)
     * @param columns  per named column, for inputs whose signature names columns; else empty
     */
    public record InputStats(String name, String datatype, Summary summary, List<ColumnStats> columns) {
        public InputStats {
            columns = columns == null ? List.of() : List.copyOf(columns);
        }
    }

    public record ColumnStats(String name, Summary summary) {
    }

    /**
     * @param psi population stability index against the training data; null without training data
     *            or with fewer than {@link #MIN_PSI_ROWS} values in the window
     */
    public record Summary(long count, double mean, double std, double min, double max, List<Bin> histogram, Double psi) {
        public Summary {
            histogram = histogram == null ? List.of() : List.copyOf(histogram);
        }
    }

    /**
     * One histogram bin, values in (lower, upper]; a null edge is open.
     *
     * @param trainingFraction share of the training data in this bin, where the version has training data
     */
    public record Bin(Double lower, Double upper, long count, Double trainingFraction) {
    }

    /**
     * @param trainingData the training data file in the version folder
     * @param trainingRows rows read from it
     * @param columns      PSI per column with at least {@code minRows} values in the window, keyed {@code input.column}
     * @param maxPsi       the largest of them; null when no column had enough values
     * @param minRows      the fewest values a column needs for a PSI ({@link #MIN_PSI_ROWS}); null in older reports
     * @param notEnoughData columns with training data but fewer than {@code minRows} values, with their count
     */
    public record Drift(String trainingData, int trainingRows, Map<String, Double> columns, Double maxPsi, Integer minRows,
                        Map<String, Long> notEnoughData) {
        public Drift {
            columns = columns == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(columns));
            notEnoughData = notEnoughData == null ? Map.of()
                    : Collections.unmodifiableMap(new LinkedHashMap<>(notEnoughData));
        }
    }
}

package dev.berth.monitoring;

import dev.berth.runtime.InferenceException;
import dev.berth.server.spi.TritonStats;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** Triton's statistics extension read from the same meters that Prometheus scrapes. */
final class TritonStatsView {
    private final ModelVersionTable table;
    private final Set<String> knownModels;

    /**
     * @param table       the versions with meters
     * @param knownModels the models that had a version loaded (or failed to load), or served a request
     */
    TritonStatsView(ModelVersionTable table, Set<String> knownModels) {
        this.table = table;
        this.knownModels = knownModels;
    }

    /** See {@link BerthMetrics#statistics(String, String)}. */
    TritonStats statistics(String model, String version) {
        String m = model == null || model.isEmpty() ? null : model;
        String v = m == null || version == null || version.isEmpty() ? null : version;
        if (m != null && !knownModels.contains(m)) {
            throw new InferenceException.NotFound("no statistics for model '" + m + "': it is not loaded");
        }
        TritonStats stats = tritonStats(m, v);
        if (v != null && stats.modelStats().isEmpty()) {
            throw new InferenceException.NotFound("no statistics for version '" + v + "' of model '" + m + "'");
        }
        return stats;
    }

    /** See {@link BerthMetrics#tritonStats(String, String)}. */
    TritonStats tritonStats(String model, String version) {
        List<TritonStats.ModelStats> out = new ArrayList<>();
        List<VersionState> states = model == null ? table.all() : table.of(model);
        for (VersionState s : states) {
            if (s.version() <= 0 || (version != null && !version.isEmpty() && !s.versionLabel().equals(version))) {
                continue;
            }
            out.add(stats(s));
        }
        return new TritonStats(out);
    }

    private static TritonStats.ModelStats stats(VersionState s) {
        long[] success = s.requestMeters().countAndNanos(true);
        long[] fail = s.requestMeters().countAndNanos(false);
        InferenceMeterBinder.Meters im = s.inferenceMeters();
        long queueCount = im.queue.count();
        long queueNs = Math.round(im.queue.totalTime(TimeUnit.NANOSECONDS));
        long computeCount = im.compute.count();
        long computeNs = Math.round(im.compute.totalTime(TimeUnit.NANOSECONDS));
        TritonStats.InferenceStats inference = new TritonStats.InferenceStats(
                new TritonStats.StatDuration(success[0], success[1]),
                new TritonStats.StatDuration(fail[0], fail[1]),
                new TritonStats.StatDuration(queueCount, queueNs),
                new TritonStats.StatDuration(computeCount, 0),
                new TritonStats.StatDuration(computeCount, computeNs),
                new TritonStats.StatDuration(computeCount, 0),
                TritonStats.StatDuration.ZERO, TritonStats.StatDuration.ZERO);
        return new TritonStats.ModelStats(s.model(), s.versionLabel(), im.lastInferenceMillis,
                Math.round(im.inferences.count()), im.batchSize.count(), inference, List.of());
    }
}

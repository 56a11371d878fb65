package dev.berth.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The sweep of {@code berth perf}: every batch size, every concurrency, every front end (the
 * in-process ceiling first), one {@link PerfMeasurement} each, interleaved so that a berth point
 * and its ceiling are measured within seconds of each other on a machine whose load changes.
 */
final class PerfSweep {
    /** Opens callers of one front end for a batch size's payload. */
    interface FrontEnd {
        PerfMeasurement.CallerFactory callers(PerfPayload payload);
    }

    private final Map<String, FrontEnd> frontEnds;
    private final List<Integer> concurrency;
    private final PerfMeasurement.Settings settings;
    private final Consumer<String> progress;

    /** {@code frontEnds} in the order they are measured at each point. */
    PerfSweep(Map<String, FrontEnd> frontEnds, List<Integer> concurrency, PerfMeasurement.Settings settings, Consumer<String> progress) {
        this.frontEnds = frontEnds;
        this.concurrency = List.copyOf(concurrency);
        this.settings = settings;
        this.progress = progress;
    }

    List<PerfReport.Result> run(List<PerfPayload> payloads) throws Exception {
        List<PerfReport.Result> results = new ArrayList<>();
        int total = payloads.size() * concurrency.size() * frontEnds.size();
        int done = 0;
        for (PerfPayload payload : payloads) {
            // one call per front end first: a refused request is a clear error, not a sweep of failures
            for (Map.Entry<String, FrontEnd> f : frontEnds.entrySet()) {
                try (PerfMeasurement.Caller probe = f.getValue().callers(payload).open()) {
                    probe.call();
                } catch (Exception e) {
                    throw new PerfException(f.getKey() + ", batch " + payload.batch() + ": " + e.getMessage(), e);
                }
            }
            for (int c : concurrency) {
                for (Map.Entry<String, FrontEnd> f : frontEnds.entrySet()) {
                    done++;
                    String label = String.format(Locale.ROOT, "[%d/%d] %s batch %d concurrency %d", done, total, f.getKey(), payload.batch(), c);
                    PerfMeasurement.Point p = PerfMeasurement.measure(f.getValue().callers(payload), c, settings,
                            line -> progress.accept(label + ": " + line));
                    progress.accept(String.format(Locale.ROOT, "%s: %.1f inferences/s, p50 %.3f ms, p90 %.3f ms, p99 %.3f ms%s%s",
                            label, p.requestsPerSecond() * payload.batch(), p.p50Ms(), p.p90Ms(), p.p99Ms(),
                            p.stable() ? "" : " (not stable within " + settings.maxWindows() + " windows)",
                            p.errors() > 0 ? ", " + p.errors() + " errors: " + p.firstError() : ""));
                    results.add(new PerfReport.Result(f.getKey(), payload.batch(), c, p.requests(), p.errors(), round(p.seconds()),
                            round(p.requestsPerSecond()), round(p.requestsPerSecond() * payload.batch()),
                            new PerfReport.Latency(micro(p.meanMs()), micro(p.p50Ms()), micro(p.p90Ms()), micro(p.p99Ms()), micro(p.maxMs())),
                            p.windows(), p.stable(), p.firstError()));
                }
            }
        }
        return results;
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    private static double micro(double ms) {
        return Math.round(ms * 1000) / 1000.0;
    }

    /** A sweep that cannot run (a front end refuses the request). */
    static final class PerfException extends RuntimeException {
        PerfException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}

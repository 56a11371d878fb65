package dev.berth.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * One point of a {@code berth perf} sweep, measured as Triton's perf_analyzer does: N callers
 * (threads, one connection each) call back to back; after a warm-up, time is cut into measurement
 * windows, and windows are added until the last {@code stableWindows} agree within the stability
 * tolerance on throughput and mean latency, or {@code maxWindows} were measured. The point is the
 * last {@code stableWindows} windows together: their throughput and their latency percentiles.
 */
final class PerfMeasurement {
    /** One prepared connection (or session) that makes one call at a time. */
    interface Caller extends AutoCloseable {
        void call() throws Exception;
    }

    /** Opens a caller per thread. */
    interface CallerFactory {
        Caller open() throws Exception;
    }

    /** How long to measure: perf_analyzer's measurement interval, stability percentage and trial count. */
    record Settings(Duration warmup, Duration window, double stabilityPercent, int stableWindows, int maxWindows) {
        Settings {
            if (window.isNegative() || window.isZero()) {
                throw new IllegalArgumentException("the measurement window must be positive");
            }
            if (stableWindows < 1 || maxWindows < stableWindows) {
                throw new IllegalArgumentException("max windows must be at least the " + stableWindows + " windows compared for stability");
            }
        }
    }

    /** What one point measured. Latencies in milliseconds. */
    record Point(long requests, long errors, double seconds, double requestsPerSecond, double meanMs, double p50Ms,
                 double p90Ms, double p99Ms, double maxMs, int windows, boolean stable, String firstError) {
    }

    private static final int CHUNK = 4096;
    private static final int MAX_CHUNKS = 4096;

    /**
     * What one caller thread saw: (end time, latency) pairs, latency negative for a failed call. Only
     * the thread writes; the coordinator reads up to the published count.
     */
    private static final class Samples {
        final long[][] chunks = new long[MAX_CHUNKS][];
        volatile int count;

        void add(long end, long latency) {
            int n = count;
            int chunk = n / CHUNK;
            if (chunk >= MAX_CHUNKS) {
                return; // 16 M samples per thread: enough for any window perf runs
            }
            if (chunks[chunk] == null) {
                chunks[chunk] = new long[CHUNK * 2];
            }
            int at = (n % CHUNK) * 2;
            chunks[chunk][at] = end;
            chunks[chunk][at + 1] = latency;
            count = n + 1;
        }
    }

    private PerfMeasurement() {
    }

    /**
     * Measures one point. {@code progress} hears one line per window.
     *
     * @throws Exception the first caller's failure to open (a refused connection, a bad model)
     */
    static Point measure(CallerFactory factory, int concurrency, Settings s, Consumer<String> progress) throws Exception {
        List<Caller> callers = new ArrayList<>();
        try {
            for (int i = 0; i < concurrency; i++) {
                callers.add(factory.open());
            }
            return run(callers, s, progress);
        } finally {
            for (Caller c : callers) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // a caller that cannot close cleanly does not change what was measured
                }
            }
        }
    }

    private static Point run(List<Caller> callers, Settings s, Consumer<String> progress) throws InterruptedException {
        Samples[] samples = new Samples[callers.size()];
        Thread[] threads = new Thread[callers.size()];
        AtomicReference<String> firstError = new AtomicReference<>();
        long start = System.nanoTime();
        AtomicBoolean stop = new AtomicBoolean();
        for (int i = 0; i < threads.length; i++) {
            Samples mine = samples[i] = new Samples();
            Caller caller = callers.get(i);
            threads[i] = Thread.ofPlatform().daemon().name("berth-perf-" + i).start(() -> {
                while (!stop.get()) {
                    long t0 = System.nanoTime();
                    try {
                        caller.call();
                        long t1 = System.nanoTime();
                        mine.add(t1, t1 - t0);
                    } catch (Exception e) {
                        long t1 = System.nanoTime();
                        mine.add(t1, -1);
                        firstError.compareAndSet(null, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
                        if (Thread.currentThread().isInterrupted()) {
                            return;
                        }
                    }
                }
            });
        }
        long windowNanos = s.window().toNanos();
        long first = start + s.warmup().toNanos();
        List<long[]> windows = new ArrayList<>(); // per window: {requests, errors, latency sum}
        int used = 0;
        boolean stable = false;
        try {
            while (used < s.maxWindows()) {
                long end = first + (used + 1) * windowNanos;
                sleepUntil(end);
                long[] w = window(samples, end - windowNanos, end, null);
                windows.add(w);
                used++;
                double rps = w[0] / (windowNanos / 1e9);
                progress.accept(String.format(Locale.ROOT, "window %d: %.1f req/s, mean %.3f ms%s", used, rps,
                        w[0] == 0 ? 0.0 : w[2] / 1e6 / w[0], w[1] > 0 ? ", " + w[1] + " errors" : ""));
                if (used >= s.stableWindows() && stable(windows.subList(used - s.stableWindows(), used), s.stabilityPercent())) {
                    stable = true;
                    break;
                }
            }
        } finally {
            stop.set(true);
            for (Thread t : threads) {
                t.join(35_000);
                if (t.isAlive()) {
                    t.interrupt();
                }
            }
        }
        long to = first + used * windowNanos;
        long from = to - (long) s.stableWindows() * windowNanos;
        List<Long> latencies = new ArrayList<>();
        long[] total = window(samples, from, to, latencies);
        long[] sorted = latencies.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(sorted);
        double seconds = (to - from) / 1e9;
        return new Point(total[0] + total[1], total[1], seconds, total[0] / seconds,
                total[0] == 0 ? 0 : total[2] / 1e6 / total[0], pct(sorted, 50), pct(sorted, 90), pct(sorted, 99),
                sorted.length == 0 ? 0 : sorted[sorted.length - 1] / 1e6, used, stable, firstError.get());
    }

    /** perf_analyzer's rule: every compared window within the tolerance of their mean, for throughput and for latency. */
    static boolean stable(List<long[]> windows, double percent) {
        double tolerance = percent / 100.0;
        double[] rps = windows.stream().mapToDouble(w -> w[0]).toArray();
        double[] mean = windows.stream().mapToDouble(w -> w[0] == 0 ? 0 : (double) w[2] / w[0]).toArray();
        return within(rps, tolerance) && within(mean, tolerance) && Arrays.stream(rps).allMatch(r -> r > 0);
    }

    private static boolean within(double[] values, double tolerance) {
        double avg = Arrays.stream(values).average().orElse(0);
        return Arrays.stream(values).allMatch(v -> Math.abs(v - avg) <= tolerance * avg);
    }

    /** Successful requests, failed ones and the successful latencies' sum ending in [from, to); latencies collected when asked. */
    private static long[] window(Samples[] all, long from, long to, List<Long> latencies) {
        long ok = 0;
        long failed = 0;
        long sum = 0;
        for (Samples s : all) {
            int n = s.count;
            for (int i = 0; i < n; i++) {
                long[] chunk = s.chunks[i / CHUNK];
                int at = (i % CHUNK) * 2;
                long end = chunk[at];
                if (end < from || end >= to) {
                    continue;
                }
                long latency = chunk[at + 1];
                if (latency < 0) {
                    failed++;
                } else {
                    ok++;
                    sum += latency;
                    if (latencies != null) {
                        latencies.add(latency);
                    }
                }
            }
        }
        return new long[] {ok, failed, sum};
    }

    private static double pct(long[] sorted, int p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length); // nearest rank
        return sorted[Math.max(0, rank - 1)] / 1e6;
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        for (long left = nanoTime - System.nanoTime(); left > 0; left = nanoTime - System.nanoTime()) {
            Thread.sleep(Math.max(1, left / 1_000_000), 0);
        }
    }
}

package dev.berth.bench;

import ai.onnxruntime.OrtException;
import dev.berth.registry.ServingConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The compute ceiling under load: {@code c} threads call one shared session in a loop (as berth's
 * request threads share a model's session), for each concurrency of the sweep. Unlike the JMH
 * benchmark this gives throughput and latency percentiles at the same concurrencies the load
 * generators use, in the same run as berth.
 */
public final class ComputeCeiling {
    private ComputeCeiling() {
    }

    /** One measured point. */
    public record Point(int concurrency, double throughput, double p50Millis, double p99Millis, long requests, double cpuShare) {
    }

    /** Runs {@code threads} callers for {@code warmupMillis} and then {@code millis}, measuring the second part. */
    public static Point measure(OrtCase ort, int threads, long warmupMillis, long millis) throws InterruptedException {
        AtomicBoolean measuring = new AtomicBoolean(false);
        AtomicBoolean stop = new AtomicBoolean(false);
        long[][] latencies = new long[threads][];
        int[] counts = new int[threads];
        CountDownLatch done = new CountDownLatch(threads);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int index = t;
            workers.add(Thread.ofPlatform().daemon().start(() -> {
                long[] mine = new long[1 << 16];
                int n = 0;
                try {
                    while (!stop.get()) {
                        long start = System.nanoTime();
                        ort.run();
                        long took = System.nanoTime() - start;
                        if (measuring.get()) {
                            if (n == mine.length) {
                                mine = Arrays.copyOf(mine, n * 2);
                            }
                            mine[n++] = took;
                        }
                    }
                } catch (OrtException e) {
                    throw new IllegalStateException(e);
                } finally {
                    latencies[index] = mine;
                    counts[index] = n;
                    done.countDown();
                }
            }));
        }
        Thread.sleep(warmupMillis);
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        measuring.set(true);
        long cpuStart = os.getProcessCpuTime();
        long start = System.nanoTime();
        Thread.sleep(millis);
        measuring.set(false);
        long elapsed = System.nanoTime() - start;
        long cpu = os.getProcessCpuTime() - cpuStart;
        stop.set(true);
        done.await();
        int total = 0;
        for (int c : counts) {
            total += c;
        }
        long[] all = new long[total];
        int at = 0;
        for (int t = 0; t < threads; t++) {
            System.arraycopy(latencies[t], 0, all, at, counts[t]);
            at += counts[t];
        }
        Arrays.sort(all);
        double cpuShare = 100.0 * cpu / elapsed / Runtime.getRuntime().availableProcessors();
        return new Point(threads, total / (elapsed / 1e9), percentile(all, 50) / 1e6, percentile(all, 99) / 1e6, total, cpuShare);
    }

    static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    /**
     * {@code compute --series NAME --model M --batch B --concurrency 1,4,16,64 --seconds S [--warmup S] [--group G]
     * [--threads berth|ort-default] --out FILE}: appends one results row per concurrency ({@link Results} format).
     * {@code --threads berth} (the default) gives the session berth's default serving config (1 intra-op and
     * 1 inter-op thread); {@code ort-default} leaves both to ONNX Runtime (issue 11's "in-process ONNX Runtime
     * with its default threads": as many intra-op threads as cores).
     */
    static void main(List<String> args) throws Exception {
        Args a = new Args(args);
        String model = a.required("--model");
        int batch = Integer.parseInt(a.optional("--batch", "1"));
        String series = a.optional("--series", model + batch + "/in-process");
        double seconds = Double.parseDouble(a.optional("--seconds", "5"));
        double warmup = Double.parseDouble(a.optional("--warmup", "1"));
        Path out = Path.of(a.required("--out"));
        String threads = a.optional("--threads", "berth");
        ServingConfig config = switch (threads) {
            case "berth" -> ServingConfig.defaults();
            case "ort-default" -> ServingConfig.defaults().toBuilder().intraOpThreads(0).interOpThreads(0).build();
            default -> throw new IllegalArgumentException("--threads takes berth or ort-default, got " + threads);
        };
        try (OrtCase ort = OrtCase.open(BenchModels.locate(model), model, BenchModels.shape(model, batch), config)) {
            for (String c : a.optional("--concurrency", "1").split(",")) {
                Point p = measure(ort, Integer.parseInt(c.trim()), (long) (warmup * 1000), (long) (seconds * 1000));
                String row = String.format(Locale.ROOT, "%s\t%d\t%.1f\t%.3f\t%.3f\t%d\t0\t0\t%.1f\t-\t%s%n",
                        series, p.concurrency(), p.throughput(), p.p50Millis(), p.p99Millis(), p.requests(), p.cpuShare(),
                        a.optional("--group", ""));
                Files.writeString(out, row, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                System.out.print(row);
            }
        }
    }
}

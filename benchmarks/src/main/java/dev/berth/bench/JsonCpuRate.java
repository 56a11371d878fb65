package dev.berth.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The same cases as {@link JsonTensorBenchmark}, timed in CPU seconds of the measuring thread
 * rather than wall time: MB of JSON text per CPU-second is "per core" literally, and on a machine
 * shared with other work it moves far less than a wall-clock rate (time the thread spends
 * descheduled does not count). The cases run in rotation, a round of each at a time, so that all of
 * them see the same machine. Not JMH: no forks, a warm-up round, then the rounds reported.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar dev.berth.bench.JsonCpuRate [seconds-per-case-per-round] [rounds]</pre>
 */
public final class JsonCpuRate {
    private JsonCpuRate() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        for (String numbers : new String[] {"python", "java"}) {
            JsonTensorBenchmark b = new JsonTensorBenchmark();
            b.elements = 150_528;
            b.numbers = numbers;
            b.prepare();
            JsonTensorBenchmark.Text t = new JsonTensorBenchmark.Text();
            Map<String, Callable<Object>> cases = new LinkedHashMap<>();
            cases.put("decodeBerth", () -> b.decodeBerth(t));
            cases.put("decodeJacksonTree", () -> b.decodeJacksonTree(t));
            cases.put("tokensJackson", () -> b.tokensJackson(t));
            cases.put("encodeBerth", () -> b.encodeBerth(t));
            cases.put("encodeJackson", () -> b.encodeJackson(t));
            Map<String, double[]> totals = new LinkedHashMap<>(); // MB, CPU seconds
            for (int round = 0; round <= rounds; round++) {
                for (Map.Entry<String, Callable<Object>> c : cases.entrySet()) {
                    t.mb = 0;
                    long wallEnd = System.nanoTime() + (long) (seconds * 1e9);
                    long cpu0 = cpu.getCurrentThreadCpuTime();
                    while (System.nanoTime() < wallEnd) {
                        c.getValue().call();
                    }
                    double cpuSeconds = (cpu.getCurrentThreadCpuTime() - cpu0) / 1e9;
                    if (round > 0) { // round 0 warms the JIT up
                        double[] sum = totals.computeIfAbsent(c.getKey(), k -> new double[2]);
                        sum[0] += t.mb;
                        sum[1] += cpuSeconds;
                    }
                }
            }
            for (Map.Entry<String, double[]> e : totals.entrySet()) {
                System.out.printf(Locale.ROOT, "%s\t%s\t%.1f MB per CPU-second\t(%.1f MB in %.2f CPU-s)%n", e.getKey(), numbers,
                        e.getValue()[0] / e.getValue()[1], e.getValue()[0], e.getValue()[1]);
            }
        }
    }
}

package dev.berth.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Turns a results folder into {@code results.md} (the targets with verdicts, then every
 * point with its ratio to the ceiling measured in the same run) and {@code chart.png}.
 */
public final class Report {
    /** Verdict of one target. */
    enum Verdict { MET, MISSED, NOT_MEASURED }

    record Target(String name, String goal, String measured, Verdict verdict) {
    }

    private Report() {
    }

    /** The targets, judged on {@code results}. */
    static List<Target> targets(Results r) {
        List<Target> t = new ArrayList<>();
        t.add(ratio(r, "churn sample, batch 1, REST JSON, 16 connections", ">= 0.6 x transport ceiling",
                r.near("churn-json/berth", 16), r.near("churn-json/ceiling", 16), 0.6));
        for (String s : List.of("slow8-binary", "slow8-grpc")) {
            t.add(ratio(r, "`slow`, batch 8, " + (s.endsWith("grpc") ? "gRPC" : "REST binary") + " (peak over the sweep)",
                    ">= 0.9 x compute ceiling (peak)", r.peak(s + "/berth"), r.peak("slow8/in-process"), 0.9));
        }
        t.add(batching(r));
        t.add(latency(r, "churn-json/berth", "churn1/in-process", "churn"));
        t.add(latency(r, "digits-json/berth", "digits1/in-process", "digits"));
        for (String s : List.of("large-binary", "large-grpc")) {
            t.add(ratio(r, "large tensors FP32 1x3x224x224, " + (s.endsWith("grpc") ? "gRPC" : "REST binary") + " vs REST JSON (peak)",
                    ">= 5 x JSON throughput", r.peak(s + "/berth"), r.peak("large-json/berth"), 5.0));
        }
        t.add(allocation(r));
        t.add(below(r, "`berth serve` on models/: ready after process start", "startup_ms", "< 2500 ms", 2500, "ms"));
        t.add(below(r, "`berth serve` with a class-data-sharing archive", "startup_cds_ms", "< 2500 ms", 2500, "ms"));
        t.add(below(r, "`berth serve` with JDK 25's AOT cache (not what the launcher does today)", "startup_aot_ms", "< 2500 ms", 2500, "ms"));
        t.add(below(r, "resident memory serving the samples (after load)", "rss_mb", "< 300 MB", 300, "MB"));
        t.add(below(r, "`berth package` of a new version of a pushed model", "package_ms", "< 5000 ms, only the model layer pushed", 5000, "ms"));
        return t;
    }

    private static Target ratio(Results r, String name, String goal, Optional<Results.Row> berth, Optional<Results.Row> ceiling, double min) {
        if (berth.isEmpty() || ceiling.isEmpty() || !(ceiling.get().throughput() > 0)) {
            return new Target(name, goal, "-", Verdict.NOT_MEASURED);
        }
        double ratio = berth.get().throughput() / ceiling.get().throughput();
        String measured = String.format(Locale.ROOT, "%.2f x (%.0f req/s at c=%d vs %.0f req/s at c=%d)", ratio,
                berth.get().throughput(), berth.get().concurrency(), ceiling.get().throughput(), ceiling.get().concurrency());
        return new Target(name, goal, measured, ratio >= min ? Verdict.MET : Verdict.MISSED);
    }

    private static Target batching(Results r) {
        String name = "`slow`, batch 1 requests, 32 connections, dynamic batching on vs off";
        String goal = ">= 2 x throughput, p99 not worse";
        Optional<Results.Row> on = r.near("slow1-batch-on/berth", 32);
        Optional<Results.Row> off = r.near("slow1-batch-off/berth", 32);
        if (on.isEmpty() || off.isEmpty() || !(off.get().throughput() > 0)) {
            return new Target(name, goal, "-", Verdict.NOT_MEASURED);
        }
        double ratio = on.get().throughput() / off.get().throughput();
        boolean p99ok = on.get().p99Millis() <= off.get().p99Millis();
        String measured = String.format(Locale.ROOT, "%.2f x (%.0f vs %.0f req/s at c=%d); p99 %.2f vs %.2f ms", ratio,
                on.get().throughput(), off.get().throughput(), on.get().concurrency(), on.get().p99Millis(), off.get().p99Millis());
        return new Target(name, goal, measured, ratio >= 2 && p99ok ? Verdict.MET : Verdict.MISSED);
    }

    private static Target latency(Results r, String berthSeries, String inProcess, String model) {
        String name = model + " sample, batch 1, REST JSON, 1 connection";
        String goal = "p50 <= in-process + 0.3 ms; p99 <= in-process + 1 ms";
        Optional<Results.Row> b = r.at(berthSeries, 1);
        Optional<Results.Row> c = r.at(inProcess, 1);
        if (b.isEmpty() || c.isEmpty()) {
            return new Target(name, goal, "-", Verdict.NOT_MEASURED);
        }
        double dp50 = b.get().p50Millis() - c.get().p50Millis();
        double dp99 = b.get().p99Millis() - c.get().p99Millis();
        String measured = String.format(Locale.ROOT, "p50 %.3f ms (+%.3f), p99 %.3f ms (+%.3f); in-process p50 %.3f, p99 %.3f ms",
                b.get().p50Millis(), dp50, b.get().p99Millis(), dp99, c.get().p50Millis(), c.get().p99Millis());
        Optional<Results.Row> transport = r.at(b.get().ceiling(), 1);
        if (transport.isPresent()) {
            // the bare server's own tail shows how much of berth's is the machine's
            measured += String.format(Locale.ROOT, "; bare Helidon p50 %.3f, p99 %.3f ms",
                    transport.get().p50Millis(), transport.get().p99Millis());
        }
        return new Target(name, goal, measured, dp50 <= 0.3 && dp99 <= 1.0 ? Verdict.MET : Verdict.MISSED);
    }

    private static Target allocation(Results r) {
        String name = "large tensors: allocation per request, decode + core + encode (JMH -prof gc, CoreBenchmark.roundTrip)";
        String goal = "about one tensor (602,112 B) per copy; no quadratic copies";
        List<Results.Jmh> allocs = r.jmh().stream()
                .filter(j -> j.benchmark().endsWith("CoreBenchmark.roundTrip:gc.alloc.rate.norm"))
                .filter(j -> "large:1".equals(j.params().get("modelBatch")))
                .filter(j -> !"JSON".equals(j.params().get("encoding")))
                .toList();
        if (allocs.isEmpty()) {
            return new Target(name, goal, "-", Verdict.NOT_MEASURED);
        }
        StringBuilder sb = new StringBuilder();
        boolean ok = true;
        for (Results.Jmh j : allocs) {
            double tensors = j.score() / 602_112.0;
            sb.append(sb.isEmpty() ? "" : "; ").append(String.format(Locale.ROOT, "%s %,.0f B (%.2f tensors)",
                    j.params().get("encoding"), j.score(), tensors));
            // the answer must leave ONNX Runtime's memory once; two copies would already be one too many
            ok &= tensors < 2.0;
        }
        return new Target(name, goal, sb + "; the request body the server reads is one more tensor", ok ? Verdict.MET : Verdict.MISSED);
    }

    private static Target below(Results r, String name, String key, String goal, double limit, String unit) {
        Optional<Results.Fact> f = r.fact(key);
        if (f.isEmpty() || f.get().value().isBlank()) {
            return new Target(name, goal, "-", Verdict.NOT_MEASURED);
        }
        double v = f.get().number();
        String note = f.get().note().isBlank() ? "" : " (" + f.get().note() + ")";
        return new Target(name, goal, String.format(Locale.ROOT, "%.0f %s%s", v, unit, note), v < limit ? Verdict.MET : Verdict.MISSED);
    }

    static String markdown(Results r, String chartFile) {
        StringBuilder md = new StringBuilder();
        md.append("## Targets\n\n| case | target | measured | verdict |\n|---|---|---|---|\n");
        for (Target t : targets(r)) {
            md.append("| ").append(t.name()).append(" | ").append(t.goal()).append(" | ").append(t.measured()).append(" | ")
                    .append(switch (t.verdict()) {
                        case MET -> "met";
                        case MISSED -> "**missed**";
                        case NOT_MEASURED -> "not measured";
                    }).append(" |\n");
        }
        md.append("\n## Every point\n\nThroughput in requests per second; a batch-8 request is 8 rows. `ratio` is this point's "
                + "throughput over its ceiling's at the same concurrency, measured minutes apart at most in the same run. "
                + "CPU columns are shares of the whole machine (all cores) while the point ran; `req/CPU-s` is throughput per "
                + "second of CPU the server (or the in-process loop) used, and `CPU ratio` compares that with the ceiling's: "
                + "it is less sensitive to other work on a shared machine than raw throughput.\n\n");
        double cores = r.fact("cores").map(Results.Fact::number).orElse(1.0);
        md.append("| series | conc. | req/s | p50 ms | p99 ms | errors | ceiling | ratio | load gen CPU | server CPU | req/CPU-s | CPU ratio |\n");
        md.append("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|\n");
        for (String s : r.seriesNames()) {
            for (Results.Row row : r.series(s)) {
                String ratio = "-";
                String cpuRatio = "-";
                if (!row.ceiling().equals("-")) {
                    Optional<Results.Row> c = r.at(row.ceiling(), row.concurrency());
                    if (c.isPresent() && c.get().throughput() > 0) {
                        ratio = String.format(Locale.ROOT, "%.2f", row.throughput() / c.get().throughput());
                        if (row.serverCpu() > 0 && c.get().serverCpu() > 0) {
                            cpuRatio = String.format(Locale.ROOT, "%.2f", (row.throughput() / row.serverCpu())
                                    / (c.get().throughput() / c.get().serverCpu()));
                        }
                    }
                }
                String perCpu = row.serverCpu() > 0
                        ? String.format(Locale.ROOT, "%.0f", row.throughput() / (row.serverCpu() / 100 * cores)) : "-";
                md.append(String.format(Locale.ROOT, "| %s | %d | %.0f | %.3f | %.3f | %d | %s | %s | %s | %s | %s | %s |%n",
                        s, row.concurrency(), row.throughput(), row.p50Millis(), row.p99Millis(), row.errors(),
                        row.ceiling(), ratio, pct(row.loadGenCpu()), pct(row.serverCpu()), perCpu, cpuRatio));
            }
        }
        if (!r.facts().isEmpty()) {
            md.append("\n## Facts\n\n| what | value | note |\n|---|---|---|\n");
            r.facts().values().forEach(f -> md.append("| ").append(f.key()).append(" | ").append(f.value()).append(" | ")
                    .append(f.note()).append(" |\n"));
        }
        if (!r.jmh().isEmpty()) {
            md.append("\n## JMH (one fork; average time per operation and allocation per operation)\n\n"
                    + "| benchmark | parameters | score | unit |\n|---|---|---:|---|\n");
            for (Results.Jmh j : r.jmh()) {
                if (j.benchmark().endsWith("gc.alloc.rate.norm") || !j.benchmark().contains(":")) {
                    md.append(String.format(Locale.ROOT, "| %s | %s | %,.1f | %s |%n", j.shortName().replace(":gc.alloc.rate.norm", " (alloc)"),
                            j.paramText(), j.score(), j.unit()));
                }
            }
        }
        if (chartFile != null) {
            md.append("\n![throughput and latency against concurrency](").append(chartFile).append(")\n");
        }
        return md.toString();
    }

    private static String pct(double v) {
        return v > 0 ? String.format(Locale.ROOT, "%.0f %%", v) : "-";
    }

    /** {@code report DIR}: writes DIR/results.md and DIR/chart.png from DIR/results.tsv and DIR/facts.tsv. */
    static void main(List<String> args) throws IOException {
        Path dir = Path.of(args.get(0));
        Results results = Results.read(dir);
        if (results.rows().isEmpty()) {
            throw new IllegalStateException("no results in " + dir.resolve("results.tsv"));
        }
        Chart.write(results, dir.resolve("chart.png"));
        Files.writeString(dir.resolve("results.md"), markdown(results, "chart.png"));
        System.out.println(dir.resolve("results.md"));
    }
}

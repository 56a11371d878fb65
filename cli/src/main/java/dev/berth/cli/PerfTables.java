package dev.berth.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.registry.LocalRegistry;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/** The text forms of {@code berth perf} reports: the run's summary, the lines of {@code berth show} and the perf section of {@code berth diff}. */
final class PerfTables {
    private PerfTables() {
    }

    /** Every point of a run, with its ratio to the in-process ceiling at the same batch and concurrency. */
    static void summary(PrintWriter out, PerfReport report) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"front end", "batch", "concurrency", "inferences/s", "p50 ms", "p90 ms", "p99 ms", "vs in-process", "stable"});
        for (PerfReport.Result r : report.results()) {
            String ratio = r.frontEnd().equals(PerfReport.IN_PROCESS) ? "" : report.ceilingOf(r)
                    .filter(c -> c.inferencesPerSecond() > 0)
                    .map(c -> String.format(Locale.ROOT, "%.2fx", r.inferencesPerSecond() / c.inferencesPerSecond())).orElse("-");
            rows.add(new String[] {r.frontEnd(), Integer.toString(r.batch()), Integer.toString(r.concurrency()),
                    number(r.inferencesPerSecond()), ms(r.latencyMs().p50()), ms(r.latencyMs().p90()), ms(r.latencyMs().p99()),
                    ratio, r.stable() ? "yes" : "no" + (r.errors() > 0 ? ", " + r.errors() + " errors" : "")});
        }
        Table.print(out, rows);
    }

    /** {@code berth show}'s rows: each report file, and for a JSON report each front end's peak. */
    static List<String[]> showRows(LocalRegistry registry, String model, int version) {
        List<String[]> rows = new ArrayList<>();
        for (Path p : registry.perfReports(model, version)) {
            String file = registry.root().relativize(p).toString();
            if (!p.getFileName().toString().endsWith(".json")) {
                rows.add(new String[] {file, ""});
                continue;
            }
            Optional<PerfReport> report = read(p);
            if (report.isEmpty()) {
                rows.add(new String[] {file, "(unreadable)"});
                continue;
            }
            List<String> peaks = new ArrayList<>();
            for (String f : report.get().frontEnds()) {
                report.get().peak(f).ifPresent(r -> peaks.add(f + " " + number(r.inferencesPerSecond()) + "/s"));
            }
            rows.add(new String[] {file, "peak inferences/s: " + String.join(", ", peaks)});
        }
        return rows;
    }

    /** The latest perf report (JSON) of a version, if any. */
    static Optional<Path> latest(LocalRegistry registry, String model, int version) {
        List<Path> json = registry.perfReports(model, version).stream().filter(p -> p.getFileName().toString().endsWith(".json")).toList();
        return json.isEmpty() ? Optional.empty() : Optional.of(json.get(json.size() - 1));
    }

    static Optional<PerfReport> read(Path p) {
        try {
            return Optional.of(PerfReport.read(p));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** One compared figure of two reports. */
    record Row(String key, Double left, Double right, String leftAt, String rightAt) {
        Double ratio() {
            return left == null || right == null || left == 0 ? null : right / left;
        }
    }

    /** The figures {@code berth diff} compares: per front end its peak throughput, the lone client's p50 and p99, and the peak against the ceiling. */
    static List<Row> compare(PerfReport a, PerfReport b) {
        List<String> fronts = new ArrayList<>(a.frontEnds());
        b.frontEnds().stream().filter(f -> !fronts.contains(f)).forEach(fronts::add);
        List<Row> rows = new ArrayList<>();
        for (String f : fronts) {
            rows.add(row(f + " peak inferences/s", a.peak(f), b.peak(f), PerfReport.Result::inferencesPerSecond));
            rows.add(row(f + " p50 ms, lone client", a.lone(f), b.lone(f), r -> r.latencyMs().p50()));
            rows.add(row(f + " p99 ms, lone client", a.lone(f), b.lone(f), r -> r.latencyMs().p99()));
            if (!f.equals(PerfReport.IN_PROCESS)) {
                Double ra = toCeiling(a, f);
                Double rb = toCeiling(b, f);
                if (ra != null || rb != null) {
                    rows.add(new Row(f + " peak / in-process peak", ra, rb, null, null));
                }
            }
        }
        return rows;
    }

    private static Double toCeiling(PerfReport r, String f) {
        Optional<PerfReport.Result> peak = r.peak(f);
        Optional<PerfReport.Result> ceiling = r.peak(PerfReport.IN_PROCESS);
        return peak.isPresent() && ceiling.isPresent() && ceiling.get().inferencesPerSecond() > 0
                ? peak.get().inferencesPerSecond() / ceiling.get().inferencesPerSecond() : null;
    }

    private static Row row(String key, Optional<PerfReport.Result> a, Optional<PerfReport.Result> b, Function<PerfReport.Result, Double> value) {
        return new Row(key, a.map(value).orElse(null), b.map(value).orElse(null), a.map(PerfTables::at).orElse(null), b.map(PerfTables::at).orElse(null));
    }

    private static String at(PerfReport.Result r) {
        return "b" + r.batch() + " c" + r.concurrency();
    }

    /**
     * The perf section of {@code berth diff}: the latest report of each side, figure by figure, with
     * the ratio right / left, then a blank line. Says so in one line where one side has no report;
     * prints nothing where neither has.
     */
    static void printDiff(PrintWriter out, LocalRegistry registry, String leftName, int leftVersion, String rightName, int rightVersion) {
        Optional<Path> a = latest(registry, leftName, leftVersion);
        Optional<Path> b = latest(registry, rightName, rightVersion);
        if (a.isEmpty() && b.isEmpty()) {
            return; // neither side was measured: nothing to say
        }
        out.println();
        if (a.isEmpty() || b.isEmpty()) {
            out.println("perf: no perf report for " + (a.isEmpty() ? leftName + ":" + leftVersion : rightName + ":" + rightVersion)
                    + " (run 'berth perf' to compare performance)");
            out.println();
            return;
        }
        PerfReport ra = read(a.get()).orElseThrow(() -> new UncheckedIOException(new IOException("unreadable perf report " + a.get())));
        PerfReport rb = read(b.get()).orElseThrow(() -> new UncheckedIOException(new IOException("unreadable perf report " + b.get())));
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"perf", registry.root().relativize(a.get()).toString(), registry.root().relativize(b.get()).toString(), "right/left"});
        for (Row r : compare(ra, rb)) {
            rows.add(new String[] {"  " + r.key(), value(r.left(), r.leftAt()), value(r.right(), r.rightAt()),
                    r.ratio() == null ? "-" : String.format(Locale.ROOT, "%.2fx", r.ratio())});
        }
        Table.print(out, rows);
        out.println();
    }

    /** The same section for {@code berth diff --json}; null where a side has no report. */
    static ObjectNode diffJson(LocalRegistry registry, String leftName, int leftVersion, String rightName, int rightVersion) {
        Optional<Path> a = latest(registry, leftName, leftVersion);
        Optional<Path> b = latest(registry, rightName, rightVersion);
        if (a.isEmpty() || b.isEmpty()) {
            return null;
        }
        Optional<PerfReport> ra = read(a.get());
        Optional<PerfReport> rb = read(b.get());
        if (ra.isEmpty() || rb.isEmpty()) {
            return null;
        }
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("left", registry.root().relativize(a.get()).toString());
        node.put("right", registry.root().relativize(b.get()).toString());
        ArrayNode entries = node.putArray("entries");
        for (Row r : compare(ra.get(), rb.get())) {
            ObjectNode e = entries.addObject();
            e.put("key", r.key());
            e.put("left", r.left());
            e.put("right", r.right());
            e.put("ratio", r.ratio());
        }
        return node;
    }

    private static String value(Double v, String at) {
        if (v == null) {
            return "-";
        }
        return (Math.abs(v) >= 100 ? number(v) : String.format(Locale.ROOT, "%.3f", v)) + (at == null ? "" : " (" + at + ")");
    }

    static String number(double v) {
        return String.format(Locale.ROOT, "%,.0f", v);
    }

    private static String ms(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }
}

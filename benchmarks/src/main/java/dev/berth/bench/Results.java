package dev.berth.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What one {@code bench/run} measured: {@code results.tsv}, one row per series and concurrency
 * ({@code series concurrency req/s p50_ms p99_ms requests errors loadgen_cpu_% server_cpu_% ceiling}),
 * and {@code facts.tsv}, single values ({@code key value note}).
 */
public record Results(List<Row> rows, Map<String, Fact> facts, List<Jmh> jmh) {
    /** One JMH result line ({@code jmh*.csv}): the benchmark method, its parameters, score and unit. */
    public record Jmh(String benchmark, Map<String, String> params, double score, String unit) {
        /** {@code Class.method} without the package. */
        String shortName() {
            int colon = benchmark.indexOf(':');
            String method = colon < 0 ? benchmark : benchmark.substring(0, colon);
            String suffix = colon < 0 ? "" : benchmark.substring(colon);
            String[] parts = method.split("\\.");
            return (parts.length >= 2 ? parts[parts.length - 2] + "." + parts[parts.length - 1] : method) + suffix;
        }

        String paramText() {
            return params.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                    .collect(java.util.stream.Collectors.joining(", "));
        }
    }

    /** One measured point; {@code ceiling} names the series this one is compared with, or "-". */
    public record Row(String series, int concurrency, double throughput, double p50Millis, double p99Millis,
                      long requests, long errors, double loadGenCpu, double serverCpu, String ceiling, String group) {
        String system() {
            int slash = series.indexOf('/');
            return slash < 0 ? series : series.substring(slash + 1);
        }
    }

    public record Fact(String key, String value, String note) {
        double number() {
            return Double.parseDouble(value);
        }
    }

    public static Results read(Path dir) throws IOException {
        List<Row> rows = new ArrayList<>();
        Path file = dir.resolve("results.tsv");
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file)) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split("\t");
                rows.add(new Row(f[0], Integer.parseInt(f[1]), d(f[2]), d(f[3]), d(f[4]), (long) d(f[5]), (long) d(f[6]),
                        f.length > 7 ? d(f[7]) : 0, f.length > 8 ? d(f[8]) : 0, f.length > 9 ? f[9] : "-",
                        f.length > 10 ? f[10] : ""));
            }
        }
        Map<String, Fact> facts = new LinkedHashMap<>();
        Path factFile = dir.resolve("facts.tsv");
        if (Files.exists(factFile)) {
            for (String line : Files.readAllLines(factFile)) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split("\t", 3);
                facts.put(f[0], new Fact(f[0], f.length > 1 ? f[1] : "", f.length > 2 ? f[2] : ""));
            }
        }
        List<Jmh> jmh = new ArrayList<>();
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            for (Path csv : files.filter(f -> f.getFileName().toString().matches("jmh.*\\.csv")).sorted().toList()) {
                jmh.addAll(readJmh(csv));
            }
        }
        return new Results(List.copyOf(rows), facts, List.copyOf(jmh));
    }

    /** JMH's CSV: a header naming {@code Param: x} columns, then one quoted line per result. */
    static List<Jmh> readJmh(Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        List<Jmh> out = new ArrayList<>();
        if (lines.isEmpty()) {
            return out;
        }
        List<String> header = splitCsv(lines.get(0));
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) {
                continue;
            }
            List<String> f = splitCsv(line);
            Map<String, String> params = new LinkedHashMap<>();
            for (int i = 0; i < header.size() && i < f.size(); i++) {
                if (header.get(i).startsWith("Param: ") && !f.get(i).isEmpty()) {
                    params.put(header.get(i).substring("Param: ".length()), f.get(i));
                }
            }
            out.add(new Jmh(f.get(header.indexOf("Benchmark")), params, d(f.get(header.indexOf("Score"))), f.get(header.indexOf("Unit"))));
        }
        return out;
    }

    private static List<String> splitCsv(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (char c : line.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                fields.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        fields.add(cur.toString());
        return fields;
    }

    private static double d(String s) {
        try {
            return Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** Groups (cases) in the order they were measured. */
    public List<String> groups() {
        return rows.stream().map(Row::group).distinct().toList();
    }

    /** Series names of one group, in the order they were measured. */
    public List<String> seriesNames(String group) {
        return rows.stream().filter(r -> r.group().equals(group)).map(Row::series).distinct().toList();
    }

    /** Series names in the order they were measured. */
    public List<String> seriesNames() {
        return rows.stream().map(Row::series).distinct().toList();
    }

    public List<Row> series(String name) {
        return rows.stream().filter(r -> r.series().equals(name)).sorted(Comparator.comparingInt(Row::concurrency)).toList();
    }

    /** The point of {@code series} at {@code concurrency}, or at the nearest concurrency measured. */
    public Optional<Row> near(String name, int concurrency) {
        return series(name).stream().min(Comparator.comparingDouble(r -> Math.abs(Math.log(r.concurrency()) - Math.log(concurrency))));
    }

    public Optional<Row> at(String name, int concurrency) {
        return series(name).stream().filter(r -> r.concurrency() == concurrency).findFirst();
    }

    /** The series' highest throughput over the sweep. */
    public Optional<Row> peak(String name) {
        return series(name).stream().max(Comparator.comparingDouble(Row::throughput));
    }

    public Optional<Fact> fact(String key) {
        return Optional.ofNullable(facts.get(key));
    }
}

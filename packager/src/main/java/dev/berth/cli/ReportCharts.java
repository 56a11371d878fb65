package dev.berth.cli;

import dev.berth.monitoring.MonitoringReport;

import java.awt.Color;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The charts of {@code berth report}: end-to-end latency percentiles, throughput and drift (the
 * largest PSI of each window: the whole history as a series, a gap where a window had too few rows)
 * over the report windows, and per input column the distribution of served values in the latest
 * window ("now") beside the training data's over the same bins, titled with that window's PSI. One
 * layout, drawn on any {@link Canvas}.
 */
final class ReportCharts {
    static final int WIDTH = 1000;
    private static final int MAX_DISTRIBUTIONS = 24;
    private static final Color INK = new Color(0x22, 0x22, 0x22);
    private static final Color GRID = new Color(0xdd, 0xdd, 0xdd);
    private static final Color MUTED = new Color(0x66, 0x66, 0x66);
    private static final Color[] SERIES = {new Color(0x1f, 0x77, 0xb4), new Color(0xff, 0x7f, 0x0e), new Color(0xd6, 0x27, 0x28)};
    private static final Color SERVED = new Color(0x1f, 0x77, 0xb4);
    private static final Color TRAINING = new Color(0xaa, 0xaa, 0xaa);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    /**
     * One served distribution of the latest window: bin labels, served shares, (where known) training
     * shares, how many values, and that window's PSI as the server computed it: null where the
     * window had too few values ({@code tooFew}) or there is no training data.
     */
    record Distribution(String title, List<String> bins, double[] served, double[] training, long count, Double psi, boolean tooFew) {
        /** How the chart titles the PSI: the latest window's value, or why there is none. */
        String psiLabel() {
            if (psi != null) {
                return String.format(Locale.ROOT, "PSI now %.3f", psi);
            }
            return tooFew ? "PSI now: not enough data (" + count + " of " + MonitoringReport.MIN_PSI_ROWS + " rows)" : null;
        }
    }

    private final String title;
    private final List<MonitoringReport> reports;
    private final List<Distribution> distributions;

    ReportCharts(String title, List<MonitoringReport> reports) {
        this.title = title;
        this.reports = List.copyOf(reports);
        this.distributions = distributions(reports);
    }

    List<Distribution> distributions() {
        return distributions;
    }

    int height() {
        int rows = (Math.min(MAX_DISTRIBUTIONS, distributions.size()) + 1) / 2;
        return distributionsTop() + rows * 250;
    }

    private boolean hasDrift() {
        return reports.stream().anyMatch(r -> r.drift() != null);
    }

    private int distributionsTop() {
        return hasDrift() ? 820 : 570;
    }

    /**
     * Served values of the latest window, per column (or per input where no columns are named):
     * "now", where a dashboard shows now. Older windows are in the drift series.
     */
    static List<Distribution> distributions(List<MonitoringReport> reports) {
        Map<String, Map<String, double[]>> served = new LinkedHashMap<>();
        Map<String, Map<String, Double>> training = new LinkedHashMap<>();
        Map<String, Map<String, Double>> order = new LinkedHashMap<>();
        Map<String, Double> psi = new LinkedHashMap<>();
        Map<String, Boolean> tooFew = new LinkedHashMap<>();
        if (!reports.isEmpty()) {
            MonitoringReport r = reports.get(reports.size() - 1);
            for (MonitoringReport.InputStats input : r.inputs()) {
                if (input.columns().isEmpty()) {
                    add(input.name(), input.summary(), served, training, order);
                    psi.put(input.name(), input.summary().psi());
                } else {
                    for (MonitoringReport.ColumnStats c : input.columns()) {
                        String key = input.name() + "." + c.name();
                        add(key, c.summary(), served, training, order);
                        psi.put(key, c.summary().psi());
                        tooFew.put(key, r.drift() != null && (r.drift().notEnoughData().containsKey(key)
                                || c.summary().psi() == null && c.summary().count() < MonitoringReport.MIN_PSI_ROWS));
                    }
                }
            }
        }
        List<Distribution> out = new ArrayList<>();
        for (Map.Entry<String, Map<String, double[]>> e : served.entrySet()) {
            List<Map.Entry<String, Double>> bins = new ArrayList<>(order.get(e.getKey()).entrySet());
            bins.sort(Map.Entry.comparingByValue());
            long total = 0;
            for (double[] v : e.getValue().values()) {
                total += (long) v[0];
            }
            Map<String, Double> train = training.get(e.getKey());
            double[] s = new double[bins.size()];
            double[] t = train.isEmpty() ? null : new double[bins.size()];
            List<String> labels = new ArrayList<>();
            for (int i = 0; i < bins.size(); i++) {
                String key = bins.get(i).getKey();
                labels.add(key);
                s[i] = total == 0 ? 0 : e.getValue().get(key)[0] / total;
                if (t != null) {
                    t[i] = train.getOrDefault(key, 0.0);
                }
            }
            out.add(new Distribution(e.getKey(), labels, s, t, total, psi.get(e.getKey()),
                    tooFew.getOrDefault(e.getKey(), false)));
        }
        return out;
    }

    private static void add(String key, MonitoringReport.Summary summary, Map<String, Map<String, double[]>> served,
                            Map<String, Map<String, Double>> training, Map<String, Map<String, Double>> order) {
        Map<String, double[]> s = served.computeIfAbsent(key, k -> new LinkedHashMap<>());
        Map<String, Double> t = training.computeIfAbsent(key, k -> new LinkedHashMap<>());
        Map<String, Double> o = order.computeIfAbsent(key, k -> new LinkedHashMap<>());
        for (MonitoringReport.Bin bin : summary.histogram()) {
            String label = bin.upper() == null ? "> " + num(bin.lower() == null ? Double.NaN : bin.lower()) : "<= " + num(bin.upper());
            s.computeIfAbsent(label, k -> new double[1])[0] += bin.count();
            o.putIfAbsent(label, bin.upper() == null ? Double.MAX_VALUE : bin.upper());
            if (bin.trainingFraction() != null) {
                t.put(label, bin.trainingFraction());
            }
        }
    }

    static String num(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e7) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.3g", v);
    }

    void draw(Canvas c) {
        c.text(title, 20, 32, 20, INK, Canvas.Align.START, true);
        if (!reports.isEmpty()) {
            c.text(reports.size() + " report windows, " + TIME.format(reports.get(0).start()) + " to "
                    + TIME.format(reports.get(reports.size() - 1).end()) + " UTC", 20, 52, 12, MUTED, Canvas.Align.START, false);
        }
        int n = reports.size();
        double[][] latency = new double[3][n];
        double[][] traffic = new double[2][n];
        Instant[] at = new Instant[n];
        for (int i = 0; i < n; i++) {
            MonitoringReport r = reports.get(i);
            at[i] = r.end();
            latency[0][i] = r.latency().endToEnd().p50();
            latency[1][i] = r.latency().endToEnd().p95();
            latency[2][i] = r.latency().endToEnd().p99();
            traffic[0][i] = r.throughput();
            traffic[1][i] = r.requests().errors() / r.seconds();
        }
        timeSeries(c, 20, 70, WIDTH - 40, 210, "End-to-end latency (ms)", at, latency, new String[]{"p50", "p95", "p99"});
        timeSeries(c, 20, 320, WIDTH - 40, 210, "Throughput (requests/s)", at, traffic, new String[]{"successful", "errors"});
        if (hasDrift()) {
            double[][] drift = new double[1][n];
            for (int i = 0; i < n; i++) {
                MonitoringReport.Drift d = reports.get(i).drift();
                drift[0][i] = d == null || d.maxPsi() == null ? Double.NaN : d.maxPsi();
            }
            timeSeries(c, 20, 570, WIDTH - 40, 210, "Drift: largest PSI per window (gaps: fewer than "
                    + MonitoringReport.MIN_PSI_ROWS + " rows; above 0.25 is usually read as a shift)", at, drift, new String[]{"max PSI"});
        }
        int top = distributionsTop();
        if (!distributions.isEmpty() && n > 0) {
            MonitoringReport last = reports.get(n - 1);
            c.text("Served inputs in the latest window (" + TIME.format(last.start()) + " to " + TIME.format(last.end())
                    + " UTC) beside the training data", 20, top - 12, 13, MUTED, Canvas.Align.START, false);
        }
        int shown = Math.min(MAX_DISTRIBUTIONS, distributions.size());
        for (int i = 0; i < shown; i++) {
            double x = 20 + (i % 2) * (WIDTH - 40) / 2.0;
            double y = top + (i / 2) * 250;
            histogram(c, x, y, (WIDTH - 40) / 2.0 - 20, 210, distributions.get(i));
        }
    }

    private static void frame(Canvas c, double x, double y, double w, double h, String title, double max, String format) {
        c.text(title, x, y + 14, 14, INK, Canvas.Align.START, true);
        double top = y + 26;
        double bottom = y + h - 20;
        for (int g = 0; g <= 4; g++) {
            double gy = bottom - (bottom - top) * g / 4;
            c.line(x + 50, gy, x + w, gy, GRID, 1);
            c.text(String.format(Locale.ROOT, format, max * g / 4), x + 46, gy + 4, 10, MUTED, Canvas.Align.END, false);
        }
    }

    private static void timeSeries(Canvas c, double x, double y, double w, double h, String title, Instant[] at,
                                   double[][] series, String[] names) {
        double max = 0;
        for (double[] s : series) {
            for (double v : s) {
                if (Double.isFinite(v)) {
                    max = Math.max(max, v);
                }
            }
        }
        max = max <= 0 ? 1 : max * 1.1;
        frame(c, x, y, w, h, title, max, max < 10 ? "%.2f" : "%.0f");
        double left = x + 60;
        double right = x + w - 10;
        double top = y + 26;
        double bottom = y + h - 20;
        long t0 = at.length == 0 ? 0 : at[0].toEpochMilli();
        long t1 = at.length == 0 ? 1 : Math.max(t0 + 1, at[at.length - 1].toEpochMilli());
        double[] xs = new double[at.length];
        for (int i = 0; i < at.length; i++) {
            xs[i] = at.length == 1 ? (left + right) / 2 : left + (right - left) * (at[i].toEpochMilli() - t0) / (double) (t1 - t0);
        }
        for (int s = 0; s < series.length; s++) {
            // a value that is not there (NaN: no PSI for that window) is a gap, not a zero
            int from = 0;
            while (from < at.length) {
                while (from < at.length && !Double.isFinite(series[s][from])) {
                    from++;
                }
                int to = from;
                while (to < at.length && Double.isFinite(series[s][to])) {
                    to++;
                }
                if (to > from) {
                    double[] sx = java.util.Arrays.copyOfRange(xs, from, to);
                    double[] sy = new double[to - from];
                    for (int i = from; i < to; i++) {
                        sy[i - from] = bottom - (bottom - top) * series[s][i] / max;
                        c.rect(xs[i] - 2.5, sy[i - from] - 2.5, 5, 5, SERIES[s]);
                    }
                    c.polyline(sx, sy, SERIES[s], 2);
                }
                from = to;
            }
            c.rect(right - 90 * (series.length - s), y + 4, 12, 12, SERIES[s]);
            c.text(names[s], right - 90 * (series.length - s) + 16, y + 14, 11, INK, Canvas.Align.START, false);
        }
        if (at.length > 0) {
            c.text(TIME.format(at[0]), left, bottom + 14, 10, MUTED, Canvas.Align.START, false);
            c.text(TIME.format(at[at.length - 1]), right, bottom + 14, 10, MUTED, Canvas.Align.END, false);
        }
    }

    private static void histogram(Canvas c, double x, double y, double w, double h, Distribution d) {
        double max = 0;
        for (int i = 0; i < d.served().length; i++) {
            max = Math.max(max, d.served()[i]);
            if (d.training() != null) {
                max = Math.max(max, d.training()[i]);
            }
        }
        max = max <= 0 ? 1 : Math.min(1, max * 1.1);
        String psi = d.psiLabel();
        frame(c, x, y, w, h, d.title() + (psi == null ? "" : "  (" + psi + ")"), max * 100, "%.0f%%");
        double left = x + 60;
        double right = x + w;
        double top = y + 26;
        double bottom = y + h - 20;
        int bins = d.served().length;
        double slot = (right - left) / Math.max(1, bins);
        double bar = d.training() == null ? slot * 0.7 : slot * 0.38;
        int labelEvery = Math.max(1, (int) Math.ceil(bins / 8.0));
        for (int i = 0; i < bins; i++) {
            double sx = left + i * slot + slot * 0.1;
            double sh = (bottom - top) * d.served()[i] / max;
            c.rect(sx, bottom - sh, bar, sh, SERVED);
            if (d.training() != null) {
                double th = (bottom - top) * d.training()[i] / max;
                c.rect(sx + bar + 1, bottom - th, bar, th, TRAINING);
            }
            if (i % labelEvery == 0) {
                c.text(d.bins().get(i), left + i * slot + slot / 2, bottom + 13, 9, MUTED, Canvas.Align.MIDDLE, false);
            }
        }
        c.rect(right - 150, y + 4, 10, 10, SERVED);
        c.text("served", right - 136, y + 13, 10, INK, Canvas.Align.START, false);
        if (d.training() != null) {
            c.rect(right - 80, y + 4, 10, 10, TRAINING);
            c.text("training", right - 66, y + 13, 10, INK, Canvas.Align.START, false);
        }
    }
}

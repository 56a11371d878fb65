package dev.berth.cli;

import java.awt.Color;
import java.util.List;
import java.util.Locale;

/**
 * The chart of a {@code berth perf} report, drawn on the same {@link Canvas} as the monitoring
 * report charts: per batch size one row of three panels (inferences per second, p50 and p99
 * latency) against concurrency, one line per front end, the in-process ceiling in grey.
 */
final class PerfCharts {
    static final int WIDTH = 1000;
    private static final int ROW = 260;
    private static final Color INK = new Color(0x22, 0x22, 0x22);
    private static final Color GRID = new Color(0xdd, 0xdd, 0xdd);
    private static final Color MUTED = new Color(0x66, 0x66, 0x66);
    private static final Color[] SERIES = {new Color(0x88, 0x88, 0x88), new Color(0x1f, 0x77, 0xb4),
            new Color(0xff, 0x7f, 0x0e), new Color(0x2c, 0xa0, 0x2c), new Color(0xd6, 0x27, 0x28)};

    private final PerfReport report;

    PerfCharts(PerfReport report) {
        this.report = report;
    }

    int height() {
        return 90 + Math.max(1, report.settings().batchSizes().size()) * ROW;
    }

    void draw(Canvas c) {
        c.text("berth perf " + report.model() + ":" + report.version(), 20, 32, 20, INK, Canvas.Align.START, true);
        PerfReport.Machine m = report.machine();
        c.text(report.created() + ", " + (report.target().url() == null ? "in-process server" : report.target().url())
                        + ", " + m.cores() + " cores" + (m.loadAverage() == null ? "" : String.format(Locale.ROOT, ", load %.1f before", m.loadAverage()))
                        + ", windows of " + report.settings().windowMs() + " ms",
                20, 52, 12, MUTED, Canvas.Align.START, false);
        List<String> fronts = report.frontEnds();
        for (int i = 0; i < fronts.size(); i++) {
            c.rect(20 + i * 150, 62, 12, 12, color(fronts, fronts.get(i)));
            c.text(fronts.get(i), 36 + i * 150, 72, 11, INK, Canvas.Align.START, false);
        }
        List<Integer> batches = report.settings().batchSizes();
        for (int b = 0; b < batches.size(); b++) {
            int batch = batches.get(b);
            double y = 90 + b * ROW;
            double w = (WIDTH - 40) / 3.0;
            panel(c, 20, y, w - 10, ROW - 40, "inferences/s, batch " + batch, batch, Metric.THROUGHPUT, fronts);
            panel(c, 20 + w, y, w - 10, ROW - 40, "p50 latency (ms), batch " + batch, batch, Metric.P50, fronts);
            panel(c, 20 + 2 * w, y, w - 10, ROW - 40, "p99 latency (ms), batch " + batch, batch, Metric.P99, fronts);
        }
    }

    private enum Metric { THROUGHPUT, P50, P99 }

    private static double value(PerfReport.Result r, Metric m) {
        return switch (m) {
            case THROUGHPUT -> r.inferencesPerSecond();
            case P50 -> r.latencyMs().p50();
            case P99 -> r.latencyMs().p99();
        };
    }

    private static Color color(List<String> fronts, String front) {
        return SERIES[Math.min(SERIES.length - 1, fronts.indexOf(front))];
    }

    private void panel(Canvas c, double x, double y, double w, double h, String title, int batch, Metric metric, List<String> fronts) {
        List<Integer> conc = report.settings().concurrency();
        double max = report.results().stream().filter(r -> r.batch() == batch).mapToDouble(r -> value(r, metric)).max().orElse(1);
        max = max <= 0 ? 1 : max * 1.1;
        c.text(title, x, y + 14, 13, INK, Canvas.Align.START, true);
        double left = x + 50;
        double right = x + w - 10;
        double top = y + 26;
        double bottom = y + h - 20;
        for (int g = 0; g <= 4; g++) {
            double gy = bottom - (bottom - top) * g / 4;
            c.line(left, gy, right, gy, GRID, 1);
            c.text(ReportCharts.num(Double.parseDouble(String.format(Locale.ROOT, "%.3g", max * g / 4))), left - 4, gy + 4, 10, MUTED, Canvas.Align.END, false);
        }
        double[] xs = new double[conc.size()];
        for (int i = 0; i < conc.size(); i++) {
            xs[i] = conc.size() == 1 ? (left + right) / 2 : left + (right - left) * i / (conc.size() - 1);
            c.text(Integer.toString(conc.get(i)), xs[i], bottom + 14, 10, MUTED, Canvas.Align.MIDDLE, false);
        }
        c.text("concurrency", (left + right) / 2, bottom + 28, 10, MUTED, Canvas.Align.MIDDLE, false);
        for (String front : fronts) {
            List<PerfReport.Result> points = report.results().stream()
                    .filter(r -> r.batch() == batch && r.frontEnd().equals(front)).toList();
            double[] px = new double[points.size()];
            double[] py = new double[points.size()];
            for (int i = 0; i < points.size(); i++) {
                int at = Math.max(0, conc.indexOf(points.get(i).concurrency()));
                px[i] = xs.length == 0 ? left : xs[at];
                py[i] = bottom - (bottom - top) * value(points.get(i), metric) / max;
                c.rect(px[i] - 2.5, py[i] - 2.5, 5, 5, color(fronts, front));
            }
            c.polyline(px, py, color(fronts, front), 2);
        }
    }
}

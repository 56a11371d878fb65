package dev.berth.cli;

import dev.berth.monitoring.MonitoringReport;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.DateAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.time.Millisecond;
import org.jfree.data.time.TimeSeries;
import org.jfree.data.time.TimeSeriesCollection;
import org.jfree.svg.SVGGraphics2D;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.SimpleDateFormat;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TimeZone;
import javax.imageio.ImageIO;

/**
 * The charts of {@code berth report}: end-to-end latency percentiles, throughput and drift (the
 * largest PSI of each window: the whole history as a series, a gap where a window had too few rows)
 * over the report windows, and per input column the distribution of served values in the latest
 * window ("now") beside the training data's over the same bins, titled with that window's PSI.
 * Drawn with JFreeChart, as one PNG or one SVG (JFreeSVG) of the same layout.
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
    private static final TimeZone UTC = TimeZone.getTimeZone(ZoneOffset.UTC);
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
        return hasDrift() ? 840 : 590;
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

    /** Draws every chart onto {@code g}, a canvas of {@link #WIDTH} x {@link #height()}. */
    void draw(Graphics2D g) {
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, height());
        g.setColor(INK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 20));
        g.drawString(title, 20, 32);
        if (!reports.isEmpty()) {
            g.setColor(MUTED);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.drawString(reports.size() + " report windows, " + TIME.format(reports.get(0).start()) + " to "
                    + TIME.format(reports.get(reports.size() - 1).end()) + " UTC", 20, 52);
        }
        TimeSeries p50 = new TimeSeries("p50");
        TimeSeries p95 = new TimeSeries("p95");
        TimeSeries p99 = new TimeSeries("p99");
        TimeSeries ok = new TimeSeries("successful");
        TimeSeries errors = new TimeSeries("errors");
        for (MonitoringReport r : reports) {
            Millisecond at = new Millisecond(Date.from(r.end()), UTC, Locale.ROOT);
            // two windows may end in the same millisecond (a restart): the later one wins the point
            p50.addOrUpdate(at, r.latency().endToEnd().p50());
            p95.addOrUpdate(at, r.latency().endToEnd().p95());
            p99.addOrUpdate(at, r.latency().endToEnd().p99());
            ok.addOrUpdate(at, r.throughput());
            errors.addOrUpdate(at, r.requests().errors() / r.seconds());
        }
        timeSeries("End-to-end latency (ms)", "ms", List.of(p50, p95, p99)).draw(g, new Rectangle2D.Double(10, 64, WIDTH - 20, 240));
        timeSeries("Throughput (requests/s)", "requests/s", List.of(ok, errors)).draw(g, new Rectangle2D.Double(10, 314, WIDTH - 20, 240));
        if (hasDrift()) {
            TimeSeries maxPsi = new TimeSeries("max PSI");
            for (MonitoringReport r : reports) {
                // no value (too few rows) is a gap in the line, not a zero
                Double v = r.drift() == null ? null : r.drift().maxPsi();
                maxPsi.addOrUpdate(new Millisecond(Date.from(r.end()), UTC, Locale.ROOT), v);
            }
            timeSeries("Drift: largest PSI per window (gaps: fewer than " + MonitoringReport.MIN_PSI_ROWS
                    + " rows; above 0.25 is usually read as a shift)", "PSI", List.of(maxPsi))
                    .draw(g, new Rectangle2D.Double(10, 564, WIDTH - 20, 240));
        }
        int top = distributionsTop();
        if (!distributions.isEmpty() && !reports.isEmpty()) {
            MonitoringReport last = reports.get(reports.size() - 1);
            g.setColor(MUTED);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            g.drawString("Served inputs in the latest window (" + TIME.format(last.start()) + " to " + TIME.format(last.end())
                    + " UTC) beside the training data", 20, top - 8);
        }
        int shown = Math.min(MAX_DISTRIBUTIONS, distributions.size());
        double cell = (WIDTH - 20) / 2.0;
        for (int i = 0; i < shown; i++) {
            histogram(distributions.get(i)).draw(g, new Rectangle2D.Double(10 + (i % 2) * cell, top + (i / 2) * 250, cell - 10, 240));
        }
    }

    /** The charts as one PNG image. */
    void writePng(Path file) throws IOException {
        BufferedImage image = new BufferedImage(WIDTH, height(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            draw(g);
        } finally {
            g.dispose();
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        ImageIO.write(image, "png", file.toFile());
    }

    /** The charts as one SVG element, for the HTML page. */
    String toSvg() {
        SVGGraphics2D g = new SVGGraphics2D(WIDTH, height());
        draw(g);
        return g.getSVGElement();
    }

    private static JFreeChart timeSeries(String title, String unit, List<TimeSeries> series) {
        TimeSeriesCollection data = new TimeSeriesCollection(UTC);
        series.forEach(data::addSeries);
        JFreeChart chart = ChartFactory.createTimeSeriesChart(title, "window end (UTC)", unit, data, true, false, false);
        style(chart);
        XYPlot plot = chart.getXYPlot();
        XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < series.size(); i++) {
            lines.setSeriesPaint(i, SERIES[i % SERIES.length]);
            lines.setSeriesStroke(i, new BasicStroke(2f));
        }
        plot.setRenderer(lines);
        DateAxis time = (DateAxis) plot.getDomainAxis();
        time.setTimeZone(UTC);
        time.setDateFormatOverride(new SimpleDateFormat("MM-dd HH:mm:ss", Locale.ROOT) {
            {
                setTimeZone(UTC);
            }
        });
        return chart;
    }

    private static JFreeChart histogram(Distribution d) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (int i = 0; i < d.bins().size(); i++) {
            data.addValue(d.served()[i] * 100, "served", d.bins().get(i));
            if (d.training() != null) {
                data.addValue(d.training()[i] * 100, "training", d.bins().get(i));
            }
        }
        String psi = d.psiLabel();
        JFreeChart chart = ChartFactory.createBarChart(d.title() + (psi == null ? "" : "  (" + psi + ")"),
                null, "% of values", data, PlotOrientation.VERTICAL, true, false, false);
        style(chart);
        CategoryPlot plot = chart.getCategoryPlot();
        BarRenderer bars = (BarRenderer) plot.getRenderer();
        bars.setBarPainter(new StandardBarPainter());
        bars.setShadowVisible(false);
        bars.setSeriesPaint(0, SERVED);
        bars.setSeriesPaint(1, TRAINING);
        plot.getDomainAxis().setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        plot.getDomainAxis().setTickLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 9));
        return chart;
    }

    private static void style(JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        chart.getTitle().setPaint(INK);
        chart.getPlot().setBackgroundPaint(Color.WHITE);
        if (chart.getPlot() instanceof XYPlot xy) {
            xy.setRangeGridlinePaint(GRID);
            xy.setDomainGridlinePaint(GRID);
        } else if (chart.getPlot() instanceof CategoryPlot cat) {
            cat.setRangeGridlinePaint(GRID);
        }
    }
}

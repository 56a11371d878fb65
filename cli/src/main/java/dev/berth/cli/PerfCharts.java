package dev.berth.cli;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.LineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The chart of a {@code berth perf} report, drawn with JFreeChart as the monitoring report charts
 * are: per batch size one row of three line charts (inferences per second, p50 and p99 latency)
 * against concurrency, one line per front end, the in-process ceiling in grey.
 */
final class PerfCharts {
    static final int WIDTH = 1200;
    private static final int ROW = 300;
    private static final int TOP = 64;
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
        return TOP + Math.max(1, report.settings().batchSizes().size()) * ROW;
    }

    /** The chart as PNG bytes (headless: reports are drawn on servers and in CI without a display). */
    byte[] png() throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage image = new BufferedImage(WIDTH, height(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            draw(g);
        } finally {
            g.dispose();
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        if (!ImageIO.write(image, "png", bytes)) {
            throw new IOException("no PNG writer in this JDK");
        }
        return bytes.toByteArray();
    }

    void draw(Graphics2D g) {
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, height());
        g.setColor(INK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 20));
        g.drawString("berth perf " + report.model() + ":" + report.version(), 20, 32);
        PerfReport.Machine m = report.machine();
        g.setColor(MUTED);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString(report.created() + ", " + (report.target().url() == null ? "in-process server" : report.target().url())
                + ", " + m.cores() + " cores" + (m.loadAverage() == null ? "" : String.format(Locale.ROOT, ", load %.1f before", m.loadAverage()))
                + ", windows of " + report.settings().windowMs() + " ms until " + report.settings().stableWindows() + " agree within "
                + ReportCharts.num(report.settings().stabilityPercent()) + " %", 20, 52);
        double cell = (WIDTH - 20) / 3.0;
        List<Integer> batches = report.settings().batchSizes();
        for (int b = 0; b < batches.size(); b++) {
            int batch = batches.get(b);
            double y = TOP + b * ROW;
            chart("inferences/s, batch " + batch, "inferences/s", batch, PerfReport.Result::inferencesPerSecond)
                    .draw(g, new Rectangle2D.Double(10, y, cell - 10, ROW - 10));
            chart("p50 latency, batch " + batch, "ms", batch, r -> r.latencyMs().p50())
                    .draw(g, new Rectangle2D.Double(10 + cell, y, cell - 10, ROW - 10));
            chart("p99 latency, batch " + batch, "ms", batch, r -> r.latencyMs().p99())
                    .draw(g, new Rectangle2D.Double(10 + 2 * cell, y, cell - 10, ROW - 10));
        }
    }

    private JFreeChart chart(String title, String unit, int batch, ToDoubleFunction<PerfReport.Result> value) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        List<String> fronts = report.frontEnds();
        for (String front : fronts) {
            for (int c : report.settings().concurrency()) {
                report.results().stream().filter(r -> r.batch() == batch && r.concurrency() == c && r.frontEnd().equals(front))
                        .findFirst().ifPresent(r -> data.addValue(value.applyAsDouble(r), front, Integer.toString(c)));
            }
        }
        JFreeChart chart = ChartFactory.createLineChart(title, "concurrency", unit, data, PlotOrientation.VERTICAL, true, false, false);
        chart.setBackgroundPaint(Color.WHITE);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        chart.getTitle().setPaint(INK);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(GRID);
        LineAndShapeRenderer lines = new LineAndShapeRenderer(true, true);
        for (int i = 0; i < fronts.size(); i++) {
            lines.setSeriesPaint(i, SERIES[Math.min(SERIES.length - 1, i)]);
            lines.setSeriesStroke(i, new BasicStroke(2f));
        }
        plot.setRenderer(lines);
        return chart;
    }
}

package dev.berth.bench;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * Draws throughput, p50 and p99 latency against concurrency, one line per series, with Java2D so
 * the benchmark needs no plotting tool. Both axes are logarithmic: the series differ by orders of
 * magnitude. berth's series are solid; ceilings (in-process, bare Helidon) are dashed.
 */
final class Chart {
    private static final Color[] PALETTE = {
            new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e), new Color(0x9467bd),
            new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf), new Color(0xbcbd22), new Color(0x7f7f7f),
            new Color(0x393b79), new Color(0x637939), new Color(0xad494a), new Color(0x3182bd)};
    private static final int LEGEND_W = 330;
    private static final int PANEL_W = 410;
    private static final int PANEL_H = 300;
    private static final int TITLE_H = 28;
    private static final int MARGIN_L = 62;
    private static final int MARGIN_R = 16;
    private static final int MARGIN_T = 28;
    private static final int MARGIN_B = 44;

    private Chart() {
    }

    /** One row per case (group): its legend, then throughput, p50 and p99 against concurrency. */
    static void write(Results results, Path file) throws IOException {
        List<String> groups = results.groups();
        int width = LEGEND_W + PANEL_W * 3;
        int rowH = TITLE_H + PANEL_H;
        int height = rowH * groups.size() + 10;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            for (int i = 0; i < groups.size(); i++) {
                String group = groups.get(i);
                List<String> series = results.seriesNames(group);
                Results subset = new Results(results.rows().stream().filter(r -> r.group().equals(group)).toList(),
                        results.facts(), results.jmh());
                int y0 = i * rowH;
                g.setColor(new Color(0xF2F2F2));
                g.fillRect(0, y0, width, TITLE_H - 4);
                g.setColor(Color.BLACK);
                g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
                g.drawString(group.isBlank() ? "all series" : group, 12, y0 + 18);
                legend(g, series, 12, y0 + TITLE_H + 30);
                int top = y0 + TITLE_H;
                panel(g, subset, series, LEGEND_W, top, "throughput (req/s)", Results.Row::throughput);
                panel(g, subset, series, LEGEND_W + PANEL_W, top, "p50 latency (ms)", Results.Row::p50Millis);
                panel(g, subset, series, LEGEND_W + 2 * PANEL_W, top, "p99 latency (ms)", Results.Row::p99Millis);
            }
        } finally {
            g.dispose();
        }
        ImageIO.write(image, "png", file.toFile());
    }

    private static void panel(Graphics2D g, Results results, List<String> series, int x0, int y0, String title,
                              ToDoubleFunction<Results.Row> value) {
        int left = x0 + MARGIN_L;
        int right = x0 + PANEL_W - MARGIN_R;
        int top = y0 + MARGIN_T;
        int bottom = y0 + PANEL_H - MARGIN_B;
        double cMin = results.rows().stream().mapToInt(Results.Row::concurrency).min().orElse(1);
        double cMax = results.rows().stream().mapToInt(Results.Row::concurrency).max().orElse(64);
        if (cMax <= cMin) {
            cMin = cMin / 2;
            cMax = cMax * 2;
        }
        double vMin = results.rows().stream().mapToDouble(value).filter(v -> v > 0).min().orElse(1);
        double vMax = results.rows().stream().mapToDouble(value).filter(v -> v > 0).max().orElse(10);
        double lo = Math.floor(Math.log10(vMin));
        double hi = Math.ceil(Math.log10(vMax));
        if (hi <= lo) {
            hi = lo + 1;
        }
        double logLo = lo;
        double logHi = hi;
        double lcMin = Math.log(cMin);
        double lcMax = Math.log(cMax);
        java.util.function.DoubleUnaryOperator px = c -> left + (Math.log(c) - lcMin) / (lcMax - lcMin) * (right - left);
        java.util.function.DoubleUnaryOperator py = v -> bottom - (Math.log10(v) - logLo) / (logHi - logLo) * (bottom - top);

        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.setColor(Color.BLACK);
        g.drawString(title, left, top - 10);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        FontMetrics fm = g.getFontMetrics();
        // grid: decades and 2x, 5x within them
        for (double e = lo; e <= hi; e++) {
            for (int m : new int[]{1, 2, 5}) {
                double v = m * Math.pow(10, e);
                if (Math.log10(v) > hi + 1e-9) {
                    continue;
                }
                int y = (int) Math.round(py.applyAsDouble(v));
                g.setColor(m == 1 ? new Color(0xCCCCCC) : new Color(0xEEEEEE));
                g.drawLine(left, y, right, y);
                g.setColor(Color.DARK_GRAY);
                String label = label(v);
                g.drawString(label, left - 6 - fm.stringWidth(label), y + 4);
            }
        }
        for (int c : results.rows().stream().mapToInt(Results.Row::concurrency).distinct().sorted().toArray()) {
            int x = (int) Math.round(px.applyAsDouble(c));
            g.setColor(new Color(0xE4E4E4));
            g.drawLine(x, top, x, bottom);
            g.setColor(Color.DARK_GRAY);
            String label = Integer.toString(c);
            g.drawString(label, x - fm.stringWidth(label) / 2, bottom + 16);
        }
        g.drawString("concurrent connections / threads", left + (right - left) / 2 - 80, bottom + 32);
        g.setColor(Color.BLACK);
        g.drawRect(left, top, right - left, bottom - top);

        for (int i = 0; i < series.size(); i++) {
            List<Results.Row> rows = results.series(series.get(i));
            g.setColor(PALETTE[i % PALETTE.length]);
            g.setStroke(stroke(series.get(i)));
            int[] xs = new int[rows.size()];
            int[] ys = new int[rows.size()];
            int n = 0;
            for (Results.Row row : rows) {
                double v = value.applyAsDouble(row);
                if (v > 0) {
                    xs[n] = (int) Math.round(px.applyAsDouble(row.concurrency()));
                    ys[n] = (int) Math.round(py.applyAsDouble(v));
                    n++;
                }
            }
            g.drawPolyline(xs, ys, n);
            for (int k = 0; k < n; k++) {
                g.fillOval(xs[k] - 3, ys[k] - 3, 7, 7);
            }
        }
        g.setStroke(new BasicStroke(1));
    }

    private static void legend(Graphics2D g, List<String> series, int x, int y0) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        for (int i = 0; i < series.size(); i++) {
            int y = y0 + i * 24;
            g.setColor(PALETTE[i % PALETTE.length]);
            g.setStroke(stroke(series.get(i)));
            g.drawLine(x, y, x + 40, y);
            g.setStroke(new BasicStroke(1));
            g.setColor(Color.BLACK);
            g.drawString(series.get(i), x + 50, y + 5);
        }
        g.setFont(new Font(Font.SANS_SERIF, Font.ITALIC, 11));
        g.setColor(Color.DARK_GRAY);
        g.drawString("solid: berth; dashed: ceilings", x, y0 + series.size() * 24 + 8);
    }

    private static Stroke stroke(String series) {
        boolean ceiling = !series.endsWith("/berth");
        return ceiling
                ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[]{8f, 5f}, 0f)
                : new BasicStroke(2.5f);
    }

    private static String label(double v) {
        if (v >= 1000) {
            return String.format(Locale.ROOT, "%.0fk", v / 1000);
        }
        if (v >= 1) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        return String.format(Locale.ROOT, "%s", Double.toString(v).replaceAll("0+$", ""));
    }
}

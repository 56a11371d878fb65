package dev.berth.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;

/** A {@link Canvas} on a Java2D image (headless). */
final class ImageCanvas implements Canvas {
    private final BufferedImage image;
    private final Graphics2D g;

    ImageCanvas(int width, int height) {
        image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, Color color, float width) {
        g.setColor(color);
        g.setStroke(new BasicStroke(width));
        g.draw(new Line2D.Double(x1, y1, x2, y2));
    }

    @Override
    public void polyline(double[] xs, double[] ys, Color color, float width) {
        if (xs.length == 0) {
            return;
        }
        Path2D.Double path = new Path2D.Double();
        path.moveTo(xs[0], ys[0]);
        for (int i = 1; i < xs.length; i++) {
            path.lineTo(xs[i], ys[i]);
        }
        g.setColor(color);
        g.setStroke(new BasicStroke(width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        g.draw(path);
    }

    @Override
    public void rect(double x, double y, double w, double h, Color fill) {
        g.setColor(fill);
        g.fill(new Rectangle2D.Double(x, y, w, h));
    }

    @Override
    public void text(String text, double x, double y, int size, Color color, Align align, boolean bold) {
        g.setFont(new Font(Font.SANS_SERIF, bold ? Font.BOLD : Font.PLAIN, size));
        g.setColor(color);
        double w = g.getFontMetrics().stringWidth(text);
        double left = switch (align) {
            case START -> x;
            case MIDDLE -> x - w / 2;
            case END -> x - w;
        };
        g.drawString(text, (float) left, (float) y);
    }

    BufferedImage finish() {
        g.dispose();
        return image;
    }

    /**
     * Draws {@code charts} and writes them as a PNG. Kept here, not in the command, so that only
     * {@code --png} loads the java.desktop module: picocli inspects every command at start-up.
     */
    static void writePng(ReportCharts charts, java.nio.file.Path file) throws java.io.IOException {
        // reports are drawn on servers and in CI without a display
        System.setProperty("java.awt.headless", "true");
        ImageCanvas canvas = new ImageCanvas(ReportCharts.WIDTH, charts.height());
        charts.draw(canvas);
        if (!javax.imageio.ImageIO.write(canvas.finish(), "png", file.toFile())) {
            throw new java.io.IOException("no PNG writer in this JDK");
        }
    }

    /** Draws a {@code berth perf} chart and returns the PNG's bytes (headless, like the report charts). */
    static byte[] png(PerfCharts charts) throws java.io.IOException {
        System.setProperty("java.awt.headless", "true");
        ImageCanvas canvas = new ImageCanvas(PerfCharts.WIDTH, charts.height());
        charts.draw(canvas);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        if (!javax.imageio.ImageIO.write(canvas.finish(), "png", bytes)) {
            throw new java.io.IOException("no PNG writer in this JDK");
        }
        return bytes.toByteArray();
    }
}

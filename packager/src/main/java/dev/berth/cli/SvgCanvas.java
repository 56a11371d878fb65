package dev.berth.cli;

import java.awt.Color;
import java.util.Locale;

/** A {@link Canvas} that writes SVG elements. */
final class SvgCanvas implements Canvas {
    private final StringBuilder svg = new StringBuilder();
    private final int width;
    private final int height;

    SvgCanvas(int width, int height) {
        this.width = width;
        this.height = height;
    }

    private static String hex(Color c) {
        return String.format(Locale.ROOT, "#%02x%02x%02x", c.getRed(), c.getGreen(), c.getBlue());
    }

    private static String n(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, Color color, float w) {
        svg.append("<line x1=\"").append(n(x1)).append("\" y1=\"").append(n(y1)).append("\" x2=\"").append(n(x2))
                .append("\" y2=\"").append(n(y2)).append("\" stroke=\"").append(hex(color)).append("\" stroke-width=\"")
                .append(n(w)).append("\"/>\n");
    }

    @Override
    public void polyline(double[] xs, double[] ys, Color color, float w) {
        svg.append("<polyline fill=\"none\" stroke=\"").append(hex(color)).append("\" stroke-width=\"").append(n(w)).append("\" points=\"");
        for (int i = 0; i < xs.length; i++) {
            svg.append(n(xs[i])).append(',').append(n(ys[i])).append(' ');
        }
        svg.append("\"/>\n");
    }

    @Override
    public void rect(double x, double y, double w, double h, Color fill) {
        svg.append("<rect x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" width=\"").append(n(w))
                .append("\" height=\"").append(n(h)).append("\" fill=\"").append(hex(fill)).append("\"/>\n");
    }

    @Override
    public void text(String text, double x, double y, int size, Color color, Align align, boolean bold) {
        String anchor = switch (align) {
            case START -> "start";
            case MIDDLE -> "middle";
            case END -> "end";
        };
        svg.append("<text x=\"").append(n(x)).append("\" y=\"").append(n(y)).append("\" font-size=\"").append(size)
                .append("\" font-family=\"sans-serif\" fill=\"").append(hex(color)).append("\" text-anchor=\"").append(anchor)
                .append(bold ? "\" font-weight=\"bold" : "").append("\">").append(escape(text)).append("</text>\n");
    }

    String toSvg() {
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + width + "\" height=\"" + height + "\" viewBox=\"0 0 "
                + width + " " + height + "\">\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n" + svg + "</svg>\n";
    }
}

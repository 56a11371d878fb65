package dev.berth.cli;

import java.awt.Color;

/**
 * The few drawing operations report charts need, so that one layout draws both the PNG (Java2D) and
 * the HTML (inline SVG) version of a report.
 */
interface Canvas {
    enum Align { START, MIDDLE, END }

    void line(double x1, double y1, double x2, double y2, Color color, float width);

    void polyline(double[] xs, double[] ys, Color color, float width);

    void rect(double x, double y, double w, double h, Color fill);

    void text(String text, double x, double y, int size, Color color, Align align, boolean bold);
}

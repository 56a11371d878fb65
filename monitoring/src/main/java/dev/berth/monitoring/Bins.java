package dev.berth.monitoring;

import java.util.Arrays;

/**
 * Histogram bins over doubles: bin {@code i} holds values in {@code (edges[i-1], edges[i]]}, the first
 * bin everything up to {@code edges[0]}, the last everything above the last edge. Either fitted to
 * training data (its deciles, so the population stability index compares like with like) or a
 * generic signed powers-of-two layout when nothing is known about a column.
 */
final class Bins {
    private static final Bins GENERIC = generic();

    private final double[] edges;
    private final boolean fitted;

    private Bins(double[] edges, boolean fitted) {
        this.edges = edges;
        this.fitted = fitted;
    }

    static Bins generic() {
        if (GENERIC != null) {
            return GENERIC;
        }
        // -2^32 .. -2^-8, 0, 2^-8 .. 2^32: covers raw features, scores, pixel values and counts alike
        int n = 41;
        double[] e = new double[2 * n + 1];
        for (int i = 0; i < n; i++) {
            e[i] = -Math.scalb(1.0, 32 - i);
            e[2 * n - i] = Math.scalb(1.0, 32 - i);
        }
        e[n] = 0;
        return new Bins(e, false);
    }

    /** Cut points at the deciles of {@code sorted} (ascending), repeated values merged. */
    static Bins fittedTo(double[] sorted) {
        if (sorted.length == 0) {
            return generic();
        }
        double[] cuts = new double[9];
        int k = 0;
        for (int d = 1; d <= 9; d++) {
            int idx = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(d * sorted.length / 10.0) - 1));
            double v = sorted[idx];
            if (k == 0 || v > cuts[k - 1]) {
                cuts[k++] = v;
            }
        }
        return new Bins(Arrays.copyOf(cuts, k), true);
    }

    boolean fitted() {
        return fitted;
    }

    int count() {
        return edges.length + 1;
    }

    int index(double v) {
        int i = Arrays.binarySearch(edges, v);
        // found: the value equals an edge, which closes the bin below it
        return i >= 0 ? i : -i - 1;
    }

    /** Lower edge of bin {@code i}, or null for the open first bin. */
    Double lower(int i) {
        return i == 0 ? null : edges[i - 1];
    }

    /** Upper edge of bin {@code i}, or null for the open last bin. */
    Double upper(int i) {
        return i == edges.length ? null : edges[i];
    }

    /** Fraction of {@code values} in each bin. */
    double[] fractions(double[] values) {
        double[] f = new double[count()];
        for (double v : values) {
            f[index(v)]++;
        }
        for (int i = 0; i < f.length; i++) {
            f[i] = values.length == 0 ? 0 : f[i] / values.length;
        }
        return f;
    }
}

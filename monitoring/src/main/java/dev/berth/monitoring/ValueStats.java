package dev.berth.monitoring;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAccumulator;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * Summary statistics of one input (or one column of it) over a report window: count, sum, sum of
 * squares, min, max and bin counts. Callers fold a request's values locally first and publish them
 * with {@link #add}, so the shared atomics are touched once per request, not once per value.
 */
final class ValueStats {
    private final Bins bins;
    private final double[] trainingFractions;
    private final LongAdder count = new LongAdder();
    private final DoubleAdder sum = new DoubleAdder();
    private final DoubleAdder sumSquares = new DoubleAdder();
    private final DoubleAccumulator min = new DoubleAccumulator(Math::min, Double.POSITIVE_INFINITY);
    private final DoubleAccumulator max = new DoubleAccumulator(Math::max, Double.NEGATIVE_INFINITY);
    private final AtomicLongArray binCounts;

    ValueStats(Bins bins, double[] trainingFractions) {
        this.bins = bins;
        this.trainingFractions = trainingFractions;
        this.binCounts = new AtomicLongArray(bins.count());
    }

    Bins bins() {
        return bins;
    }

    /** Training fractions per bin, or null when the column has no training data. */
    double[] trainingFractions() {
        return trainingFractions;
    }

    /** Adds one value straight to the shared accumulators: no allocation, for requests with one value per column. */
    void add(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return;
        }
        count.increment();
        sum.add(v);
        sumSquares.add(v * v);
        min.accumulate(v);
        max.accumulate(v);
        binCounts.incrementAndGet(bins.index(v));
    }

    /** A request-local accumulator; {@link Local#publish} adds it to this. */
    Local local() {
        return new Local();
    }

    final class Local {
        private long n;
        private double s;
        private double ss;
        private double lo = Double.POSITIVE_INFINITY;
        private double hi = Double.NEGATIVE_INFINITY;

        void accept(double v) {
            if (Double.isNaN(v) || Double.isInfinite(v)) {
                return;
            }
            n++;
            s += v;
            ss += v * v;
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
            binCounts.incrementAndGet(bins.index(v));
        }

        void publish() {
            if (n == 0) {
                return;
            }
            count.add(n);
            sum.add(s);
            sumSquares.add(ss);
            min.accumulate(lo);
            max.accumulate(hi);
        }
    }

    MonitoringReport.Summary summary() {
        long n = count.sum();
        long[] bc = new long[bins.count()];
        for (int i = 0; i < bc.length; i++) {
            bc[i] = binCounts.get(i);
        }
        List<MonitoringReport.Bin> histogram = new ArrayList<>();
        for (int i = 0; i < bc.length; i++) {
            if (bins.fitted() || bc[i] > 0) {
                histogram.add(new MonitoringReport.Bin(bins.lower(i), bins.upper(i), bc[i],
                        trainingFractions == null ? null : trainingFractions[i]));
            }
        }
        if (n == 0) {
            return new MonitoringReport.Summary(0, 0, 0, 0, 0, histogram, null);
        }
        double mean = sum.sum() / n;
        double variance = Math.max(0, sumSquares.sum() / n - mean * mean);
        // too few values make PSI measure noise: no value at all rather than one that fires alerts
        Double psi = trainingFractions == null || n < MonitoringReport.MIN_PSI_ROWS ? null : Psi.of(trainingFractions, bc);
        return new MonitoringReport.Summary(n, mean, Math.sqrt(variance), min.get(), max.get(), histogram, psi);
    }
}

package dev.berth.monitoring;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * A lock-free histogram of non-negative nanosecond durations with log-linear buckets (16 per power
 * of two, so any percentile read from it is within about 3% of the true value). Prometheus
 * histograms only answer quantiles over their few fixed buckets; reports want real percentiles
 * per window, which this gives for a fixed 5 KB per series and one atomic add per value.
 */
final class LogHistogram {
    private static final int SUB_BITS = 4;
    private static final int SUB = 1 << SUB_BITS;
    /** Values are clamped to 2^41 ns (about 36 minutes). */
    private static final int MAX_EXPONENT = 41;
    private static final int SLOTS = SUB + (MAX_EXPONENT - SUB_BITS + 1) * SUB;

    private final AtomicLongArray counts = new AtomicLongArray(SLOTS);
    private final LongAdder sum = new LongAdder();
    private final LongAccumulator max = new LongAccumulator(Math::max, 0);

    void record(long nanos) {
        long v = Math.max(0, nanos);
        counts.incrementAndGet(index(v));
        sum.add(v);
        max.accumulate(v);
    }

    static int index(long value) {
        if (value < SUB) {
            return (int) value;
        }
        int exponent = 63 - Long.numberOfLeadingZeros(value);
        if (exponent > MAX_EXPONENT) {
            return SLOTS - 1;
        }
        int mantissa = (int) (value >>> (exponent - SUB_BITS)) - SUB;
        return SUB + (exponent - SUB_BITS) * SUB + mantissa;
    }

    /** Smallest value that falls into {@code index}. */
    static long lowerBound(int index) {
        if (index < SUB) {
            return index;
        }
        int exponent = (index - SUB) / SUB + SUB_BITS;
        int mantissa = (index - SUB) % SUB;
        return (long) (SUB + mantissa) << (exponent - SUB_BITS);
    }

    /** Largest value that falls into {@code index}. */
    static long upperBound(int index) {
        return index + 1 >= SLOTS ? Long.MAX_VALUE : lowerBound(index + 1) - 1;
    }

    Snapshot snapshot() {
        long[] copy = new long[SLOTS];
        long n = 0;
        for (int i = 0; i < SLOTS; i++) {
            copy[i] = counts.get(i);
            n += copy[i];
        }
        return new Snapshot(copy, n, sum.sum(), max.get());
    }

    /** A consistent-enough copy for reporting; counts taken after recording has stopped are exact. */
    record Snapshot(long[] counts, long count, long sum, long max) {
        double mean() {
            return count == 0 ? 0 : (double) sum / count;
        }

        /** The value below which a fraction {@code q} of the recorded values lie (bucket midpoint, capped at the maximum). */
        long percentile(double q) {
            if (count == 0) {
                return 0;
            }
            long rank = (long) Math.ceil(q * count);
            rank = Math.max(1, Math.min(count, rank));
            long seen = 0;
            for (int i = 0; i < counts.length; i++) {
                seen += counts[i];
                if (seen >= rank) {
                    long lo = lowerBound(i);
                    long hi = Math.min(upperBound(i), max);
                    return Math.min(max, lo + (hi - lo) / 2);
                }
            }
            return max;
        }
    }
}

package dev.berth.cli;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.util.Locale;

/** How the CLI writes byte sizes and counted nouns, so every command says "1 version" and "2 versions" alike. */
final class Sizes {
    private Sizes() {
    }

    /** Bytes as B, KiB or MiB with one decimal. */
    static String human(long n) {
        if (n < 1024) {
            return n + " B";
        }
        if (n < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        }
        if (n < 1024L * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
        }
        return String.format(Locale.ROOT, "%.1f GiB", n / (1024.0 * 1024 * 1024));
    }

    /**
     * A metric for a table: integers as they are, others to 4 significant digits without trailing
     * zeros ({@code 0.78333333} is {@code 0.7833}, {@code 1234.5678} is {@code 1235}); the JSON
     * output keeps the full value.
     */
    static String metric(Number value) {
        if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte
                || value instanceof BigInteger) {
            return value.toString();
        }
        double v = value.doubleValue();
        if (!Double.isFinite(v)) {
            return Double.toString(v);
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        BigDecimal rounded = new BigDecimal(v).round(new MathContext(4)).stripTrailingZeros();
        return Math.abs(v) >= 1e-4 && Math.abs(v) < 1e7 ? rounded.toPlainString() : rounded.toString();
    }

    /** {@code "1 file"}, {@code "3 files"}: the noun in the plural (an added s) unless the count is one. */
    static String count(long n, String noun) {
        return n + " " + (n == 1 ? noun : noun + "s");
    }
}

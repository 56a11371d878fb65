package dev.berth.server.codec;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.NumberInput;

import java.io.IOException;

/**
 * Number text to and from tensor elements for the JSON codec, without a {@code String} or a boxed
 * value per element.
 *
 * <p>Reading: the parser's own character buffer ({@code getTextCharacters}) is converted here.
 * Most numbers a client writes (up to 15 significant digits, a small exponent) take Clinger's exact
 * fast path: the digits as a {@code long} times or divided by an exact power of ten is one IEEE
 * operation, hence correctly rounded. For FP32 that double is narrowed only when it is not exactly
 * halfway between two floats (the one case where rounding twice could differ from rounding once)
 * and lies in the normal float range. Everything else (more digits, large exponents, subnormals,
 * ties) goes to Jackson's fast double parser (FastDoubleParser, also correctly rounded). Jackson has
 * already checked the JSON number grammar of the token, so the text here is well formed.
 *
 * <p>Writing: floats and doubles are formatted by the JDK's shortest round-trip algorithm into a
 * reused {@link StringBuilder} (JDK 19+: {@code append(float)} formats in place) and handed to the
 * generator as characters: the same text as {@code Float.toString}, with no {@code String} per
 * element.
 */
final class JsonNumbers {
    private static final double[] POWERS = {
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
            1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    private static final long MAX_EXACT = 1L << 53;

    private JsonNumbers() {
    }

    /** The double nearest to the decimal {@code text[off, off+len)}. */
    static double parseDouble(char[] text, int off, int len) {
        double fast = fast(text, off, len);
        return Double.isNaN(fast) ? NumberInput.parseDouble(text, off, len, true) : fast;
    }

    /** The float nearest to the decimal {@code text[off, off+len)}. */
    static float parseFloat(char[] text, int off, int len) {
        double d = fast(text, off, len);
        if (!Double.isNaN(d)) {
            double a = Math.abs(d);
            if (a >= Float.MIN_NORMAL && a <= Float.MAX_VALUE && !halfwayBetweenFloats(d)) {
                return (float) d;
            }
            if (d == 0) {
                return (float) d;
            }
        }
        return NumberInput.parseFloat(text, off, len, true);
    }

    /** Whether a double in the normal float range lies exactly halfway between two adjacent floats. */
    private static boolean halfwayBetweenFloats(double d) {
        // a double has 52 fraction bits, a float 23: the 29 bits a float drops are exactly 1000...0
        return (Double.doubleToRawLongBits(d) & ((1L << 29) - 1)) == (1L << 28);
    }

    /**
     * Clinger's fast path: the exact, correctly rounded value where the significant digits fit in 53
     * bits and the decimal exponent in the exact powers of ten; NaN where they do not.
     */
    private static double fast(char[] s, int off, int len) {
        int i = off;
        int end = off + len;
        boolean negative = false;
        if (i < end && s[i] == '-') {
            negative = true;
            i++;
        }
        long digits = 0;
        int significant = 0;
        int exponent = 0;
        boolean seenDigit = false;
        for (; i < end; i++) {
            char c = s[i];
            if (c < '0' || c > '9') {
                break;
            }
            seenDigit = true;
            if (digits == 0 && c == '0') {
                continue; // leading zero
            }
            if (++significant > 15) {
                return Double.NaN;
            }
            digits = digits * 10 + (c - '0');
        }
        if (i < end && s[i] == '.') {
            for (i++; i < end; i++) {
                char c = s[i];
                if (c < '0' || c > '9') {
                    break;
                }
                seenDigit = true;
                exponent--;
                if (digits == 0 && c == '0') {
                    continue; // zeros before the first significant digit only move the point
                }
                if (++significant > 15) {
                    return Double.NaN;
                }
                digits = digits * 10 + (c - '0');
            }
        }
        if (!seenDigit) {
            return Double.NaN;
        }
        if (i < end && (s[i] == 'e' || s[i] == 'E')) {
            i++;
            boolean negativeExponent = false;
            if (i < end && (s[i] == '+' || s[i] == '-')) {
                negativeExponent = s[i] == '-';
                i++;
            }
            int e = 0;
            for (; i < end; i++) {
                char c = s[i];
                if (c < '0' || c > '9' || e > 10_000) {
                    return Double.NaN;
                }
                e = e * 10 + (c - '0');
            }
            exponent += negativeExponent ? -e : e;
        }
        if (i != end) {
            return Double.NaN;
        }
        if (digits == 0) {
            return negative ? -0.0 : 0.0;
        }
        if (digits >= MAX_EXACT || exponent < -22 || exponent > 22) {
            return Double.NaN;
        }
        double v = exponent >= 0 ? digits * POWERS[exponent] : digits / POWERS[-exponent];
        return negative ? -v : v;
    }

    /** Formats numbers for one generator; not shared between threads. */
    static final class Writer {
        private final StringBuilder text = new StringBuilder(32);
        private char[] chars = new char[32];

        void write(JsonGenerator g, float v) throws IOException {
            if (!Float.isFinite(v)) {
                g.writeNumber(v); // the generator's quoted "NaN" / "Infinity" forms
                return;
            }
            text.setLength(0);
            text.append(v);
            flush(g);
        }

        void write(JsonGenerator g, double v) throws IOException {
            if (!Double.isFinite(v)) {
                g.writeNumber(v);
                return;
            }
            text.setLength(0);
            text.append(v);
            flush(g);
        }

        private void flush(JsonGenerator g) throws IOException {
            int n = text.length();
            if (n > chars.length) {
                chars = new char[n];
            }
            text.getChars(0, n, chars, 0);
            g.writeNumber(chars, 0, n);
        }
    }
}

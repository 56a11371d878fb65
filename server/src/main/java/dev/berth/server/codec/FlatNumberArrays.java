package dev.berth.server.codec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The fast path for big JSON tensors: the flat, numbers-only {@code data} arrays of a request's
 * inputs are read straight from the body's bytes, and Jackson parses only what is left (a
 * "skeleton" in which each such array is {@code []}). Jackson's tokenizer, copying every number
 * into its character buffer, was the larger half of decoding a big tensor.
 *
 * <p>It is only an optimisation, never a second set of rules: {@link #find} is a structural scan
 * that may be fooled by invalid JSON (Jackson still checks the skeleton), and wherever the fast path
 * is not certain to give exactly what Jackson's path gives (a number outside JSON's grammar, a
 * datatype other than FP32/FP64, an element that overflows, any error at all) it throws
 * {@link FallBack} and the request is decoded again the ordinary way, so every refusal keeps its
 * message and every accepted request its values.
 *
 * <p>Why over 400 lines: the structural scan, the number reader and the skeleton writer must agree
 * byte for byte on where each array starts and ends, so they are kept in one file.
 */
final class FlatNumberArrays {
    /** Arrays smaller than this stay with Jackson: the copy of the skeleton would not pay for itself. */
    static final int MIN_BYTES = 16 * 1024;

    /** One {@code data} array of the body: {@code open} at its '[' and {@code close} at its ']'. */
    record Span(int open, int close) {
        int bytes() {
            return close - open + 1;
        }
    }

    /** The JSON with every span replaced by {@code []}; spans by the skeleton offset of their '['. */
    record Skeleton(byte[] json, Map<Long, Span> spans) {
    }

    /** Thrown where the fast path steps aside: the caller decodes the request the ordinary way. */
    static final class FallBack extends RuntimeException {
        FallBack() {
            super(null, null, false, false);
        }
    }

    private FlatNumberArrays() {
    }

    private static final int TOP = 1;
    private static final int INPUTS = 2;
    private static final int INPUT = 3;
    private static final int OTHER = 0;
    private static final byte[] KEY_INPUTS = {'i', 'n', 'p', 'u', 't', 's'};
    private static final byte[] KEY_DATA = {'d', 'a', 't', 'a'};

    /** The skeleton of {@code body[0, length)}, or null where no array is worth taking out. */
    static Skeleton find(byte[] body, int length) {
        int[] role = new int[64];
        boolean[] inObject = new boolean[64];
        int depth = 0;
        int keyStart = -1;
        int keyEnd = -1;
        List<Span> spans = null;
        long total = 0;
        for (int i = 0; i < length; i++) {
            byte b = body[i];
            switch (b) {
                case '"' -> {
                    int j = i + 1;
                    while (j < length && body[j] != '"') {
                        j += body[j] == '\\' ? 2 : 1;
                    }
                    if (depth > 0 && inObject[depth - 1]) {
                        keyStart = i + 1; // a key or a string value; a value's is never followed by ':'
                        keyEnd = j;
                    }
                    i = j;
                }
                case '{', '[' -> {
                    if (depth == role.length) {
                        return null; // deeper than any request berth reads: let Jackson say what it thinks
                    }
                    int parent = depth == 0 ? OTHER : role[depth - 1];
                    int mine = OTHER;
                    if (depth == 0 && b == '{') {
                        mine = TOP;
                    } else if (parent == TOP && b == '[' && is(body, keyStart, keyEnd, KEY_INPUTS)) {
                        mine = INPUTS;
                    } else if (parent == INPUTS && b == '{') {
                        mine = INPUT;
                    } else if (parent == INPUT && b == '[' && is(body, keyStart, keyEnd, KEY_DATA)) {
                        int close = flatEnd(body, i, length);
                        if (close > 0) {
                            if (spans == null) {
                                spans = new ArrayList<>();
                            }
                            spans.add(new Span(i, close));
                            total += close - i + 1;
                            i = close;
                            keyStart = -1;
                            continue;
                        }
                    }
                    role[depth] = mine;
                    inObject[depth] = b == '{';
                    depth++;
                    keyStart = -1;
                }
                case '}', ']' -> {
                    if (depth > 0) {
                        depth--;
                    }
                    keyStart = -1;
                }
                case ',' -> keyStart = -1;
                default -> { }
            }
        }
        if (spans == null || total < MIN_BYTES) {
            return null;
        }
        byte[] json = new byte[(int) (length - total + 2L * spans.size())];
        Map<Long, Span> at = new HashMap<>();
        int from = 0;
        int to = 0;
        for (Span s : spans) {
            int n = s.open() - from;
            System.arraycopy(body, from, json, to, n);
            to += n;
            at.put((long) to, s);
            json[to++] = '[';
            json[to++] = ']';
            from = s.close() + 1;
        }
        System.arraycopy(body, from, json, to, length - from);
        return new Skeleton(json, at);
    }

    private static boolean is(byte[] body, int start, int end, byte[] key) {
        if (start < 0 || end - start != key.length) {
            return false;
        }
        for (int k = 0; k < key.length; k++) {
            if (body[start + k] != key[k]) {
                return false;
            }
        }
        return true;
    }

    /** The index of the ']' closing a flat array of number characters opened at {@code open}, or -1. */
    private static int flatEnd(byte[] body, int open, int length) {
        for (int k = open + 1; k < length; k++) {
            byte c = body[k];
            if (!NUMBER_TEXT[c & 0xff]) {
                return c == ']' ? k : -1;
            }
        }
        return -1;
    }

    /** The bytes a flat array of JSON numbers is made of, closing bracket excepted. */
    private static final boolean[] NUMBER_TEXT = new boolean[256];

    static {
        for (char c : "0123456789,.-+eE \n\r\t".toCharArray()) {
            NUMBER_TEXT[c] = true;
        }
    }

    /** Receives the elements of a span. */
    interface Receiver {
        void add(float v);

        void add(double v);
    }

    /**
     * Reads the numbers of {@code span} (JSON's number grammar, separated by commas and JSON
     * whitespace) into {@code out} as FP32 ({@code fp32}) or FP64.
     *
     * @throws FallBack for anything the ordinary path must judge
     */
    static void read(byte[] body, Span span, boolean fp32, Receiver out) {
        int i = skipSpace(body, span.open() + 1);
        int end = span.close();
        if (i == end) {
            return;
        }
        char[] scratch = null;
        while (true) {
            int start = i;
            if (fp32) {
                i = fp32(body, i, end, out);
            } else {
                i = number(body, i, end);
                double fast = clinger(body, start, i);
                double v = fast;
                if (Double.isNaN(v)) {
                    scratch = chars(body, start, i, scratch);
                    v = JsonNumbers.parseDouble(scratch, 0, i - start);
                }
                if (Double.isInfinite(v)) {
                    throw new FallBack();
                }
                out.add(v);
            }
            i = skipSpace(body, i);
            if (i == end) {
                return;
            }
            if (body[i] != ',') {
                throw new FallBack();
            }
            i = skipSpace(body, i + 1);
            if (i == end) {
                throw new FallBack(); // a trailing comma
            }
        }
    }

    /**
     * One FP32 element in one pass: checks JSON's number grammar while it keeps the first 18
     * significant digits as a {@code long} {@code m} and the decimal exponent {@code e}. Where
     * {@code |e| <= 22}, {@code d = m * 10^e} (or {@code / 10^-e}) in double is within a few
     * double ulps of the exact value (the long's conversion, the one operation, the digits beyond
     * 18), far finer than a float's ulp: unless {@code d} lies within 16 double ulps of a point
     * halfway between two floats, the exact value and {@code d} round to the same float. Near such
     * a point (exact ties included), out of that exponent range or outside the normal float range,
     * FastDoubleParser decides on the text.
     */
    private static int fp32(byte[] b, int i, int end, Receiver out) {
        int start = i;
        boolean negative = false;
        if (b[i] == '-') {
            negative = true;
            i++;
        }
        if (i >= end) {
            throw new FallBack();
        }
        long m = 0;
        int significant = 0;
        int exponent = 0;
        byte c = b[i];
        if (c == '0') {
            i++;
            if (i < end && b[i] >= '0' && b[i] <= '9') {
                throw new FallBack(); // a leading zero: not JSON
            }
        } else if (c >= '1' && c <= '9') {
            do {
                if (significant < 18) {
                    m = m * 10 + (c - '0');
                    significant++;
                } else {
                    exponent++;
                }
                i++;
            } while (i < end && (c = b[i]) >= '0' && c <= '9');
        } else {
            throw new FallBack();
        }
        if (i < end && b[i] == '.') {
            i++;
            int digits = i;
            while (i < end && (c = b[i]) >= '0' && c <= '9') {
                if (m == 0 && c == '0') {
                    exponent--;
                } else if (significant < 18) {
                    m = m * 10 + (c - '0');
                    significant++;
                    exponent--;
                }
                i++;
            }
            if (i == digits) {
                throw new FallBack();
            }
        }
        if (i < end && ((c = b[i]) == 'e' || c == 'E')) {
            i++;
            boolean negativeExponent = false;
            if (i < end && (b[i] == '+' || b[i] == '-')) {
                negativeExponent = b[i] == '-';
                i++;
            }
            int digits = i;
            int e = 0;
            while (i < end && (c = b[i]) >= '0' && c <= '9') {
                if (e < 100_000) {
                    e = e * 10 + (c - '0');
                }
                i++;
            }
            if (i == digits) {
                throw new FallBack();
            }
            exponent += negativeExponent ? -e : e;
        }
        if (i - start > 1000) {
            throw new FallBack(); // Jackson's limit on a number's length decides
        }
        float v;
        if (m == 0) {
            v = negative ? -0f : 0f;
        } else {
            double d = exponent >= -22 && exponent <= 22 ? (exponent >= 0 ? m * POWERS[exponent] : m / POWERS[-exponent]) : Double.NaN;
            long low = Double.doubleToRawLongBits(d) & ((1L << 29) - 1);
            if (d >= Float.MIN_NORMAL && d <= Float.MAX_VALUE && Math.abs(low - (1L << 28)) > 16) {
                v = negative ? (float) -d : (float) d;
            } else {
                char[] text = chars(b, start, i, null);
                v = JsonNumbers.parseFloat(text, 0, i - start);
            }
        }
        if (Float.isInfinite(v)) {
            throw new FallBack(); // the ordinary path names the element that overflows
        }
        out.add(v);
        return i;
    }

    private static char[] chars(byte[] body, int start, int end, char[] scratch) {
        int n = end - start;
        char[] c = scratch == null || scratch.length < n ? new char[Math.max(n, 32)] : scratch;
        for (int k = 0; k < n; k++) {
            c[k] = (char) body[start + k];
        }
        return c;
    }

    private static int skipSpace(byte[] b, int i) {
        while (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
            i++;
        }
        return i;
    }

    /** The end of the JSON number at {@code i}: {@code -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?}; FallBack otherwise. */
    private static int number(byte[] b, int i, int end) {
        int start = i;
        if (b[i] == '-') {
            i++;
        }
        if (i >= end || b[i] < '0' || b[i] > '9') {
            throw new FallBack();
        }
        if (b[i] == '0') {
            i++;
        } else {
            while (i < end && b[i] >= '0' && b[i] <= '9') {
                i++;
            }
        }
        if (i < end && b[i] == '.') {
            i++;
            int digits = i;
            while (i < end && b[i] >= '0' && b[i] <= '9') {
                i++;
            }
            if (i == digits) {
                throw new FallBack();
            }
        }
        if (i < end && (b[i] == 'e' || b[i] == 'E')) {
            i++;
            if (i < end && (b[i] == '+' || b[i] == '-')) {
                i++;
            }
            int digits = i;
            while (i < end && b[i] >= '0' && b[i] <= '9') {
                i++;
            }
            if (i == digits) {
                throw new FallBack();
            }
        }
        if (i - start > 1000) {
            throw new FallBack(); // Jackson's limit on a number's length decides
        }
        return i;
    }

    private static final double[] POWERS = {
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
            1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

    /** Clinger's exact fast path on a well-formed number (see {@link JsonNumbers}); NaN where it does not apply. */
    private static double clinger(byte[] s, int i, int end) {
        boolean negative = s[i] == '-';
        if (negative) {
            i++;
        }
        long digits = 0;
        int significant = 0;
        int exponent = 0;
        for (; i < end && s[i] >= '0' && s[i] <= '9'; i++) {
            if (digits == 0 && s[i] == '0') {
                continue;
            }
            if (++significant > 15) {
                return Double.NaN;
            }
            digits = digits * 10 + (s[i] - '0');
        }
        if (i < end && s[i] == '.') {
            for (i++; i < end && s[i] >= '0' && s[i] <= '9'; i++) {
                exponent--;
                if (digits == 0 && s[i] == '0') {
                    continue;
                }
                if (++significant > 15) {
                    return Double.NaN;
                }
                digits = digits * 10 + (s[i] - '0');
            }
        }
        if (i < end) { // 'e' or 'E'
            i++;
            boolean negativeExponent = s[i] == '-';
            if (s[i] == '+' || s[i] == '-') {
                i++;
            }
            int e = 0;
            for (; i < end; i++) {
                if (e > 10_000) {
                    return Double.NaN;
                }
                e = e * 10 + (s[i] - '0');
            }
            exponent += negativeExponent ? -e : e;
        }
        if (digits == 0) {
            return negative ? -0.0 : 0.0;
        }
        if (exponent < -22 || exponent > 22) {
            return Double.NaN;
        }
        double v = exponent >= 0 ? digits * POWERS[exponent] : digits / POWERS[-exponent];
        return negative ? -v : v;
    }
}

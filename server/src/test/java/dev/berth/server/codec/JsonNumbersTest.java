package dev.berth.server.codec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import org.junit.jupiter.api.Test;

import java.io.StringWriter;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The JSON codec's own number conversions against the JDK's (correctly rounded) ones: random decimal
 * texts of every length the fast path takes and the ones it hands on, the float ties where rounding
 * twice would go wrong, and the writer's text against {@code Float.toString}/{@code Double.toString}.
 */
class JsonNumbersTest {
    private static float f(String s) {
        return JsonNumbers.parseFloat(s.toCharArray(), 0, s.length());
    }

    private static double d(String s) {
        return JsonNumbers.parseDouble(s.toCharArray(), 0, s.length());
    }

    private static void same(String s) {
        assertEquals(Float.floatToRawIntBits(Float.parseFloat(s)), Float.floatToRawIntBits(f(s)), () -> "float " + s);
        assertEquals(Double.doubleToRawLongBits(Double.parseDouble(s)), Double.doubleToRawLongBits(d(s)), () -> "double " + s);
    }

    @Test
    void randomDecimalsRoundLikeTheJdk() {
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < 200_000; i++) {
            StringBuilder s = new StringBuilder();
            if (r.nextBoolean()) {
                s.append('-');
            }
            int intDigits = r.nextInt(0, 12);
            s.append(intDigits == 0 ? "0" : Integer.toString(r.nextInt(1, 10)));
            for (int k = 1; k < intDigits; k++) {
                s.append((char) ('0' + r.nextInt(10)));
            }
            if (r.nextInt(4) != 0) {
                s.append('.');
                int frac = r.nextInt(1, 20);
                for (int k = 0; k < frac; k++) {
                    s.append((char) ('0' + r.nextInt(10)));
                }
            }
            if (r.nextInt(3) == 0) {
                s.append(r.nextBoolean() ? 'e' : 'E').append(r.nextBoolean() ? "-" : r.nextBoolean() ? "+" : "").append(r.nextInt(0, 45));
            }
            same(s.toString());
        }
    }

    @Test
    void whatClientsSendRoundsLikeTheJdk() {
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < 200_000; i++) {
            float v = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(-8, 9)));
            same(Float.toString(v));                                  // Java, JavaScript-like shortest float text
            same(Double.toString(v).toLowerCase(Locale.ROOT));         // Python's json of a float32 widened to double
            same(String.format(Locale.ROOT, "%.6f", v));               // fixed notation
        }
    }

    @Test
    void floatTiesAndEdgesGoToTheExactParser() {
        // 2^24 + 1 lies halfway between the floats 2^24 and 2^24 + 2: round half to even gives 2^24
        assertEquals(16777216f, f("16777217"));
        assertEquals(16777220f, f("16777219"));
        List<String> edges = new ArrayList<>(List.of("0", "-0", "0.0", "-0.0", "0e10", "1e22", "1e23", "1e-22", "1e-23",
                "123456789012345", "1234567890123456", "9007199254740993", "3.4028235e38", "3.4028236e38", "1e39", "-1e39",
                "1.17549435e-38", "1.4e-45", "7e-46", "1e-50", "4.9e-324", "1.7976931348623157e308",
                "0.000000000000000000001", "100000000000000000000000", "33554433", "33554435", "1.5", "2.5"));
        // every float midpoint that the fast path can see: integers between 2^24 and 2^53 with few digits
        for (long m = (1L << 24) + 1; m < (1L << 24) + 4000; m += 2) {
            edges.add(Long.toString(m));
        }
        for (int e = 25; e < 50; e++) {
            edges.add(new BigDecimal((1L << 24) + 1).multiply(BigDecimal.valueOf(2).pow(e - 24)).toPlainString());
        }
        edges.forEach(JsonNumbersTest::same);
    }

    @Test
    void writerWritesTheJdksShortestText() throws Exception {
        SplittableRandom r = new SplittableRandom(3);
        StringWriter out = new StringWriter();
        StringBuilder expected = new StringBuilder("[");
        JsonNumbers.Writer w = new JsonNumbers.Writer();
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.writeStartArray();
            for (int i = 0; i < 20_000; i++) {
                float v = Float.intBitsToFloat(r.nextInt());
                double x = Double.longBitsToDouble(r.nextLong());
                w.write(g, v);
                w.write(g, x);
                expected.append(i == 0 ? "" : ",").append(json(Float.toString(v))).append(',').append(json(Double.toString(x)));
            }
            w.write(g, Float.NaN);
            w.write(g, Double.NEGATIVE_INFINITY);
            expected.append(",\"NaN\",\"-Infinity\"]");
            g.writeEndArray();
        }
        assertEquals(expected.toString(), out.toString());
    }

    private static String json(String number) {
        return number.equals("NaN") || number.contains("Infinity") ? "\"" + number + "\"" : number;
    }
}

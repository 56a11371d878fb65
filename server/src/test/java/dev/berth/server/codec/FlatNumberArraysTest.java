package dev.berth.server.codec;

import dev.berth.runtime.Tensor;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The big-tensor fast path gives exactly what the ordinary path gives: the same tensors, bit for
 * bit, or the same refusal with the same message, for big requests in every shape a client or a
 * mistake produces them.
 */
class FlatNumberArraysTest {
    private static final int N = 6000; // well over FlatNumberArrays.MIN_BYTES of text

    private static String numbers(SplittableRandom r, String style, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                s.append(style.equals("spaced") ? " ,\n\t " : ", ");
            }
            float v = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(-6, 7)));
            switch (style) {
                case "python" -> s.append(Double.toString(v).toLowerCase(Locale.ROOT));
                case "ints" -> s.append(r.nextInt(-1000, 1000));
                default -> s.append(Float.toString(v));
            }
        }
        return s.toString();
    }

    private static String request(String datatype, long n, String data, boolean dataFirst) {
        String head = "\"name\": \"x\", \"datatype\": \"" + datatype + "\", \"shape\": [1, " + n + "]";
        String d = "\"data\": [" + data + "]";
        return "{\"id\": \"a\", \"inputs\": [{" + (dataFirst ? d + ", " + head : head + ", " + d) + "}],"
                + " \"outputs\": [{\"name\": \"y\"}]}";
    }

    /** Both paths on one body: equal tensors or equal messages. Returns what the ordinary path said, or null. */
    private static String same(String json) {
        return same(json, false);
    }

    private static String same(String json, boolean expectFast) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        RestInferRequest ordinary = null;
        String ordinaryError = null;
        try {
            ordinary = OipJson.readInferRequest("m", null, body, -1, false);
        } catch (RuntimeException e) {
            ordinaryError = e.getClass().getName() + ": " + e.getMessage();
        }
        RestInferRequest fast = null;
        String fastError = null;
        try {
            fast = OipJson.readInferRequest("m", null, body, -1, true);
        } catch (RuntimeException e) {
            fastError = e.getClass().getName() + ": " + e.getMessage();
        }
        assertEquals(ordinaryError, fastError);
        if (ordinaryError == null && expectFast) {
            // the fast path itself answered, not its fallback
            FlatNumberArrays.Skeleton skeleton = FlatNumberArrays.find(body, body.length);
            assertNotNull(skeleton, "a skeleton for this body");
            try {
                fast = OipJson.readSkeleton("m", null, body, body.length, skeleton);
            } catch (Exception e) {
                throw new AssertionError("the fast path stepped aside: " + e, e);
            }
        }
        if (ordinary != null) {
            List<Tensor> a = ordinary.request().inputs();
            List<Tensor> b = fast.request().inputs();
            assertEquals(a.size(), b.size());
            for (int i = 0; i < a.size(); i++) {
                assertEquals(a.get(i).datatype(), b.get(i).datatype());
                assertArrayEquals(a.get(i).shape(), b.get(i).shape());
                assertEquals(bytes(a.get(i).data()).length, bytes(b.get(i).data()).length);
                assertArrayEquals(bytes(a.get(i).data()), bytes(b.get(i).data()));
            }
            assertEquals(ordinary.request().requestedOutputs(), fast.request().requestedOutputs());
            assertEquals(ordinary.request().id(), fast.request().id());
        }
        return ordinaryError;
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    @Test
    void theSkeletonTakesOutBigFlatDataArraysOnly() {
        SplittableRandom r = new SplittableRandom(1);
        String big = request("FP32", N, numbers(r, "java", N), false);
        FlatNumberArrays.Skeleton s = FlatNumberArrays.find(big.getBytes(StandardCharsets.UTF_8), big.length());
        assertNotNull(s);
        assertEquals(1, s.spans().size());
        assertTrue(new String(s.json(), StandardCharsets.UTF_8).contains("\"data\": []"), new String(s.json(), StandardCharsets.UTF_8));
        String small = request("FP32", 3, "1, 2, 3", false);
        assertNull(FlatNumberArrays.find(small.getBytes(StandardCharsets.UTF_8), small.length()));
        String nested = "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [2, " + N + "], \"data\": [["
                + numbers(r, "java", N) + "], [" + numbers(r, "java", N) + "]]}]}";
        assertNull(FlatNumberArrays.find(nested.getBytes(StandardCharsets.UTF_8), nested.length()));
        String elsewhere = "{\"parameters\": {\"data\": 1}, \"inputs\": [], \"extra\": {\"data\": [" + numbers(r, "java", N) + "]}}";
        assertNull(FlatNumberArrays.find(elsewhere.getBytes(StandardCharsets.UTF_8), elsewhere.length()), "only inputs[*].data");
    }

    @Test
    void acceptedRequestsDecodeToTheSameTensors() {
        SplittableRandom r = new SplittableRandom(2);
        for (String style : List.of("java", "python", "spaced", "ints")) {
            for (String type : List.of("FP32", "FP64")) {
                for (boolean dataFirst : List.of(false, true)) {
                    assertNull(same(request(type, N, numbers(r, style, N), dataFirst), true), style + " " + type);
                }
            }
        }
        // integers and other datatypes keep the ordinary path, with the same result
        assertNull(same(request("INT32", N, numbers(r, "ints", N), false)));
        // two inputs, one big and one small, and a binary-size-free small input after them
        String two = "{\"inputs\": [{\"name\": \"a\", \"datatype\": \"FP32\", \"shape\": [" + N + "], \"data\": [" + numbers(r, "java", N)
                + "]}, {\"name\": \"b\", \"datatype\": \"FP64\", \"shape\": [2], \"data\": [1.5, -2]}]}";
        assertNull(same(two, true));
        // quoted non-finite values are not number characters: the ordinary path reads them
        assertNull(same(request("FP32", N + 1, numbers(r, "java", N) + ", \"NaN\"", false)));
    }

    @Test
    void fp32ElementsRoundLikeTheJdkNearEveryTie() throws Exception {
        SplittableRandom r = new SplittableRandom(4);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            float f = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(-30, 30)));
            java.math.BigDecimal low = new java.math.BigDecimal(f);
            java.math.BigDecimal mid = low.add(new java.math.BigDecimal(Math.nextUp(f))).divide(java.math.BigDecimal.valueOf(2));
            java.math.BigDecimal nudge = mid.abs().movePointLeft(20).max(java.math.BigDecimal.valueOf(Double.MIN_VALUE));
            texts.add(mid.toString());                                      // exactly halfway (many digits)
            texts.add(mid.add(nudge).round(new java.math.MathContext(22)).toString()); // just above
            texts.add(mid.subtract(nudge).round(new java.math.MathContext(22)).toString()); // just below
            texts.add(mid.round(new java.math.MathContext(r.nextInt(9, 20))).toString());   // near it, 9-19 digits
            texts.add(Double.toString(f).toLowerCase(Locale.ROOT));
        }
        for (int i = (1 << 24) + 1; i < (1 << 24) + 200; i++) {
            texts.add(Integer.toString(i));
        }
        String json = request("FP32", texts.size(), String.join(", ", texts).replace("E+", "e+").replace("E-", "e-"), false);
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        RestInferRequest fast = OipJson.readSkeleton("m", null, body, body.length, FlatNumberArrays.find(body, body.length));
        ByteBuffer data = fast.request().inputs().get(0).data().duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (String t : texts) {
            float want = Float.parseFloat(t);
            float got = data.getFloat();
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got), t);
        }
    }

    @Test
    void refusalsKeepTheOrdinaryPathsMessages() {
        SplittableRandom r = new SplittableRandom(3);
        String ok = numbers(r, "java", N);
        List<String> bad = new ArrayList<>(List.of(
                request("FP32", N, ok + ", 1e39", false),               // overflow
                request("FP32", N + 1, ok + ", -1e39", true),
                request("FP64", N + 1, ok + ", 1e400", false),
                request("FP32", N + 1, ok + ", 01", false),              // leading zero
                request("FP32", N + 1, ok + ", 1.", false),
                request("FP32", N + 1, ok + ", .5", false),
                request("FP32", N + 1, ok + ", +1", false),
                request("FP32", N + 1, ok + ", 1e", false),
                request("FP32", N + 1, ok + ", -", false),
                request("FP32", N + 1, ok + ",", false),                 // trailing comma
                request("FP32", N + 1, ok + ",, 1", false),
                request("FP32", N + 1, ok + " 1", false),                // missing comma
                request("FP32", N - 1, ok, false),                      // more elements than the shape
                request("FP32", N + 5, ok, true),                       // fewer
                request("INT32", N + 1, numbers(r, "ints", N) + ", 1.5", false), // a fraction for an integer
                request("FP32", N, ok, false).replace("\"shape\"", "\"data\": [1], \"shape\""), // 'data' twice
                request("FP32", N, ok, false).replace("]}]", "]}"),    // malformed JSON outside the array
                request("FP32", N, ok, false) + " {}",                 // trailing content
                request("FP32", N, ok, false).replace("\"datatype\": \"FP32\"", "\"datatype\": \"FP33\"")));
        for (String json : bad) {
            String message = same(json);
            assertNotNull(message, () -> "refused: " + json.substring(Math.max(0, json.length() - 120)));
        }
    }
}

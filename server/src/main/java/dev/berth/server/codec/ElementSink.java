package dev.berth.server.codec;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.berth.registry.DataType;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.Tensor;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.berth.server.codec.JsonTokens.describe;
import static dev.berth.server.codec.JsonTokens.invalid;

/** Collects one input's elements in the datatype's binary layout. */
final class ElementSink implements FlatNumberArrays.Receiver {
    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    /** The input's name (or {@code #index}) for messages. */
    final String label;
    private final DataType type;
    private final long expected;
    private final long maxElements;
    private ByteBuffer buf;
    private List<byte[]> strings;
    private long count;

    ElementSink(String label, DataType type, long[] shape, long maxElements) {
        this.label = label;
        this.type = type;
        this.maxElements = maxElements;
        this.expected = shape == null ? -1 : Elements.checkedCount(label, shape, maxElements);
        if (type == DataType.BYTES) {
            strings = new ArrayList<>((int) Math.min(expected < 0 ? 16 : expected, 1 << 16));
        } else {
            buf = Elements.allocate(type, expected < 0 ? 64 : expected);
        }
    }

    void add(JsonParser p, JsonToken t) throws IOException {
        if (count == expected) {
            throw invalid("input '" + label + "' has more data elements than its shape allows (" + expected + ")");
        }
        if (count >= maxElements) {
            throw invalid("input '" + label + "' has more data elements than the body can hold");
        }
        switch (type) {
            case BOOL -> {
                if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
                    throw wrongKind(t, "true or false");
                }
                room().put((byte) (t == JsonToken.VALUE_TRUE ? 1 : 0));
            }
            case FP32 -> room().putFloat(floatValue(p, t));
            case FP64 -> room().putDouble(doubleValue(p, t));
            case FP16 -> room().putShort(finite(p, t, Elements.toFp16(floatValue(p, t)), (short) 0x7c00));
            case BF16 -> room().putShort(finite(p, t, Elements.toBf16(floatValue(p, t)), (short) 0x7f80));
            case BYTES -> {
                if (t != JsonToken.VALUE_STRING) {
                    throw wrongKind(t, "a string");
                }
                strings.add(StrictUtf8.checkText(p.getText(), "input '" + label + "' element " + count)
                        .getBytes(StandardCharsets.UTF_8));
            }
            default -> Elements.putInteger(room(), type, integerValue(p, t));
        }
        count++;
    }

    /** An element from the flat-array fast path; anything the ordinary path would refuse falls back to it. */
    @Override
    public void add(float v) {
        if (count == expected || count >= maxElements) {
            throw new FlatNumberArrays.FallBack();
        }
        room().putFloat(v);
        count++;
    }

    @Override
    public void add(double v) {
        if (count == expected || count >= maxElements) {
            throw new FlatNumberArrays.FallBack();
        }
        room().putDouble(v);
        count++;
    }

    private ByteBuffer room() {
        if (!buf.hasRemaining()) {
            long elements = Math.min((long) buf.capacity() / type.byteSize() * 2, maxElements);
            ByteBuffer bigger = Elements.allocate(type, elements);
            buf.flip();
            bigger.put(buf);
            buf = bigger;
        }
        return buf;
    }

    private float floatValue(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_NUMBER_INT) {
            // from the parser's own characters: no String, no boxing (see JsonNumbers)
            float v = JsonNumbers.parseFloat(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
            if (Float.isInfinite(v)) {
                throw overflow(p);
            }
            return v;
        }
        return (float) nonFinite(p, t);
    }

    private double doubleValue(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_NUMBER_INT) {
            double v = JsonNumbers.parseDouble(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
            if (Double.isInfinite(v)) {
                throw overflow(p);
            }
            return v;
        }
        return nonFinite(p, t);
    }

    /**
     * A half-precision element that a finite JSON number turned into infinity is out of range; the
     * quoted "Infinity" forms stay allowed, as the encoder writes them.
     */
    private short finite(JsonParser p, JsonToken t, short bits, short infinity) throws IOException {
        if (t != JsonToken.VALUE_STRING && (bits & 0x7fff) == infinity) {
            throw overflow(p);
        }
        return bits;
    }

    /** A JSON number too large for the datatype would silently become infinity: refuse it by element. */
    private InferenceException.InvalidInput overflow(JsonParser p) throws IOException {
        return invalid("input '" + label + "' is " + type + " but element " + count + " (" + p.getText()
                + ") is out of its range; send \"Infinity\" or \"-Infinity\" to mean infinity");
    }

    /** The quoted forms the encoder writes for values JSON numbers cannot express. */
    private double nonFinite(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_STRING) {
            switch (p.getText()) {
                case "NaN" -> { return Double.NaN; }
                case "Infinity", "+Infinity" -> { return Double.POSITIVE_INFINITY; }
                case "-Infinity" -> { return Double.NEGATIVE_INFINITY; }
                default -> { }
            }
        }
        throw wrongKind(t, "a number");
    }

    private long integerValue(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NUMBER_INT) {
            if (p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
                return Elements.checkSigned(label, type, p.getLongValue());
            }
            return bigInteger(p.getBigIntegerValue(), p.getText());
        }
        if (t == JsonToken.VALUE_NUMBER_FLOAT) {
            BigDecimal d = p.getDecimalValue();
            // a huge exponent (1e1000000000) would make toBigIntegerExact build an enormous number
            if (d.signum() != 0 && d.precision() - d.scale() > 20) {
                throw Elements.outOfRange(label, type, p.getText());
            }
            try {
                return bigInteger(d.toBigIntegerExact(), p.getText());
            } catch (ArithmeticException e) {
                throw invalid("input '" + label + "' is " + type + " but element " + count + " is " + p.getText()
                        + ", which is not an integer");
            }
        }
        throw wrongKind(t, "an integer");
    }

    private long bigInteger(BigInteger v, String text) {
        if (type == DataType.UINT64) {
            if (v.signum() < 0 || v.compareTo(UINT64_MAX) > 0) {
                throw Elements.outOfRange(label, type, text);
            }
            return v.longValue();
        }
        if (v.bitLength() > 63) {
            throw Elements.outOfRange(label, type, text);
        }
        return Elements.checkSigned(label, type, v.longValue());
    }

    private InferenceException.InvalidInput wrongKind(JsonToken t, String wanted) {
        return invalid("input '" + label + "' is " + type + ": element " + count + " must be " + wanted
                + ", got " + describe(t));
    }

    Tensor toTensor(String name, long[] shape) {
        long want = Elements.checkedCount(label, shape, maxElements);
        if (count != want) {
            throw invalid("input '" + name + "' has shape " + Arrays.toString(shape) + " (" + want
                    + " elements) but " + count + " data elements");
        }
        if (type == DataType.BYTES) {
            return Tensor.ofBytes(name, shape, strings);
        }
        buf.flip();
        return Tensor.ofRaw(name, type, shape, buf);
    }
}


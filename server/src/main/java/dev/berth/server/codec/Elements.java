package dev.berth.server.codec;

import dev.berth.registry.DataType;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Datatype rules shared by the JSON and gRPC codecs: shape checks, integer ranges, half-precision
 * conversion, and Triton's length-prefixed layout for BYTES elements in binary payloads.
 */
public final class Elements {
    private Elements() {
    }

    /** Parses an OIP datatype name or fails with a client error naming the tensor. */
    public static DataType datatype(String tensor, String name) {
        if (name == null || name.isEmpty()) {
            throw invalid("input '" + tensor + "' has no datatype");
        }
        DataType type = DataType.parse(name).orElseThrow(() ->
                invalid("input '" + tensor + "' has unknown datatype '" + name + "' (expected one of "
                        + Arrays.toString(DataType.values()) + ")"));
        // the protocol's datatype names are exact upper-case tokens; Triton refuses "fp32", so does berth,
        // rather than accept requests that a standard server would not
        if (!type.name().equals(name)) {
            throw invalid("input '" + tensor + "' has datatype '" + name + "'; the protocol's names are upper case: '"
                    + type.name() + "'");
        }
        return type;
    }

    /** Parameter of Triton's shared-memory extensions (system and CUDA) naming a registered region. */
    public static final String SHARED_MEMORY_REGION = "shared_memory_region";

    /**
     * Triton's shared-memory extensions are not implemented (berth registers no regions). An input
     * naming a region would otherwise fail with a puzzling "no data", and an output naming one would
     * come back in the body while the client waits for it in its region.
     */
    public static void refuseSharedMemory(String tensor, boolean requested) {
        if (requested) {
            throw invalid(tensor + " names a shared_memory_region: the shared-memory extensions are not supported;"
                    + " send the tensor in the request (binary tensor data or raw contents are the fast forms)");
        }
    }

    /**
     * The element count of a client-declared shape. Negative dimensions, overflow, and counts above
     * {@code maxElements} (more elements than the request could possibly carry) are client errors,
     * caught here before anything is allocated.
     */
    public static long checkedCount(String tensor, long[] shape, long maxElements) {
        // the product of the non-zero dimensions is checked too: [0, 2^63-1] holds no element, but a model's
        // kernels multiply dimensions of their own (strides, the output of a Reshape) and could overflow
        long nonZero = 1;
        boolean empty = false;
        for (long d : shape) {
            if (d < 0) {
                throw invalid("input '" + tensor + "' has a negative dimension in shape " + Arrays.toString(shape));
            }
            if (d == 0) {
                empty = true;
                continue;
            }
            try {
                nonZero = Math.multiplyExact(nonZero, d);
            } catch (ArithmeticException e) {
                throw invalid("input '" + tensor + "' has an impossibly large shape " + Arrays.toString(shape));
            }
        }
        // an empty tensor takes no bytes, so the body does not bound its other dimensions: 2^31 - 1 does
        if (nonZero > (empty ? Math.max(maxElements, Integer.MAX_VALUE) : maxElements)) {
            throw invalid("input '" + tensor + "' has shape " + Arrays.toString(shape) + " (" + (empty ? "its non-zero dimensions make " : "")
                    + nonZero + " elements), more than the request body can hold");
        }
        return empty ? 0 : nonZero;
    }

    /** Checks a signed integer against the range of an integer datatype. */
    public static long checkSigned(String tensor, DataType type, long v) {
        long min;
        long max;
        switch (type) {
            case INT8 -> { min = Byte.MIN_VALUE; max = Byte.MAX_VALUE; }
            case INT16 -> { min = Short.MIN_VALUE; max = Short.MAX_VALUE; }
            case INT32 -> { min = Integer.MIN_VALUE; max = Integer.MAX_VALUE; }
            case INT64 -> { return v; }
            case UINT8 -> { min = 0; max = 0xFF; }
            case UINT16 -> { min = 0; max = 0xFFFF; }
            case UINT32 -> { min = 0; max = 0xFFFF_FFFFL; }
            case UINT64 -> {
                if (v < 0) {
                    throw outOfRange(tensor, type, Long.toString(v));
                }
                return v;
            }
            default -> throw new IllegalArgumentException(type + " is not an integer type");
        }
        if (v < min || v > max) {
            throw outOfRange(tensor, type, Long.toString(v));
        }
        return v;
    }

    public static InferenceException.InvalidInput outOfRange(String tensor, DataType type, String value) {
        return invalid("value " + value + " is out of range for " + type + " input '" + tensor + "'");
    }

    /** Writes an integer (already range-checked) in the datatype's width. */
    public static void putInteger(ByteBuffer out, DataType type, long v) {
        switch (type.byteSize()) {
            case 1 -> out.put((byte) v);
            case 2 -> out.putShort((short) v);
            case 4 -> out.putInt((int) v);
            default -> out.putLong(v);
        }
    }

    /** IEEE half-precision bits of a float, rounded to nearest even. */
    public static short toFp16(float f) {
        return Float.floatToFloat16(f);
    }

    public static float fromFp16(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** bfloat16 bits of a float: the upper half, rounded to nearest even (NaN stays NaN). */
    public static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float fromBf16(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** A new little-endian heap buffer for {@code count} elements of {@code type}. */
    public static ByteBuffer allocate(DataType type, long count) {
        long bytes = count * type.byteSize();
        if (bytes > Integer.MAX_VALUE - 16) {
            throw invalid("tensor of " + count + " " + type + " elements exceeds 2 GiB");
        }
        return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Builds a tensor from a raw (binary) payload: fixed-width data must be exactly
     * {@code count * width} bytes; BYTES data is a sequence of 4-byte little-endian lengths each
     * followed by that many bytes, one per element.
     */
    public static Tensor fromRaw(String name, DataType type, long[] shape, ByteBuffer raw) {
        // every element takes at least one byte of payload, which bounds the count before any allocation
        long count = checkedCount(name, shape, raw.remaining());
        if (type.isFixedWidth()) {
            long expected = count * type.byteSize();
            if (raw.remaining() != expected) {
                throw invalid("input '" + name + "' with shape " + Arrays.toString(shape) + " and datatype " + type
                        + " needs " + expected + " bytes of data, got " + raw.remaining());
            }
            return Tensor.ofRaw(name, type, shape, raw);
        }
        return Tensor.ofBytes(name, shape, splitBytes(name, shape, count, raw));
    }

    private static List<byte[]> splitBytes(String name, long[] shape, long count, ByteBuffer raw) {
        ByteBuffer in = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        // each element needs at least its 4-byte length, which bounds the count before allocating
        if (count > in.remaining() / 4) {
            throw invalid("BYTES input '" + name + "' with shape " + Arrays.toString(shape) + " needs " + count
                    + " length-prefixed elements, but its data is only " + in.remaining() + " bytes");
        }
        List<byte[]> elements = new ArrayList<>((int) count);
        for (long i = 0; i < count; i++) {
            if (in.remaining() < 4) {
                throw invalid("BYTES input '" + name + "' ends after " + i + " of " + count + " elements");
            }
            int len = in.getInt();
            if (len < 0 || len > in.remaining()) {
                throw invalid("BYTES input '" + name + "' element " + i + " declares " + Integer.toUnsignedString(len)
                        + " bytes but only " + in.remaining() + " remain");
            }
            byte[] e = new byte[len];
            in.get(e);
            elements.add(e);
        }
        if (in.hasRemaining()) {
            throw invalid("BYTES input '" + name + "' has " + in.remaining() + " bytes after its " + count + " elements");
        }
        return elements;
    }

    /** Size of a BYTES tensor in Triton's length-prefixed binary layout. */
    public static long prefixedSize(List<byte[]> elements) {
        long n = 0;
        for (byte[] e : elements) {
            n += 4L + e.length;
        }
        return n;
    }

    /** Serialises BYTES elements in Triton's length-prefixed layout. */
    public static byte[] prefixed(List<byte[]> elements) {
        long size = prefixedSize(elements);
        if (size > Integer.MAX_VALUE - 16) {
            throw new InferenceException.Internal("BYTES output too large: " + size + " bytes", null);
        }
        ByteBuffer out = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        for (byte[] e : elements) {
            out.putInt(e.length).put(e);
        }
        return out.array();
    }

    static InferenceException.InvalidInput invalid(String message) {
        return new InferenceException.InvalidInput(message);
    }
}

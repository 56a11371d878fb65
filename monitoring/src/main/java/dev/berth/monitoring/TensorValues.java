package dev.berth.monitoring;

import dev.berth.registry.DataType;

import java.nio.ByteBuffer;

/** Reads one element of a fixed-width tensor buffer as a double. */
final class TensorValues {
    private TensorValues() {
    }

    static boolean numeric(DataType type) {
        return type.isFixedWidth();
    }

    /** Element {@code i} of a little-endian buffer holding {@code type}. */
    static double get(ByteBuffer b, DataType type, int i) {
        return switch (type) {
            case FP32 -> b.getFloat(i * 4);
            case FP64 -> b.getDouble(i * 8);
            case INT64 -> b.getLong(i * 8);
            case INT32 -> b.getInt(i * 4);
            case INT16 -> b.getShort(i * 2);
            case INT8 -> b.get(i);
            case UINT8 -> b.get(i) & 0xff;
            case UINT16 -> b.getShort(i * 2) & 0xffff;
            case UINT32 -> b.getInt(i * 4) & 0xffffffffL;
            case UINT64 -> unsigned(b.getLong(i * 8));
            case BOOL -> b.get(i) != 0 ? 1 : 0;
            case FP16 -> Float.float16ToFloat(b.getShort(i * 2));
            case BF16 -> Float.intBitsToFloat((b.getShort(i * 2) & 0xffff) << 16);
            case BYTES -> throw new IllegalArgumentException("BYTES has no numeric value");
        };
    }

    private static double unsigned(long v) {
        return v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
    }
}

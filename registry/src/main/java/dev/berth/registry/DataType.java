package dev.berth.registry;

import java.util.Locale;
import java.util.Optional;

/**
 * Tensor element types, named as the Open Inference Protocol names them.
 * The byte size is the width of one element in the protocol's raw (binary) encoding;
 * BYTES elements are variable length and report 0.
 */
public enum DataType {
    BOOL(1), UINT8(1), UINT16(2), UINT32(4), UINT64(8),
    INT8(1), INT16(2), INT32(4), INT64(8),
    FP16(2), BF16(2), FP32(4), FP64(8),
    BYTES(0);

    private final int byteSize;

    DataType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Width of one element in bytes, 0 for BYTES. */
    public int byteSize() {
        return byteSize;
    }

    /** False only for BYTES, whose elements vary in length. */
    public boolean isFixedWidth() {
        return byteSize > 0;
    }

    /** Parses an OIP datatype name (case-insensitive); empty when the name is not one. */
    public static Optional<DataType> parse(String name) {
        if (name == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(valueOf(name.trim().toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}

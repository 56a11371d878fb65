package dev.berth.runtime;

import dev.berth.registry.DataType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A named tensor in the protocol-neutral core. Fixed-width datatypes hold their elements row-major
 * in one little-endian buffer (the Open Inference Protocol's raw layout, so binary and gRPC raw
 * payloads pass through without conversion); BYTES tensors hold one byte array per element.
 * FP16 and BF16 elements are their 2-byte bit patterns; BOOL is one byte, 0 or 1.
 * Instances are immutable: the buffer handed out is a read-only view.
 */
public final class Tensor {
    private final String name;
    private final DataType datatype;
    private final long[] shape;
    private final ByteBuffer data;
    private final List<byte[]> elements;

    private Tensor(String name, DataType datatype, long[] shape, ByteBuffer data, List<byte[]> elements) {
        this.name = Objects.requireNonNull(name, "name");
        this.datatype = Objects.requireNonNull(datatype, "datatype");
        this.shape = shape.clone();
        this.data = data;
        this.elements = elements;
    }

    /**
     * A fixed-width tensor over {@code data} (little-endian, row-major, position 0 to limit).
     * The buffer is not copied; callers hand over ownership.
     */
    public static Tensor ofRaw(String name, DataType datatype, long[] shape, ByteBuffer data) {
        if (!datatype.isFixedWidth()) {
            throw new IllegalArgumentException("BYTES tensors are built with ofBytes");
        }
        ByteBuffer view = data.slice().order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return new Tensor(name, datatype, shape, view, null);
    }

    /** A BYTES tensor, one array per element (row-major). */
    public static Tensor ofBytes(String name, long[] shape, List<byte[]> elements) {
        return new Tensor(name, DataType.BYTES, shape, null, List.copyOf(elements));
    }

    /** The input or output name. */
    public String name() {
        return name;
    }

    /** The element type. */
    public DataType datatype() {
        return datatype;
    }

    /** The shape; a copy, since tensors are immutable. */
    public long[] shape() {
        return shape.clone();
    }

    /** The number of axes. */
    public int rank() {
        return shape.length;
    }

    /** The size of one axis. */
    public long dim(int axis) {
        return shape[axis];
    }

    /** Product of the shape (1 for a scalar). */
    public long elementCount() {
        return elementCount(shape);
    }

    /** Product of {@code shape} (1 for a scalar); throws {@link ArithmeticException} where it overflows a long. */
    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Little-endian read-only view of the elements (fixed-width datatypes only). */
    public ByteBuffer data() {
        if (data == null) {
            throw new IllegalStateException("BYTES tensor " + name + " has no raw buffer");
        }
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The elements of a BYTES tensor. The arrays must not be modified. */
    public List<byte[]> bytesElements() {
        if (elements == null) {
            throw new IllegalStateException(datatype + " tensor " + name + " has no byte elements");
        }
        return elements;
    }

    /** Size of the payload in bytes: the raw buffer, or the sum of the BYTES elements. */
    public long byteSize() {
        if (data != null) {
            return data.remaining();
        }
        long n = 0;
        for (byte[] e : elements) {
            n += e.length;
        }
        return n;
    }

    /** The same data under another name (the data is shared, not copied). */
    public Tensor withName(String newName) {
        return new Tensor(newName, datatype, shape, data, elements);
    }

    @Override
    public String toString() {
        return name + " " + datatype + Arrays.toString(shape);
    }
}

package dev.berth.runtime.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The protobuf wire format, as much of it as {@link ModelGuards} needs to read an ONNX model and
 * write it back with a few nodes changed. Fields are kept as views into the original bytes, so a
 * model's weights are copied once (into the rewritten model) and never decoded.
 */
final class Protobuf {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private Protobuf() {
    }

    /** One field of a message: a varint value, or a range of the buffer for the other wire types. */
    record Field(int number, int wireType, long varint, byte[] buf, int offset, int length) {
        byte[] bytes() {
            byte[] out = new byte[length];
            System.arraycopy(buf, offset, out, 0, length);
            return out;
        }

        String string() {
            return new String(buf, offset, length, StandardCharsets.UTF_8);
        }

        /** The fields of this (length-delimited) field read as a message. */
        List<Field> message() {
            return parse(buf, offset, length);
        }
    }

    /**
     * The fields of the message in {@code buf[offset, offset + length)}, in order.
     *
     * @throws IllegalArgumentException where the bytes are not a well-formed message
     */
    static List<Field> parse(byte[] buf, int offset, int length) {
        List<Field> fields = new ArrayList<>();
        int at = offset;
        int end = offset + length;
        while (at < end) {
            long[] tag = readVarint(buf, at, end);
            at = (int) tag[1];
            int number = (int) (tag[0] >>> 3);
            int wireType = (int) (tag[0] & 7);
            if (number < 1) {
                throw new IllegalArgumentException("field number 0 at byte " + at);
            }
            switch (wireType) {
                case VARINT -> {
                    long[] v = readVarint(buf, at, end);
                    fields.add(new Field(number, wireType, v[0], buf, at, (int) v[1] - at));
                    at = (int) v[1];
                }
                case FIXED64, FIXED32 -> {
                    int size = wireType == FIXED64 ? 8 : 4;
                    require(at + size <= end, at);
                    fields.add(new Field(number, wireType, 0, buf, at, size));
                    at += size;
                }
                case LENGTH_DELIMITED -> {
                    long[] len = readVarint(buf, at, end);
                    at = (int) len[1];
                    require(len[0] >= 0 && len[0] <= end - at, at);
                    fields.add(new Field(number, wireType, 0, buf, at, (int) len[0]));
                    at += (int) len[0];
                }
                default -> throw new IllegalArgumentException("unsupported wire type " + wireType + " at byte " + at);
            }
        }
        return fields;
    }

    static List<Field> parse(byte[] buf) {
        return parse(buf, 0, buf.length);
    }

    /** The values of a repeated int64 field, packed or not. */
    static List<Long> int64s(List<Field> fields, int number) {
        List<Long> out = new ArrayList<>();
        for (Field f : fields) {
            if (f.number() != number) {
                continue;
            }
            if (f.wireType() == VARINT) {
                out.add(f.varint());
            } else if (f.wireType() == LENGTH_DELIMITED) {
                int at = f.offset();
                int end = f.offset() + f.length();
                while (at < end) {
                    long[] v = readVarint(f.buf(), at, end);
                    out.add(v[0]);
                    at = (int) v[1];
                }
            }
        }
        return out;
    }

    /** {value, position after it}. */
    private static long[] readVarint(byte[] buf, int at, int end) {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            require(at < end, at);
            byte b = buf[at++];
            value |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return new long[] {value, at};
            }
        }
        throw new IllegalArgumentException("varint longer than 10 bytes at byte " + at);
    }

    private static void require(boolean ok, int at) {
        if (!ok) {
            throw new IllegalArgumentException("truncated message at byte " + at);
        }
    }

    /** Writes messages field by field. */
    static final class Writer {
        private final ByteArrayOutputStream out;

        Writer() {
            this(64);
        }

        Writer(int expectedSize) {
            out = new ByteArrayOutputStream(Math.max(16, expectedSize));
        }

        /** Writes a field read by {@link #parse} unchanged. */
        Writer field(Field f) {
            tag(f.number(), f.wireType());
            if (f.wireType() == VARINT) {
                rawVarint(f.varint());
            } else {
                if (f.wireType() == LENGTH_DELIMITED) {
                    rawVarint(f.length());
                }
                out.write(f.buf(), f.offset(), f.length());
            }
            return this;
        }

        Writer varint(int number, long value) {
            tag(number, VARINT);
            rawVarint(value);
            return this;
        }

        Writer bytes(int number, byte[] value) {
            tag(number, LENGTH_DELIMITED);
            rawVarint(value.length);
            out.writeBytes(value);
            return this;
        }

        Writer string(int number, String value) {
            return bytes(number, value.getBytes(StandardCharsets.UTF_8));
        }

        Writer message(int number, Writer message) {
            return bytes(number, message.toByteArray());
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }

        private void tag(int number, int wireType) {
            rawVarint((long) number << 3 | wireType);
        }

        private void rawVarint(long v) {
            while ((v & ~0x7fL) != 0) {
                out.write((int) ((v & 0x7f) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
    }
}

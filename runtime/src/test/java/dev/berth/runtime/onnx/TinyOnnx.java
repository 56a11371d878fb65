package dev.berth.runtime.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes minimal ONNX models (one Identity node) for element types the shared test models lack,
 * encoding the protobuf by hand (ModelProto field numbers from onnx.proto) so the tests need no
 * Python.
 */
final class TinyOnnx {
    private TinyOnnx() {
    }

    /** {@code y = Identity(x)}, both of ONNX element type {@code elemType} and shape [N, cols]. */
    static byte[] identity(int elemType, long cols) {
        byte[] dims = concat(field(1, message(field(2, text("N")))), field(1, message(varintField(1, cols))));
        byte[] tensorType = concat(varintField(1, elemType), field(2, message(dims)));
        byte[] type = field(1, message(tensorType));
        byte[] input = concat(field(1, text("x")), field(2, message(type)));
        byte[] output = concat(field(1, text("y")), field(2, message(type)));
        byte[] node = concat(field(1, text("x")), field(2, text("y")), field(4, text("Identity")));
        byte[] graph = concat(field(1, message(node)), field(2, text("tiny")), field(11, message(input)), field(12, message(output)));
        byte[] opset = concat(field(1, text("")), varintField(2, 17));
        return concat(varintField(1, 8), field(7, message(graph)), field(8, message(opset)));
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] message(byte[] body) {
        return body;
    }

    /** A length-delimited field (wire type 2). */
    private static byte[] field(int number, byte[] body) {
        return concat(varint((long) number << 3 | 2), varint(body.length), body);
    }

    private static byte[] varintField(int number, long value) {
        return concat(varint((long) number << 3), varint(value));
    }

    private static byte[] varint(long v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}

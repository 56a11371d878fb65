package dev.berth.registry.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Writes an ONNX model that takes real time to run: {@code y = Tanh(... Tanh(x W) W ...)} with
 * {@code layers} MatMul+Tanh pairs sharing one WIDTH x WIDTH weight, input and output FP32
 * {@code [batch, WIDTH]}. A run costs about {@code rows * layers * 2 * WIDTH^2} flops, so a client
 * chooses how long a request keeps ONNX Runtime busy by its row count while the request stays
 * small. Tanh keeps every value in [-1, 1]: outputs never overflow.
 *
 * <p>The protobuf is encoded by hand (ModelProto field numbers from onnx.proto) so the tests need
 * no Python. Shared with other modules through the registry's test jar.
 */
public final class SlowOnnx {
    /** Columns of the input and output. */
    public static final int WIDTH = 256;

    private SlowOnnx() {
    }

    /** The model's bytes, with {@code layers} MatMul+Tanh pairs. */
    public static byte[] model(int layers) {
        ByteBuffer weights = ByteBuffer.allocate(WIDTH * WIDTH * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < WIDTH; i++) {
            for (int j = 0; j < WIDTH; j++) {
                // small, varied, deterministic values: rows of W sum to about 0, so activations stay near 0..1
                weights.putFloat(((i * 7 + j * 13) % 17 - 8) / (float) WIDTH);
            }
        }
        byte[] w = concat(varintField(1, WIDTH), varintField(1, WIDTH), varintField(2, 1), field(8, text("w")),
                field(9, weights.array()));
        ByteArrayOutputStream nodes = new ByteArrayOutputStream();
        String prev = "x";
        for (int i = 0; i < layers; i++) {
            String m = "m" + i;
            String h = i == layers - 1 ? "y" : "h" + i;
            nodes.writeBytes(field(1, concat(field(1, text(prev)), field(1, text("w")), field(2, text(m)), field(4, text("MatMul")))));
            nodes.writeBytes(field(1, concat(field(1, text(m)), field(2, text(h)), field(4, text("Tanh")))));
            prev = h;
        }
        byte[] dims = concat(field(1, field(2, text("batch"))), field(1, varintField(1, WIDTH)));
        byte[] type = field(1, concat(varintField(1, 1), field(2, dims)));
        byte[] input = concat(field(1, text("x")), field(2, type));
        byte[] output = concat(field(1, text("y")), field(2, type));
        byte[] graph = concat(nodes.toByteArray(), field(2, text("slow")), field(5, w), field(11, input), field(12, output));
        byte[] opset = concat(field(1, text("")), varintField(2, 17));
        return concat(varintField(1, 8), field(2, text("berth-tests")), field(7, graph), field(8, opset));
    }

    /** A JSON Open Inference Protocol request for {@code rows} rows of the input, every element 0.5. */
    public static byte[] request(int rows) {
        StringBuilder json = new StringBuilder(rows * WIDTH * 4 + 100);
        json.append("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[").append(rows).append(',').append(WIDTH)
                .append("],\"data\":[");
        for (int i = 0; i < rows * WIDTH; i++) {
            json.append(i == 0 ? "0.5" : ",0.5");
        }
        return json.append("]}]}").toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
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

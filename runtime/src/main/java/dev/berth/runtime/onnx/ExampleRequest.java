package dev.berth.runtime.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.registry.DataType;
import dev.berth.runtime.Tensor;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A version's registered example request ({@value #FILE} in the version folder, an Open Inference
 * Protocol JSON request as a client would POST it), read as core tensors for the warm-up run.
 *
 * <p>Only what warm-up needs is read: each input's {@code name}, {@code datatype}, {@code shape}
 * and {@code data} (flat or nested, JSON numbers, booleans, or strings for BYTES). Anything else
 * (the binary extension, parameters, requested outputs) is ignored. A file this reader does not
 * understand is reported, and warm-up falls back to generated inputs.
 */
final class ExampleRequest {
    /** The file name, as {@code berth register} stores a sample folder's example. */
    static final String FILE = "example_request.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_FILE_BYTES = 64L << 20;

    private ExampleRequest() {
    }

    /**
     * The inputs of the example in {@code versionDir}, or an empty list where there is none.
     *
     * @throws IllegalArgumentException where the file exists but cannot be read as a request
     */
    static List<Tensor> read(Path versionDir) {
        Path file = versionDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        JsonNode root;
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new IllegalArgumentException(FILE + " is larger than " + (MAX_FILE_BYTES >> 20) + " MiB");
            }
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(FILE + " is not JSON: " + RunFailures.firstLine(e.getMessage()));
        }
        JsonNode inputs = root == null ? null : root.get("inputs");
        if (inputs == null || !inputs.isArray() || inputs.isEmpty()) {
            throw new IllegalArgumentException(FILE + " has no \"inputs\" array");
        }
        List<Tensor> tensors = new ArrayList<>();
        for (JsonNode input : inputs) {
            tensors.add(tensor(input));
        }
        return tensors;
    }

    private static Tensor tensor(JsonNode input) {
        String name = text(input, "name");
        DataType type;
        try {
            type = DataType.valueOf(text(input, "datatype").toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("input '" + name + "' of " + FILE + " has an unknown datatype");
        }
        JsonNode shapeNode = input.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new IllegalArgumentException("input '" + name + "' of " + FILE + " has no shape");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong(-1);
            if (shape[i] < 0) {
                throw new IllegalArgumentException("input '" + name + "' of " + FILE + " has a negative or non-numeric dimension");
            }
        }
        List<JsonNode> values = new ArrayList<>();
        JsonNode data = input.get("data");
        if (data == null) {
            throw new IllegalArgumentException("input '" + name + "' of " + FILE + " has no data (the binary extension is not read)");
        }
        flatten(data, values);
        long count = Tensor.elementCount(shape);
        if (count != values.size()) {
            throw new IllegalArgumentException("input '" + name + "' of " + FILE + " has " + values.size()
                    + " values for shape " + Arrays.toString(shape));
        }
        if (type == DataType.BYTES) {
            List<byte[]> elements = new ArrayList<>(values.size());
            for (JsonNode v : values) {
                elements.add(v.asText().getBytes(StandardCharsets.UTF_8));
            }
            return Tensor.ofBytes(name, shape, elements);
        }
        ByteBuffer buf = ByteBuffer.allocate(values.size() * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (JsonNode v : values) {
            put(buf, type, v, name);
        }
        buf.flip();
        return Tensor.ofRaw(name, type, shape, buf);
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException("an input of " + FILE + " has no \"" + field + "\"");
        }
        return v.asText();
    }

    private static void flatten(JsonNode node, List<JsonNode> out) {
        if (node.isArray()) {
            for (JsonNode child : node) {
                flatten(child, out);
            }
        } else {
            out.add(node);
        }
    }

    private static void put(ByteBuffer buf, DataType type, JsonNode v, String name) {
        if (type == DataType.BOOL) {
            if (!v.isBoolean()) {
                throw new IllegalArgumentException("input '" + name + "' of " + FILE + " holds a non-boolean value");
            }
            buf.put((byte) (v.asBoolean() ? 1 : 0));
            return;
        }
        if (!v.isNumber()) {
            throw new IllegalArgumentException("input '" + name + "' of " + FILE + " holds a non-numeric value");
        }
        switch (type) {
            case UINT8, INT8 -> buf.put((byte) v.asLong());
            case UINT16, INT16 -> buf.putShort((short) v.asLong());
            case UINT32, INT32 -> buf.putInt((int) v.asLong());
            case UINT64, INT64 -> buf.putLong(v.isBigInteger() ? new BigInteger(v.asText()).longValue() : v.asLong());
            case FP16 -> buf.putShort(Float.floatToFloat16((float) v.asDouble()));
            case BF16 -> buf.putShort((short) (Float.floatToRawIntBits((float) v.asDouble()) >>> 16));
            case FP32 -> buf.putFloat((float) v.asDouble());
            case FP64 -> buf.putDouble(v.asDouble());
            default -> throw new IllegalArgumentException(type.name());
        }
    }
}

package dev.berth.runtime.onnx;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.registry.DataType;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelInfo;
import dev.berth.registry.RegistryJson;
import dev.berth.runtime.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Registry folders built from the test models, and the cases.json files read as core tensors. */
final class TestModels {
    static final List<String> TESTING = List.of("all_types", "fixed_batch", "multi_io", "scalar_io", "slow", "strings");
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

    private TestModels() {
    }

    /** Resource path of a model file: {@code testing/<name>/model.onnx} or {@code churn/model.onnx}. */
    static String resourceOf(String model) {
        return model.equals("churn") ? "churn/model.onnx" : "testing/" + model + "/model.onnx";
    }

    /** Copies a test model into {@code <root>/<name>/<version>/model.onnx} (atomically, as the registry would). */
    static void addVersion(Path root, String name, int version, String sourceModel) {
        try (InputStream in = TestModels.class.getClassLoader().getResourceAsStream(resourceOf(sourceModel))) {
            if (in == null) {
                throw new IllegalArgumentException("no test model " + sourceModel);
            }
            Path modelDir = root.resolve(name);
            Files.createDirectories(modelDir);
            Path tmp = modelDir.resolve("." + version + ".tmp");
            Files.createDirectories(tmp);
            Files.copy(in, tmp.resolve(LocalRegistry.MODEL_FILE), StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, modelDir.resolve(Integer.toString(version)), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void writeInfo(Path root, ModelInfo info) {
        try {
            dev.berth.registry.AtomicFiles.write(root.resolve(info.name()).resolve(LocalRegistry.MODEL_INFO_FILE),
                    RegistryJson.mapper().writeValueAsBytes(info));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void deleteVersion(Path root, String name, int version) throws IOException {
        Path dir = root.resolve(name).resolve(Integer.toString(version));
        Path gone = root.resolve(name).resolve(".deleted-" + version);
        Files.move(dir, gone, StandardCopyOption.ATOMIC_MOVE);
        try (var files = Files.walk(gone)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    static OnnxInferenceService start(OnnxInferenceService.Builder builder) throws InterruptedException {
        OnnxInferenceService service = builder.build();
        assertTrue(service.awaitInitialLoad(Duration.ofSeconds(60)), "initial load finished");
        return service;
    }

    /** One case of a cases.json: inputs and the outputs onnxruntime produced, by name. */
    record Case(List<Tensor> inputs, Map<String, Tensor> outputs) {
    }

    static List<Case> cases(String model) {
        try (InputStream in = TestModels.class.getClassLoader().getResourceAsStream("testing/" + model + "/cases.json")) {
            JsonNode root = JSON.readTree(in);
            List<Case> cases = new ArrayList<>();
            for (JsonNode c : root) {
                cases.add(new Case(new ArrayList<>(tensors(c.get("inputs")).values()), tensors(c.get("outputs"))));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, Tensor> tensors(JsonNode node) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = node.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), tensor(e.getKey(), e.getValue()));
        }
        return out;
    }

    static DataType dtype(String numpyName) {
        return switch (numpyName) {
            case "bool" -> DataType.BOOL;
            case "uint8" -> DataType.UINT8;
            case "uint16" -> DataType.UINT16;
            case "uint32" -> DataType.UINT32;
            case "uint64" -> DataType.UINT64;
            case "int8" -> DataType.INT8;
            case "int16" -> DataType.INT16;
            case "int32" -> DataType.INT32;
            case "int64" -> DataType.INT64;
            case "float16" -> DataType.FP16;
            case "float32" -> DataType.FP32;
            case "float64" -> DataType.FP64;
            case "string" -> DataType.BYTES;
            default -> throw new IllegalArgumentException(numpyName);
        };
    }

    static Tensor tensor(String name, JsonNode t) {
        DataType type = dtype(t.get("dtype").asText());
        long[] shape = new long[t.get("shape").size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = t.get("shape").get(i).asLong();
        }
        JsonNode data = t.get("data");
        if (type == DataType.BYTES) {
            List<byte[]> elements = new ArrayList<>();
            data.forEach(d -> elements.add(d.asText().getBytes(StandardCharsets.UTF_8)));
            return Tensor.ofBytes(name, shape, elements);
        }
        ByteBuffer buf = ByteBuffer.allocate(data.size() * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (JsonNode d : data) {
            switch (type) {
                case BOOL -> buf.put((byte) (d.asBoolean() ? 1 : 0));
                case UINT8, INT8 -> buf.put((byte) d.asInt());
                case UINT16, INT16 -> buf.putShort((short) d.asInt());
                case UINT32, INT32 -> buf.putInt((int) d.asLong());
                case UINT64, INT64 -> buf.putLong(new BigInteger(d.asText()).longValue());
                case FP16 -> buf.putShort(Float.floatToFloat16((float) d.asDouble()));
                case FP32 -> buf.putFloat((float) d.asDouble());
                case FP64 -> buf.putDouble(d.asDouble());
                default -> throw new IllegalArgumentException(type.name());
            }
        }
        buf.flip();
        return Tensor.ofRaw(name, type, shape, buf);
    }

    /** A tensor's payload as bytes (fixed width) for exact comparison. */
    static byte[] bytes(Tensor t) {
        ByteBuffer b = t.data();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    static void assertTensorEquals(Tensor expected, Tensor actual, String context) {
        assertEquals(expected.name(), actual.name(), context + ": name");
        assertEquals(expected.datatype(), actual.datatype(), context + ": datatype of " + expected.name());
        assertArrayEquals(expected.shape(), actual.shape(), context + ": shape of " + expected.name());
        if (expected.datatype() == DataType.BYTES) {
            assertEquals(expected.bytesElements().size(), actual.bytesElements().size(), context + ": element count of " + expected.name());
            for (int i = 0; i < expected.bytesElements().size(); i++) {
                assertArrayEquals(expected.bytesElements().get(i), actual.bytesElements().get(i),
                        context + ": element " + i + " of " + expected.name());
            }
        } else {
            assertArrayEquals(bytes(expected), bytes(actual), context + ": bytes of " + expected.name());
        }
    }

    /** FP32 tensor [rows, cols] with the given values. */
    static Tensor fp32(String name, long[] shape, float... values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buf.putFloat(v);
        }
        buf.flip();
        return Tensor.ofRaw(name, DataType.FP32, shape, buf);
    }
}

package dev.berth.server;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.berth.registry.DataType;
import dev.berth.server.grpc.proto.InferTensorContents;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The test models' cases.json (inputs and the outputs onnxruntime produced), with the conversions a
 * client makes: OIP JSON, Triton binary / gRPC raw bytes, gRPC typed contents, and back to values.
 */
final class Cases {
    static final List<String> MODELS = List.of("all_types", "fixed_batch", "multi_io", "scalar_io", "slow", "strings");
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

    private Cases() {
    }

    record CaseTensor(String name, DataType type, long[] shape, JsonNode data) {
    }

    record Case(String model, int index, List<CaseTensor> inputs, List<CaseTensor> outputs) {
        @Override
        public String toString() {
            return model + "#" + index;
        }
    }

    static List<Case> load(String model) {
        try (InputStream in = Cases.class.getClassLoader().getResourceAsStream("testing/" + model + "/cases.json")) {
            JsonNode root = JSON.readTree(in);
            List<Case> cases = new ArrayList<>();
            for (JsonNode c : root) {
                cases.add(new Case(model, cases.size(), tensors(c.get("inputs")), tensors(c.get("outputs"))));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<CaseTensor> tensors(JsonNode obj) {
        List<CaseTensor> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode t = e.getValue();
            long[] shape = new long[t.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = t.get("shape").get(i).asLong();
            }
            out.add(new CaseTensor(e.getKey(), type(t.get("dtype").asText()), shape, t.get("data")));
        }
        return out;
    }

    static DataType type(String numpy) {
        return switch (numpy) {
            case "bool" -> DataType.BOOL;
            case "float16" -> DataType.FP16;
            case "float32" -> DataType.FP32;
            case "float64" -> DataType.FP64;
            case "string", "object", "bytes" -> DataType.BYTES;
            default -> DataType.valueOf(numpy.toUpperCase(java.util.Locale.ROOT));
        };
    }

    /** Copies the test models (and churn) into a registry folder, each as version 1. */
    static void registry(Path root) throws IOException {
        for (String m : MODELS) {
            copy("testing/" + m + "/model.onnx", root.resolve(m).resolve("1").resolve("model.onnx"));
        }
        copy("churn/model.onnx", root.resolve("churn").resolve("1").resolve("model.onnx"));
    }

    static void copy(String resource, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        try (InputStream in = Cases.class.getClassLoader().getResourceAsStream(resource)) {
            Files.copy(in, target);
        }
    }

    static byte[] resource(String name) throws IOException {
        try (InputStream in = Cases.class.getClassLoader().getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    // ------------------------------------------------------------------------------------- requests

    static ObjectNode jsonInput(CaseTensor t) {
        ObjectNode in = JSON.createObjectNode();
        in.put("name", t.name());
        in.put("datatype", t.type().name());
        ArrayNode shape = in.putArray("shape");
        for (long d : t.shape()) {
            shape.add(d);
        }
        in.set("data", t.data());
        return in;
    }

    /** Little-endian raw bytes as Triton's binary extension and gRPC raw contents carry them. */
    static byte[] raw(CaseTensor t) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (JsonNode v : t.data()) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            switch (t.type()) {
                case BOOL -> b.put((byte) (v.asBoolean() ? 1 : 0));
                case INT8, UINT8 -> b.put((byte) v.bigIntegerValue().intValue());
                case INT16, UINT16 -> b.putShort((short) v.bigIntegerValue().intValue());
                case INT32, UINT32 -> b.putInt(v.bigIntegerValue().intValue());
                case INT64, UINT64 -> b.putLong(v.bigIntegerValue().longValue());
                case FP16 -> b.putShort(Float.floatToFloat16((float) v.asDouble()));
                case FP32 -> b.putFloat((float) v.asDouble());
                case FP64 -> b.putDouble(v.asDouble());
                case BYTES -> {
                    byte[] s = v.asText().getBytes(StandardCharsets.UTF_8);
                    b = ByteBuffer.allocate(4 + s.length).order(ByteOrder.LITTLE_ENDIAN).putInt(s.length).put(s);
                }
                default -> throw new IllegalArgumentException(t.type().name());
            }
            out.write(b.array(), 0, b.position());
        }
        return out.toByteArray();
    }

    static InferTensorContents typed(CaseTensor t) {
        InferTensorContents.Builder c = InferTensorContents.newBuilder();
        for (JsonNode v : t.data()) {
            switch (t.type()) {
                case BOOL -> c.addBoolContents(v.asBoolean());
                case INT8, INT16, INT32 -> c.addIntContents(v.asInt());
                case UINT8, UINT16, UINT32 -> c.addUintContents((int) v.asLong());
                case INT64 -> c.addInt64Contents(v.asLong());
                case UINT64 -> c.addUint64Contents(v.bigIntegerValue().longValue());
                case FP32 -> c.addFp32Contents((float) v.asDouble());
                case FP64 -> c.addFp64Contents(v.asDouble());
                case BYTES -> c.addBytesContents(ByteString.copyFromUtf8(v.asText()));
                default -> throw new IllegalArgumentException(t.type() + " has no typed contents");
            }
        }
        return c.build();
    }

    // ------------------------------------------------------------------------------------ responses

    /** Canonical values: BigInteger for integers, Double for floats, Boolean, String. */
    static List<Object> fromJson(DataType type, JsonNode data) {
        List<Object> out = new ArrayList<>();
        for (JsonNode v : data) {
            out.add(switch (type) {
                case BOOL -> v.asBoolean();
                case BYTES -> v.asText();
                case FP16, BF16, FP32, FP64 -> v.asDouble();
                default -> v.bigIntegerValue();
            });
        }
        return out;
    }

    static List<Object> fromRaw(DataType type, ByteBuffer raw) {
        ByteBuffer b = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        List<Object> out = new ArrayList<>();
        while (b.hasRemaining()) {
            out.add(switch (type) {
                case BOOL -> b.get() != 0;
                case INT8 -> BigInteger.valueOf(b.get());
                case UINT8 -> BigInteger.valueOf(b.get() & 0xFF);
                case INT16 -> BigInteger.valueOf(b.getShort());
                case UINT16 -> BigInteger.valueOf(b.getShort() & 0xFFFF);
                case INT32 -> BigInteger.valueOf(b.getInt());
                case UINT32 -> BigInteger.valueOf(b.getInt() & 0xFFFF_FFFFL);
                case INT64 -> BigInteger.valueOf(b.getLong());
                case UINT64 -> new BigInteger(Long.toUnsignedString(b.getLong()));
                case FP16 -> (double) Float.float16ToFloat(b.getShort());
                case FP32 -> (double) b.getFloat();
                case FP64 -> b.getDouble();
                case BYTES -> {
                    byte[] s = new byte[b.getInt()];
                    b.get(s);
                    yield new String(s, StandardCharsets.UTF_8);
                }
                default -> throw new IllegalArgumentException(type.name());
            });
        }
        return out;
    }

    static List<Object> fromTyped(DataType type, InferTensorContents c) {
        List<Object> out = new ArrayList<>();
        switch (type) {
            case BOOL -> c.getBoolContentsList().forEach(out::add);
            case INT8, INT16, INT32 -> c.getIntContentsList().forEach(v -> out.add(BigInteger.valueOf(v)));
            case UINT8, UINT16, UINT32 -> c.getUintContentsList().forEach(v -> out.add(BigInteger.valueOf(Integer.toUnsignedLong(v))));
            case INT64 -> c.getInt64ContentsList().forEach(v -> out.add(BigInteger.valueOf(v)));
            case UINT64 -> c.getUint64ContentsList().forEach(v -> out.add(new BigInteger(Long.toUnsignedString(v))));
            case FP32 -> c.getFp32ContentsList().forEach(v -> out.add((double) v));
            case FP64 -> c.getFp64ContentsList().forEach(out::add);
            case BYTES -> c.getBytesContentsList().forEach(v -> out.add(v.toStringUtf8()));
            default -> throw new IllegalArgumentException(type.name());
        }
        return out;
    }

    /** Exact for integers, booleans and strings; floats to the precision of their datatype. */
    static void assertOutput(String where, CaseTensor expected, DataType type, long[] shape, List<Object> actual) {
        assertEquals(expected.type(), type, where + " datatype");
        assertEquals(java.util.Arrays.toString(expected.shape()), java.util.Arrays.toString(shape), where + " shape");
        List<Object> want = fromJson(expected.type(), expected.data());
        assertEquals(want.size(), actual.size(), where + " element count");
        for (int i = 0; i < want.size(); i++) {
            Object w = want.get(i);
            Object a = actual.get(i);
            if (w instanceof Double wd) {
                double ad = (Double) a;
                double tol = switch (type) {
                    case FP16 -> 1e-3;
                    case FP32 -> 1e-5;
                    default -> 1e-12;
                } * Math.max(1, Math.abs(wd));
                assertTrue(Math.abs(wd - ad) <= tol || (Double.isNaN(wd) && Double.isNaN(ad)),
                        where + " element " + i + ": expected " + wd + " got " + ad);
            } else {
                assertEquals(w, a, where + " element " + i);
            }
        }
    }

    /** Waits until the server's core reports ready (every model marked to load was tried), failing after {@code seconds}. */
    static void awaitReady(BerthServer server, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(seconds);
        while (!server.inferenceService().loadsTried()) {
            org.junit.jupiter.api.Assertions.assertTrue(System.nanoTime() < deadline, "models did not load within " + seconds + " s");
            Thread.sleep(20);
        }
    }
}

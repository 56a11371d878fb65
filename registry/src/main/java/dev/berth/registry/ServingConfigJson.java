package dev.berth.registry;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Reads a {@code serving} object key by key. A key that is absent takes its value from
 * {@link ServingConfig#defaults()} (so {@code {"sessions": 2}} is a whole configuration); an
 * unknown key, a value of the wrong type or out of range is refused with an
 * {@link InvalidArgumentException} that names the key and what it accepts, never a parser's
 * internals. {@link LocalRegistry} adds which file it was. Without a {@code layout} key, an object
 * that sets {@code sessions} or a thread count is {@code fixed} (what a user wrote wins over what
 * the server would measure), any other {@code auto}.
 */
final class ServingConfigJson extends StdDeserializer<ServingConfig> {
    /** Every key, in the order docs/registry-format.md documents them. */
    static final List<String> KEYS = List.of("layout", "sessions", "intra_op_threads", "inter_op_threads", "optimization_level",
            "dynamic_batching", "max_batch_size", "max_queue_delay_micros", "preferred_batch_sizes", "max_queue_size",
            "warmup", "inputs", "outputs");
    private static final List<String> TENSOR_KEYS = List.of("name", "datatype", "shape");

    ServingConfigJson() {
        super(ServingConfig.class);
    }

    @Override
    public ServingConfig deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
        return read(ctx.readTree(p));
    }

    static ServingConfig read(JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new InvalidArgumentException("serving must be a JSON object with the keys " + String.join(", ", KEYS)
                    + ", got " + kind(node));
        }
        ServingConfig.Builder b = ServingConfig.builder();
        String layout = null;
        for (Map.Entry<String, JsonNode> e : (Iterable<Map.Entry<String, JsonNode>>) node.properties()::iterator) {
            String key = e.getKey();
            JsonNode v = e.getValue();
            switch (key) {
                case "layout" -> {
                    if (!v.isTextual() || !ServingConfig.LAYOUTS.contains(v.asText())) {
                        throw bad(key, v, "one of " + String.join(", ", ServingConfig.LAYOUTS));
                    }
                    layout = v.asText();
                }
                case "sessions" -> b.sessions(intIn(key, v, 1, "1 or more"));
                case "intra_op_threads" -> b.intraOpThreads(intIn(key, v, 0, "0 (ONNX Runtime decides) or more"));
                case "inter_op_threads" -> b.interOpThreads(intIn(key, v, 0, "0 (ONNX Runtime decides) or more"));
                case "optimization_level" -> {
                    if (!v.isTextual() || !ServingConfig.OPTIMIZATION_LEVELS.contains(v.asText())) {
                        throw bad(key, v, "one of " + String.join(", ", ServingConfig.OPTIMIZATION_LEVELS));
                    }
                    b.optimizationLevel(v.asText());
                }
                case "dynamic_batching" -> b.dynamicBatching(bool(key, v));
                case "warmup" -> b.warmup(bool(key, v));
                case "max_batch_size" -> b.maxBatchSize(intIn(key, v, 1, "1 or more"));
                case "max_queue_delay_micros" -> {
                    if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
                        throw bad(key, v, "a whole number of microseconds, 0 or more");
                    }
                    b.maxQueueDelayMicros(v.asLong());
                }
                case "max_queue_size" -> b.maxQueueSize(intIn(key, v, 0, "0 (the server's default) or more"));
                case "preferred_batch_sizes" -> {
                    if (!v.isArray()) {
                        throw bad(key, v, "a list of batch sizes such as [4, 8]");
                    }
                    List<Integer> sizes = new ArrayList<>();
                    v.forEach(n -> sizes.add(intIn(key, n, 1, "a list of whole numbers, each 1 or more")));
                    b.preferredBatchSizes(sizes);
                }
                case "inputs" -> b.inputs(tensors(key, v));
                case "outputs" -> b.outputs(tensors(key, v));
                default -> throw new InvalidArgumentException("serving: unknown key '" + key + "'; the keys are " + String.join(", ", KEYS));
            }
        }
        if (layout != null) {
            b.layout(layout); // after the loop: the builder marks a layout fixed when a count is set
        }
        try {
            return b.build();
        } catch (InvalidArgumentException e) {
            // a rule across keys (preferred sizes within max_batch_size): the message names the keys
            throw new InvalidArgumentException("serving: " + e.getMessage(), e);
        }
    }

    private static List<ServingConfig.DeclaredTensor> tensors(String key, JsonNode v) {
        String expected = "a list of {\"name\": ..., \"datatype\": ..., \"shape\": [...]} objects";
        if (!v.isArray()) {
            throw bad(key, v, expected);
        }
        List<ServingConfig.DeclaredTensor> out = new ArrayList<>();
        for (JsonNode t : v) {
            if (!t.isObject()) {
                throw bad(key, t, expected);
            }
            t.fieldNames().forEachRemaining(f -> {
                if (!TENSOR_KEYS.contains(f)) {
                    throw new InvalidArgumentException("serving." + key + ": unknown key '" + f + "'; the keys are name, datatype, shape");
                }
            });
            JsonNode name = t.get("name");
            if (name == null || !name.isTextual() || name.asText().isBlank()) {
                throw bad(key + "[].name", name, "the tensor's name in the model");
            }
            JsonNode type = t.get("datatype");
            DataType datatype = type != null && type.isTextual() ? DataType.parse(type.asText()).orElse(null) : null;
            if (datatype == null) {
                throw bad(key + "[].datatype", type, "one of " + Arrays.toString(DataType.values()));
            }
            List<Long> shape = new ArrayList<>();
            JsonNode dims = t.get("shape");
            if (dims != null) {
                if (!dims.isArray()) {
                    throw bad(key + "[].shape", dims, "a list of sizes, -1 for any");
                }
                for (JsonNode d : dims) {
                    if (!d.isIntegralNumber() || d.asLong() < -1) {
                        throw bad(key + "[].shape", d, "a list of sizes, -1 for any");
                    }
                    shape.add(d.asLong());
                }
            }
            out.add(new ServingConfig.DeclaredTensor(name.asText(), datatype, shape));
        }
        return out;
    }

    private static int intIn(String key, JsonNode v, int min, String allowed) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min) {
            throw bad(key, v, "a whole number, " + allowed);
        }
        return v.asInt();
    }

    private static boolean bool(String key, JsonNode v) {
        if (!v.isBoolean()) {
            throw bad(key, v, "true or false");
        }
        return v.asBoolean();
    }

    private static InvalidArgumentException bad(String key, JsonNode v, String allowed) {
        return new InvalidArgumentException("serving." + key + " must be " + allowed + ", got " + kind(v));
    }

    private static String kind(JsonNode v) {
        if (v == null || v.isMissingNode()) {
            return "nothing";
        }
        String text = v.toString();
        return text.length() > 40 ? text.substring(0, 40) + "..." : text;
    }
}

package dev.berth.server.codec;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import dev.berth.registry.DataType;
import dev.berth.registry.TensorSpec;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceRequest;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.ModelMetadata;
import dev.berth.runtime.ModelStatus;
import dev.berth.runtime.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Open Inference Protocol's JSON encoding (REST), with Triton's binary tensor data extension.
 * Streaming Jackson throughout: tensor data goes from the parser straight into little-endian
 * buffers, and from tensor buffers straight into the generator, without an object tree.
 */
public final class OipJson {
    /** Request parameter asking for every output as binary data. */
    public static final String BINARY_DATA_OUTPUT = "binary_data_output";
    /** Output parameter asking for one output as binary data. */
    public static final String BINARY_DATA = "binary_data";
    /** Input/output parameter giving the byte size of a tensor's binary data. */
    public static final String BINARY_DATA_SIZE = "binary_data_size";

    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .enable(StreamReadFeature.USE_FAST_BIG_NUMBER_PARSER)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
            .build();

    private OipJson() {
    }

    // ---------------------------------------------------------------------------------------- requests

    /**
     * Decodes an inference request body.
     *
     * @param model        model name from the path
     * @param version      version or alias from the path, or null
     * @param body         the whole body
     * @param headerLength the {@code Inference-Header-Content-Length} value, or -1 when the body is all JSON
     */
    public static RestInferRequest readInferRequest(String model, String version, byte[] body, int headerLength) {
        return readInferRequest(model, version, body, headerLength, true);
    }

    /** {@code flatArrays}: whether big flat number arrays may take the fast path (false in tests comparing both). */
    static RestInferRequest readInferRequest(String model, String version, byte[] body, int headerLength, boolean flatArrays) {
        int jsonLength = headerLength < 0 ? body.length : headerLength;
        if (jsonLength > body.length) {
            throw invalid("Inference-Header-Content-Length " + headerLength + " exceeds the body length " + body.length);
        }
        StrictUtf8.check(body, 0, jsonLength, "the request's JSON");
        FlatNumberArrays.Skeleton skeleton = flatArrays && jsonLength >= FlatNumberArrays.MIN_BYTES
                ? FlatNumberArrays.find(body, jsonLength) : null;
        if (skeleton != null) {
            try {
                return readSkeleton(model, version, body, jsonLength, skeleton);
            } catch (IOException | RuntimeException e) {
                // FallBack, or any refusal: the ordinary path below decides, with its own messages
            }
        }
        try (JsonParser p = JSON.createParser(body, 0, jsonLength)) {
            RequestReader reader = new RequestReader(p, body, jsonLength, null);
            return reader.read(model, version);
        } catch (JsonProcessingException e) {
            throw malformed(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The fast path alone: Jackson on the skeleton, the big arrays from the body; throws where it steps aside. */
    static RestInferRequest readSkeleton(String model, String version, byte[] body, int jsonLength,
                                         FlatNumberArrays.Skeleton skeleton) throws IOException {
        try (JsonParser p = JSON.createParser(skeleton.json())) {
            return new RequestReader(p, body, jsonLength, skeleton).read(model, version);
        }
    }

    /**
     * Jackson's messages name its own switches ("enable `JsonReadFeature...` to allow") and a
     * redacted source; a client needs neither, only what was wrong and where.
     */
    private static InferenceException.InvalidInput malformed(JsonProcessingException e) {
        String message = String.valueOf(e.getOriginalMessage())
                .replaceAll("\\s*\\(start marker at \\[Source:[^\\]]*\\]\\)", "")
                .replaceAll(": enable `[^`]*` to allow", "")
                .replaceAll(", from `[^`]*`", "");
        return invalid("malformed JSON: " + message + location(e));
    }

    private static String location(JsonProcessingException e) {
        if (e.getLocation() == null) {
            return "";
        }
        return " at byte " + e.getLocation().getByteOffset();
    }

    /** Reads an optional {@code {"ready": bool}} repository index request; an empty body is allowed. */
    public static boolean readIndexReadyFlag(byte[] body) {
        if (body.length == 0 || new String(body, StandardCharsets.UTF_8).isBlank()) {
            return false;
        }
        StrictUtf8.check(body, 0, body.length, "the request body");
        try (JsonParser p = JSON.createParser(body)) {
            expect(p, p.nextToken(), JsonToken.START_OBJECT, "the request body");
            boolean ready = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (field.equals("ready")) {
                    if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
                        throw invalid("'ready' must be true or false");
                    }
                    ready = t == JsonToken.VALUE_TRUE;
                } else {
                    p.skipChildren();
                }
            }
            return ready;
        } catch (JsonProcessingException e) {
            throw malformed(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Checks that an optional load/unload body is well-formed JSON (an object), ignoring its content. */
    public static void checkOptionalObject(byte[] body) {
        if (body.length == 0 || new String(body, StandardCharsets.UTF_8).isBlank()) {
            return;
        }
        StrictUtf8.check(body, 0, body.length, "the request body");
        try (JsonParser p = JSON.createParser(body)) {
            expect(p, p.nextToken(), JsonToken.START_OBJECT, "the request body");
            p.skipChildren();
            if (p.nextToken() != null) {
                throw invalid("trailing content after the JSON object");
            }
        } catch (JsonProcessingException e) {
            throw malformed(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final class RequestReader {
        private final JsonParser p;
        private final byte[] body;
        private final long maxElements;
        private int binaryCursor;
        /** Where the big flat number arrays were taken out of the JSON Jackson reads; null on the ordinary path. */
        private final FlatNumberArrays.Skeleton skeleton;

        RequestReader(JsonParser p, byte[] body, int jsonLength, FlatNumberArrays.Skeleton skeleton) {
            this.p = p;
            this.body = body;
            this.skeleton = skeleton;
            this.binaryCursor = jsonLength;
            // a JSON element takes at least one character plus a separator; binary at least a byte
            this.maxElements = Math.max(body.length, 1);
        }

        RestInferRequest read(String model, String version) throws IOException {
            expect(p, p.nextToken(), JsonToken.START_OBJECT, "the request body");
            String id = null;
            Map<String, Object> parameters = Map.of();
            List<Tensor> inputs = null;
            List<String> outputs = new ArrayList<>();
            Map<String, Boolean> binaryPerOutput = new HashMap<>();
            Map<String, Integer> classification = new HashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                switch (field) {
                    case "id" -> {
                        if (t != JsonToken.VALUE_STRING && t != JsonToken.VALUE_NULL) {
                            throw invalid("'id' must be a string");
                        }
                        id = t == JsonToken.VALUE_NULL ? null : StrictUtf8.checkText(p.getText(), "'id'");
                    }
                    case "parameters" -> parameters = readParameters(p, "request");
                    case "inputs" -> inputs = readInputs();
                    case "outputs" -> readOutputs(outputs, binaryPerOutput, classification);
                    default -> p.skipChildren();
                }
            }
            if (p.nextToken() != null) {
                throw invalid("trailing content after the JSON object");
            }
            if (inputs == null) {
                throw invalid("the request has no 'inputs'");
            }
            if (binaryCursor != body.length) {
                throw invalid((body.length - binaryCursor) + " bytes of binary data follow the JSON header but no input claims them"
                        + " (check binary_data_size)");
            }
            Object binaryDefault = parameters.get(BINARY_DATA_OUTPUT);
            if (binaryDefault != null && !(binaryDefault instanceof Boolean)) {
                throw invalid("parameter '" + BINARY_DATA_OUTPUT + "' must be true or false");
            }
            InferenceRequest request = new InferenceRequest(model, version, id, inputs, outputs, parameters);
            return new RestInferRequest(request, Boolean.TRUE.equals(binaryDefault), binaryPerOutput, classification);
        }

        private List<Tensor> readInputs() throws IOException {
            expect(p, p.currentToken(), JsonToken.START_ARRAY, "'inputs'");
            List<Tensor> inputs = new ArrayList<>();
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                expect(p, t, JsonToken.START_OBJECT, "each entry of 'inputs'");
                inputs.add(readInput(inputs.size()));
            }
            return inputs;
        }

        private Tensor readInput(int index) throws IOException {
            String name = null;
            String datatypeName = null;
            long[] shape = null;
            Map<String, Object> parameters = Map.of();
            Sink sink = null;
            TokenBuffer deferred = null;
            FlatNumberArrays.Span span = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                switch (field) {
                    case "name" -> {
                        if (t != JsonToken.VALUE_STRING) {
                            throw invalid("input " + index + ": 'name' must be a string");
                        }
                        name = StrictUtf8.checkText(p.getText(), "the name of input " + index);
                    }
                    case "datatype" -> {
                        if (t != JsonToken.VALUE_STRING) {
                            throw invalid("input " + label(name, index) + ": 'datatype' must be a string");
                        }
                        datatypeName = p.getText();
                    }
                    case "shape" -> shape = readShape(label(name, index));
                    case "parameters" -> parameters = readParameters(p, "input " + label(name, index));
                    case "data" -> {
                        FlatNumberArrays.Span taken = t == JsonToken.START_ARRAY && skeleton != null
                                ? skeleton.spans().get(p.currentTokenLocation().getByteOffset()) : null;
                        if (taken != null) {
                            if (p.nextToken() != JsonToken.END_ARRAY || sink != null || deferred != null || span != null) {
                                throw new FlatNumberArrays.FallBack();
                            }
                            span = taken; // read once the datatype and shape are known
                        } else if (datatypeName != null && shape != null) {
                            sink = new Sink(label(name, index), Elements.datatype(label(name, index), datatypeName),
                                    shape, maxElements);
                            readData(p, sink, shape);
                        } else {
                            // the datatype or shape comes later in this object: keep the tokens, decode them
                            // once both are known (nested data is checked against the shape)
                            deferred = new TokenBuffer(p, null);
                            deferred.copyCurrentStructure(p);
                        }
                    }
                    default -> p.skipChildren();
                }
            }
            String label = label(name, index);
            if (name == null) {
                throw invalid("input " + index + " has no 'name'");
            }
            DataType type = Elements.datatype(label, datatypeName);
            if (shape == null) {
                throw invalid("input '" + name + "' has no 'shape'");
            }
            Elements.refuseSharedMemory("input '" + name + "'", parameters.containsKey(Elements.SHARED_MEMORY_REGION));
            Object binarySize = parameters.get(BINARY_DATA_SIZE);
            if (binarySize != null) {
                if (sink != null || deferred != null || span != null) {
                    throw invalid("input '" + name + "' has both 'data' and binary_data_size");
                }
                return binaryInput(name, type, shape, binarySize);
            }
            if (deferred != null) {
                sink = new Sink(label, type, shape, maxElements);
                try (JsonParser replay = deferred.asParser()) {
                    replay.nextToken();
                    readData(replay, sink, shape);
                }
            }
            if (span != null) {
                if (type != DataType.FP32 && type != DataType.FP64) {
                    throw new FlatNumberArrays.FallBack(); // integers keep the ordinary path's checks
                }
                sink = new Sink(label, type, shape, maxElements);
                FlatNumberArrays.read(body, span, type == DataType.FP32, sink);
            }
            if (sink == null) {
                throw invalid("input '" + name + "' has neither 'data' nor a binary_data_size parameter");
            }
            return sink.toTensor(name, shape);
        }

        private Tensor binaryInput(String name, DataType type, long[] shape, Object binarySize) {
            if (!(binarySize instanceof Long size) || size < 0) {
                throw invalid("input '" + name + "': binary_data_size must be a non-negative integer");
            }
            if (size > body.length - binaryCursor) {
                throw invalid("input '" + name + "' declares binary_data_size " + size + " but only "
                        + (body.length - binaryCursor) + " bytes of binary data remain");
            }
            ByteBuffer slice = ByteBuffer.wrap(body, binaryCursor, (int) (long) size).slice().order(ByteOrder.LITTLE_ENDIAN);
            binaryCursor += (int) (long) size;
            return Elements.fromRaw(name, type, shape, slice);
        }

        private long[] readShape(String label) throws IOException {
            expect(p, p.currentToken(), JsonToken.START_ARRAY, "'shape' of input " + label);
            long[] dims = new long[8];
            int n = 0;
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                    throw invalid("'shape' of input " + label + " must hold non-negative integers, got " + p.getText());
                }
                long d = p.getLongValue();
                if (d < 0) {
                    throw invalid("'shape' of input " + label + " has negative dimension " + d);
                }
                if (n == dims.length) {
                    if (n >= 64) {
                        throw invalid("'shape' of input " + label + " has more than 64 dimensions");
                    }
                    dims = Arrays.copyOf(dims, n * 2);
                }
                dims[n++] = d;
            }
            long[] shape = Arrays.copyOf(dims, n);
            Elements.checkedCount(label, shape, maxElements);
            return shape;
        }

        private void readOutputs(List<String> names, Map<String, Boolean> binary, Map<String, Integer> classification)
                throws IOException {
            expect(p, p.currentToken(), JsonToken.START_ARRAY, "'outputs'");
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                expect(p, t, JsonToken.START_OBJECT, "each entry of 'outputs'");
                String name = null;
                Map<String, Object> parameters = Map.of();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    JsonToken v = p.nextToken();
                    if (field.equals("name")) {
                        if (v != JsonToken.VALUE_STRING) {
                            throw invalid("each requested output needs a string 'name'");
                        }
                        name = StrictUtf8.checkText(p.getText(), "a requested output's name");
                    } else if (field.equals("parameters")) {
                        parameters = readParameters(p, "output");
                    } else {
                        p.skipChildren();
                    }
                }
                if (name == null) {
                    throw invalid("each requested output needs a 'name'");
                }
                Elements.refuseSharedMemory("output '" + name + "'", parameters.containsKey(Elements.SHARED_MEMORY_REGION));
                Object classes = parameters.get(Classification.PARAMETER);
                if (classes != null) {
                    classification.put(name, Classification.count(name, classes));
                }
                names.add(name);
                Object flag = parameters.get(BINARY_DATA);
                if (flag != null) {
                    if (!(flag instanceof Boolean b)) {
                        throw invalid("output '" + name + "': binary_data must be true or false");
                    }
                    binary.put(name, b);
                }
            }
        }
    }

    private static String label(String name, int index) {
        return name != null ? name : "#" + index;
    }

    /**
     * Reads a flat parameters object. The protocol's parameter values are booleans, numbers and
     * strings; an object, an array or null is refused by name rather than skipped, so that a
     * misspelt structure never passes as if the parameter were absent.
     */
    private static Map<String, Object> readParameters(JsonParser p, String owner) throws IOException {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return Map.of();
        }
        expect(p, p.currentToken(), JsonToken.START_OBJECT, "'parameters' of " + owner);
        Map<String, Object> parameters = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken t = p.nextToken();
            switch (t) {
                case VALUE_TRUE -> parameters.put(key, Boolean.TRUE);
                case VALUE_FALSE -> parameters.put(key, Boolean.FALSE);
                case VALUE_STRING -> parameters.put(StrictUtf8.checkText(key, "a parameter name of " + owner),
                        StrictUtf8.checkText(p.getText(), "parameter '" + key + "' of " + owner));
                case VALUE_NUMBER_INT -> parameters.put(key, p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                        ? p.getBigIntegerValue() : (Object) p.getLongValue());
                case VALUE_NUMBER_FLOAT -> parameters.put(key, p.getDoubleValue());
                default -> throw invalid("parameter '" + key + "' of " + owner
                        + " must be a boolean, a number or a string, got " + describe(t));
            }
        }
        return parameters;
    }

    private static void expect(JsonParser p, JsonToken got, JsonToken wanted, String what) {
        if (got != wanted) {
            String kind = wanted == JsonToken.START_OBJECT ? "an object" : "an array";
            throw invalid(what + " must be " + kind + (got == null ? "" : ", got " + describe(got)));
        }
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.name();
        };
    }

    /**
     * Walks {@code data} into the sink. Accepted forms: a flat array (any shape), arrays nested
     * exactly as the shape says (row-major), or a lone scalar for a rank-0 tensor. Nesting that
     * disagrees with the shape (ragged rows, too deep, too shallow, arrays mixed with values) is a
     * client mistake: flattening it anyway would silently feed the model misaligned rows.
     */
    private static void readData(JsonParser p, Sink sink, long[] shape) throws IOException {
        JsonToken t = p.currentToken();
        if (t != JsonToken.START_ARRAY) {
            // a bare value only stands for a rank-0 tensor; for any other shape it is a mistake
            // (data: true for shape [1,S]) that one element happening to fit must not hide
            if (shape.length != 0) {
                throw invalid("input '" + sink.label + "': 'data' must be an array for shape " + Arrays.toString(shape)
                        + ", got " + describe(t));
            }
            sink.add(p, t);
            return;
        }
        JsonToken first = p.nextToken();
        if (first == JsonToken.END_ARRAY) {
            return;
        }
        if (first == JsonToken.START_ARRAY) {
            readNested(p, sink, shape, 0);
            return;
        }
        // flat: every element a value
        for (t = first; t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (t == JsonToken.START_ARRAY) {
                throw invalid("input '" + sink.label + "': 'data' mixes nested arrays and values; give it flat or"
                        + " nested exactly as the shape " + Arrays.toString(shape));
            }
            sink.add(p, t);
        }
    }

    /**
     * Reads one level of nested data. Called with the parser on the first token inside an array at
     * {@code level} (0 is the outer array, whose opening bracket has already been consumed).
     */
    private static void readNested(JsonParser p, Sink sink, long[] shape, int level) throws IOException {
        if (level >= shape.length) {
            throw nesting(sink, shape, "is nested deeper than the shape's " + shape.length + " dimension(s)");
        }
        boolean inner = level < shape.length - 1;
        long count = 0;
        for (JsonToken t = p.currentToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (count == shape[level]) {
                throw nesting(sink, shape, "has more than " + count + " entries in dimension " + level);
            }
            if (t == JsonToken.START_ARRAY) {
                if (!inner) {
                    throw nesting(sink, shape, "is nested deeper than the shape's " + shape.length + " dimension(s)");
                }
                p.nextToken();
                readNested(p, sink, shape, level + 1);
            } else if (inner) {
                throw nesting(sink, shape, "has a value where dimension " + level + " needs an array of "
                        + shape[level + 1]);
            } else {
                sink.add(p, t);
            }
            count++;
        }
        if (count != shape[level]) {
            throw nesting(sink, shape, "has " + count + " entries in dimension " + level + " where the shape says "
                    + shape[level]);
        }
    }

    private static InferenceException.InvalidInput nesting(Sink sink, long[] shape, String problem) {
        return invalid("input '" + sink.label + "': nested 'data' " + problem + " (shape "
                + Arrays.toString(shape) + "); give it flat or nested exactly as the shape");
    }

    /** Collects one input's elements in the datatype's binary layout. */
    private static final class Sink implements FlatNumberArrays.Receiver {
        private final String label;
        private final DataType type;
        private final long expected;
        private final long maxElements;
        private ByteBuffer buf;
        private List<byte[]> strings;
        private long count;

        Sink(String label, DataType type, long[] shape, long maxElements) {
            this.label = label;
            this.type = type;
            this.maxElements = maxElements;
            this.expected = shape == null ? -1 : Elements.checkedCount(label, shape, maxElements);
            if (type == DataType.BYTES) {
                strings = new ArrayList<>((int) Math.min(expected < 0 ? 16 : expected, 1 << 16));
            } else {
                buf = Elements.allocate(type, expected < 0 ? 64 : expected);
            }
        }

        void add(JsonParser p, JsonToken t) throws IOException {
            if (count == expected) {
                throw invalid("input '" + label + "' has more data elements than its shape allows (" + expected + ")");
            }
            if (count >= maxElements) {
                throw invalid("input '" + label + "' has more data elements than the body can hold");
            }
            switch (type) {
                case BOOL -> {
                    if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
                        throw wrongKind(t, "true or false");
                    }
                    room().put((byte) (t == JsonToken.VALUE_TRUE ? 1 : 0));
                }
                case FP32 -> room().putFloat(floatValue(p, t));
                case FP64 -> room().putDouble(doubleValue(p, t));
                case FP16 -> room().putShort(finite(p, t, Elements.toFp16(floatValue(p, t)), (short) 0x7c00));
                case BF16 -> room().putShort(finite(p, t, Elements.toBf16(floatValue(p, t)), (short) 0x7f80));
                case BYTES -> {
                    if (t != JsonToken.VALUE_STRING) {
                        throw wrongKind(t, "a string");
                    }
                    strings.add(StrictUtf8.checkText(p.getText(), "input '" + label + "' element " + count)
                            .getBytes(StandardCharsets.UTF_8));
                }
                default -> Elements.putInteger(room(), type, integerValue(p, t));
            }
            count++;
        }

        /** An element from the flat-array fast path; anything the ordinary path would refuse falls back to it. */
        @Override
        public void add(float v) {
            if (count == expected || count >= maxElements) {
                throw new FlatNumberArrays.FallBack();
            }
            room().putFloat(v);
            count++;
        }

        @Override
        public void add(double v) {
            if (count == expected || count >= maxElements) {
                throw new FlatNumberArrays.FallBack();
            }
            room().putDouble(v);
            count++;
        }

        private ByteBuffer room() {
            if (!buf.hasRemaining()) {
                long elements = Math.min((long) buf.capacity() / type.byteSize() * 2, maxElements);
                ByteBuffer bigger = Elements.allocate(type, elements);
                buf.flip();
                bigger.put(buf);
                buf = bigger;
            }
            return buf;
        }

        private float floatValue(JsonParser p, JsonToken t) throws IOException {
            if (t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_NUMBER_INT) {
                // from the parser's own characters: no String, no boxing (see JsonNumbers)
                float v = JsonNumbers.parseFloat(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
                if (Float.isInfinite(v)) {
                    throw overflow(p);
                }
                return v;
            }
            return (float) nonFinite(p, t);
        }

        private double doubleValue(JsonParser p, JsonToken t) throws IOException {
            if (t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_NUMBER_INT) {
                double v = JsonNumbers.parseDouble(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
                if (Double.isInfinite(v)) {
                    throw overflow(p);
                }
                return v;
            }
            return nonFinite(p, t);
        }

        /**
         * A half-precision element that a finite JSON number turned into infinity is out of range; the
         * quoted "Infinity" forms stay allowed, as the encoder writes them.
         */
        private short finite(JsonParser p, JsonToken t, short bits, short infinity) throws IOException {
            if (t != JsonToken.VALUE_STRING && (bits & 0x7fff) == infinity) {
                throw overflow(p);
            }
            return bits;
        }

        /** A JSON number too large for the datatype would silently become infinity: refuse it by element. */
        private InferenceException.InvalidInput overflow(JsonParser p) throws IOException {
            return invalid("input '" + label + "' is " + type + " but element " + count + " (" + p.getText()
                    + ") is out of its range; send \"Infinity\" or \"-Infinity\" to mean infinity");
        }

        /** The quoted forms the encoder writes for values JSON numbers cannot express. */
        private double nonFinite(JsonParser p, JsonToken t) throws IOException {
            if (t == JsonToken.VALUE_STRING) {
                switch (p.getText()) {
                    case "NaN" -> { return Double.NaN; }
                    case "Infinity", "+Infinity" -> { return Double.POSITIVE_INFINITY; }
                    case "-Infinity" -> { return Double.NEGATIVE_INFINITY; }
                    default -> { }
                }
            }
            throw wrongKind(t, "a number");
        }

        private long integerValue(JsonParser p, JsonToken t) throws IOException {
            if (t == JsonToken.VALUE_NUMBER_INT) {
                if (p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
                    return Elements.checkSigned(label, type, p.getLongValue());
                }
                return bigInteger(p.getBigIntegerValue(), p.getText());
            }
            if (t == JsonToken.VALUE_NUMBER_FLOAT) {
                BigDecimal d = p.getDecimalValue();
                // a huge exponent (1e1000000000) would make toBigIntegerExact build an enormous number
                if (d.signum() != 0 && d.precision() - d.scale() > 20) {
                    throw Elements.outOfRange(label, type, p.getText());
                }
                try {
                    return bigInteger(d.toBigIntegerExact(), p.getText());
                } catch (ArithmeticException e) {
                    throw invalid("input '" + label + "' is " + type + " but element " + count + " is " + p.getText()
                            + ", which is not an integer");
                }
            }
            throw wrongKind(t, "an integer");
        }

        private long bigInteger(BigInteger v, String text) {
            if (type == DataType.UINT64) {
                if (v.signum() < 0 || v.compareTo(UINT64_MAX) > 0) {
                    throw Elements.outOfRange(label, type, text);
                }
                return v.longValue();
            }
            if (v.bitLength() > 63) {
                throw Elements.outOfRange(label, type, text);
            }
            return Elements.checkSigned(label, type, v.longValue());
        }

        private InferenceException.InvalidInput wrongKind(JsonToken t, String wanted) {
            return invalid("input '" + label + "' is " + type + ": element " + count + " must be " + wanted
                    + ", got " + describe(t));
        }

        Tensor toTensor(String name, long[] shape) {
            long want = Elements.checkedCount(label, shape, maxElements);
            if (count != want) {
                throw invalid("input '" + name + "' has shape " + Arrays.toString(shape) + " (" + want
                        + " elements) but " + count + " data elements");
            }
            if (type == DataType.BYTES) {
                return Tensor.ofBytes(name, shape, strings);
            }
            buf.flip();
            return Tensor.ofRaw(name, type, shape, buf);
        }
    }

    // --------------------------------------------------------------------------------------- responses

    /** Encodes an inference response; outputs flagged binary go after the JSON header. */
    public static RestInferResponse writeInferResponse(InferenceResponse response, RestInferRequest request) {
        List<ByteBuffer> binary = new ArrayList<>();
        long estimate = 256;
        for (Tensor t : response.outputs()) {
            estimate += request.binary(t.name()) ? 96 : 96 + t.elementCount() * 12;
        }
        byte[] json = write((int) Math.min(estimate, 1 << 20), g -> {
            g.writeStartObject();
            g.writeStringField("model_name", response.model());
            g.writeStringField("model_version", Integer.toString(response.version()));
            if (response.id() != null) {
                g.writeStringField("id", response.id());
            }
            g.writeArrayFieldStart("outputs");
            for (Tensor t : response.outputs()) {
                g.writeStartObject();
                g.writeStringField("name", t.name());
                g.writeStringField("datatype", t.datatype().name());
                g.writeFieldName("shape");
                writeShape(g, t.shape());
                if (request.binary(t.name())) {
                    ByteBuffer section = binarySection(t);
                    binary.add(section);
                    g.writeObjectFieldStart("parameters");
                    g.writeNumberField(BINARY_DATA_SIZE, section.remaining());
                    g.writeEndObject();
                } else {
                    g.writeFieldName("data");
                    writeData(g, t);
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
        return new RestInferResponse(json, binary);
    }

    private static ByteBuffer binarySection(Tensor t) {
        if (t.datatype() == DataType.BYTES) {
            return ByteBuffer.wrap(Elements.prefixed(t.bytesElements()));
        }
        return t.data();
    }

    private static void writeShape(JsonGenerator g, long[] shape) throws IOException {
        g.writeStartArray();
        for (long d : shape) {
            g.writeNumber(d);
        }
        g.writeEndArray();
    }

    /** Writes a tensor's elements as a flat JSON array. */
    public static void writeData(JsonGenerator g, Tensor t) throws IOException {
        g.writeStartArray();
        if (t.datatype() == DataType.BYTES) {
            for (byte[] e : t.bytesElements()) {
                g.writeString(new String(e, StandardCharsets.UTF_8));
            }
            g.writeEndArray();
            return;
        }
        ByteBuffer b = t.data();
        switch (t.datatype()) {
            case BOOL -> { while (b.hasRemaining()) g.writeBoolean(b.get() != 0); }
            case INT8 -> { while (b.hasRemaining()) g.writeNumber(b.get()); }
            case UINT8 -> { while (b.hasRemaining()) g.writeNumber(b.get() & 0xFF); }
            case INT16 -> { while (b.hasRemaining()) g.writeNumber(b.getShort()); }
            case UINT16 -> { while (b.hasRemaining()) g.writeNumber(b.getShort() & 0xFFFF); }
            case INT32 -> { while (b.hasRemaining()) g.writeNumber(b.getInt()); }
            case UINT32 -> { while (b.hasRemaining()) g.writeNumber(b.getInt() & 0xFFFF_FFFFL); }
            case INT64 -> { while (b.hasRemaining()) g.writeNumber(b.getLong()); }
            case UINT64 -> {
                while (b.hasRemaining()) {
                    long v = b.getLong();
                    if (v >= 0) {
                        g.writeNumber(v);
                    } else {
                        g.writeNumber(Long.toUnsignedString(v));
                    }
                }
            }
            case FP16 -> { JsonNumbers.Writer w = new JsonNumbers.Writer(); while (b.hasRemaining()) w.write(g, Elements.fromFp16(b.getShort())); }
            case BF16 -> { JsonNumbers.Writer w = new JsonNumbers.Writer(); while (b.hasRemaining()) w.write(g, Elements.fromBf16(b.getShort())); }
            case FP32 -> { JsonNumbers.Writer w = new JsonNumbers.Writer(); while (b.hasRemaining()) w.write(g, b.getFloat()); }
            case FP64 -> { JsonNumbers.Writer w = new JsonNumbers.Writer(); while (b.hasRemaining()) w.write(g, b.getDouble()); }
            default -> throw new IllegalStateException("unexpected datatype " + t.datatype());
        }
        g.writeEndArray();
    }

    // ------------------------------------------------------------------------------ small documents

    /** {@code {"error": message}}. */
    public static byte[] error(String message) {
        return write(128, g -> {
            g.writeStartObject();
            g.writeStringField("error", message == null ? "unknown error" : message);
            g.writeEndObject();
        });
    }

    /** An object of boolean fields in order, e.g. {@code {"live": true}}. */
    public static byte[] flags(Object... keyValues) {
        return write(64, g -> {
            g.writeStartObject();
            for (int i = 0; i < keyValues.length; i += 2) {
                g.writeFieldName((String) keyValues[i]);
                Object v = keyValues[i + 1];
                if (v instanceof Boolean b) {
                    g.writeBoolean(b);
                } else {
                    g.writeString(String.valueOf(v));
                }
            }
            g.writeEndObject();
        });
    }

    public static byte[] serverMetadata(String name, String version, List<String> extensions) {
        return write(256, g -> {
            g.writeStartObject();
            g.writeStringField("name", name);
            g.writeStringField("version", version);
            g.writeArrayFieldStart("extensions");
            for (String e : extensions) {
                g.writeString(e);
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    public static byte[] modelMetadata(ModelMetadata m) {
        return write(512, g -> {
            g.writeStartObject();
            g.writeStringField("name", m.name());
            g.writeArrayFieldStart("versions");
            for (String v : m.versions()) {
                g.writeString(v);
            }
            g.writeEndArray();
            g.writeStringField("platform", m.platform());
            writeSpecs(g, "inputs", m.inputs());
            writeSpecs(g, "outputs", m.outputs());
            g.writeEndObject();
        });
    }

    private static void writeSpecs(JsonGenerator g, String field, List<TensorSpec> specs) throws IOException {
        g.writeArrayFieldStart(field);
        for (TensorSpec s : specs) {
            g.writeStartObject();
            g.writeStringField("name", s.name());
            g.writeStringField("datatype", s.datatype().name());
            g.writeArrayFieldStart("shape");
            for (long d : s.shape()) {
                g.writeNumber(d);
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    /** Triton's repository index: an array of {@code {name, version, state, reason}}. */
    public static byte[] repositoryIndex(List<ModelStatus> index) {
        return write(256, g -> {
            g.writeStartArray();
            for (ModelStatus s : index) {
                g.writeStartObject();
                g.writeStringField("name", s.name());
                g.writeStringField("version", Integer.toString(s.version()));
                g.writeStringField("state", s.state().name());
                g.writeStringField("reason", s.reason() == null ? "" : s.reason());
                g.writeEndObject();
            }
            g.writeEndArray();
        });
    }

    private interface GeneratorWork {
        void accept(JsonGenerator g) throws IOException;
    }

    private static byte[] write(int sizeHint, GeneratorWork work) {
        try (ByteArrayBuilder out = new ByteArrayBuilder(Math.max(sizeHint, 64))) {
            try (JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8)) {
                work.accept(g);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static InferenceException.InvalidInput invalid(String message) {
        return Elements.invalid(message);
    }
}

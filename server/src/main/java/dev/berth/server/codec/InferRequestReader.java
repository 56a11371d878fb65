package dev.berth.server.codec;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import dev.berth.registry.DataType;
import dev.berth.runtime.InferenceRequest;
import dev.berth.runtime.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.berth.server.codec.JsonTokens.expect;
import static dev.berth.server.codec.JsonTokens.invalid;
import static dev.berth.server.codec.JsonTokens.label;
import static dev.berth.server.codec.JsonTokens.readParameters;
import static dev.berth.server.codec.TensorDataReader.readData;

/**
 * Reads one inference request body with a streaming parser: the request fields, each input's
 * datatype, shape and data (JSON, Triton binary sections after the header, or the flat-array fast
 * path's spans), and the requested outputs.
 */
final class InferRequestReader {
    private final JsonParser p;
    private final byte[] body;
    private final long maxElements;
    private int binaryCursor;
    /** Where the big flat number arrays were taken out of the JSON Jackson reads; null on the ordinary path. */
    private final FlatNumberArrays.Skeleton skeleton;

    InferRequestReader(JsonParser p, byte[] body, int jsonLength, FlatNumberArrays.Skeleton skeleton) {
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
        Object binaryDefault = parameters.get(OipJson.BINARY_DATA_OUTPUT);
        if (binaryDefault != null && !(binaryDefault instanceof Boolean)) {
            throw invalid("parameter '" + OipJson.BINARY_DATA_OUTPUT + "' must be true or false");
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
        ElementSink sink = null;
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
                        sink = new ElementSink(label(name, index), Elements.datatype(label(name, index), datatypeName),
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
        Object binarySize = parameters.get(OipJson.BINARY_DATA_SIZE);
        if (binarySize != null) {
            if (sink != null || deferred != null || span != null) {
                throw invalid("input '" + name + "' has both 'data' and binary_data_size");
            }
            return binaryInput(name, type, shape, binarySize);
        }
        if (deferred != null) {
            sink = new ElementSink(label, type, shape, maxElements);
            try (JsonParser replay = deferred.asParser()) {
                replay.nextToken();
                readData(replay, sink, shape);
            }
        }
        if (span != null) {
            if (type != DataType.FP32 && type != DataType.FP64) {
                throw new FlatNumberArrays.FallBack(); // integers keep the ordinary path's checks
            }
            sink = new ElementSink(label, type, shape, maxElements);
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
            Object flag = parameters.get(OipJson.BINARY_DATA);
            if (flag != null) {
                if (!(flag instanceof Boolean b)) {
                    throw invalid("output '" + name + "': binary_data must be true or false");
                }
                binary.put(name, b);
            }
        }
    }
}

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
import dev.berth.registry.TensorSpec;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.ModelMetadata;
import dev.berth.runtime.ModelStatus;
import dev.berth.runtime.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static dev.berth.server.codec.JsonTokens.expect;
import static dev.berth.server.codec.JsonTokens.invalid;
import static dev.berth.server.codec.JsonTokens.malformed;

/**
 * The Open Inference Protocol's JSON encoding (REST), with Triton's binary tensor data extension.
 * Streaming Jackson throughout: tensor data goes from the parser straight into little-endian
 * buffers, and from tensor buffers straight into the generator, without an object tree.
 *
 * <p>This class is the codec's entry point and writes the small documents; the work behind it is
 * split by job: {@link InferRequestReader} (request fields and inputs), {@link TensorDataReader}
 * (nested or flat {@code data}), {@link ElementSink} (each datatype's number format and range
 * checks), {@link InferResponseWriter} (responses) and {@link JsonTokens} (shared token checks).
 */
public final class OipJson {
    /** Request parameter asking for every output as binary data. */
    public static final String BINARY_DATA_OUTPUT = "binary_data_output";
    /** Output parameter asking for one output as binary data. */
    public static final String BINARY_DATA = "binary_data";
    /** Input/output parameter giving the byte size of a tensor's binary data. */
    public static final String BINARY_DATA_SIZE = "binary_data_size";

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
            InferRequestReader reader = new InferRequestReader(p, body, jsonLength, null);
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
            return new InferRequestReader(p, body, jsonLength, skeleton).read(model, version);
        }
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

    // --------------------------------------------------------------------------------------- responses

    /** Encodes an inference response; outputs flagged binary go after the JSON header. */
    public static RestInferResponse writeInferResponse(InferenceResponse response, RestInferRequest request) {
        return InferResponseWriter.writeInferResponse(response, request);
    }

    /** Writes a tensor's elements as a flat JSON array. */
    public static void writeData(JsonGenerator g, Tensor t) throws IOException {
        InferResponseWriter.writeData(g, t);
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

    interface GeneratorWork {
        void accept(JsonGenerator g) throws IOException;
    }

    static byte[] write(int sizeHint, GeneratorWork work) {
        try (ByteArrayBuilder out = new ByteArrayBuilder(Math.max(sizeHint, 64))) {
            try (JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8)) {
                work.accept(g);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.berth.server.codec;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.berth.registry.DataType;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Writes inference responses: the JSON header with each output's data, binary outputs after it. */
final class InferResponseWriter {
    private InferResponseWriter() {
    }

    /** Encodes an inference response; outputs flagged binary go after the JSON header. */
    public static RestInferResponse writeInferResponse(InferenceResponse response, RestInferRequest request) {
        List<ByteBuffer> binary = new ArrayList<>();
        long estimate = 256;
        for (Tensor t : response.outputs()) {
            estimate += request.binary(t.name()) ? 96 : 96 + t.elementCount() * 12;
        }
        byte[] json = OipJson.write((int) Math.min(estimate, 1 << 20), g -> {
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
                    g.writeNumberField(OipJson.BINARY_DATA_SIZE, section.remaining());
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

    static ByteBuffer binarySection(Tensor t) {
        if (t.datatype() == DataType.BYTES) {
            return ByteBuffer.wrap(Elements.prefixed(t.bytesElements()));
        }
        return t.data();
    }

    static void writeShape(JsonGenerator g, long[] shape) throws IOException {
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

}

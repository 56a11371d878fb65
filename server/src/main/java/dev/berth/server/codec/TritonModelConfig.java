package dev.berth.server.codec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.berth.registry.DataType;
import dev.berth.registry.VersionPolicy;
import dev.berth.runtime.ModelConfiguration;
import dev.berth.registry.triton.ModelConfig;
import dev.berth.registry.triton.ModelDynamicBatching;
import dev.berth.registry.triton.ModelInput;
import dev.berth.registry.triton.ModelInstanceGroup;
import dev.berth.registry.triton.ModelOutput;
import dev.berth.registry.triton.ModelVersionPolicy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;

/**
 * Triton's model configuration on the wire: the {@code inference.ModelConfig} message of the
 * {@code ModelConfig} RPC, and the JSON of {@code GET /v2/models/{m}/config}, which is written from
 * that same message so the two cannot disagree. The JSON is the message as Triton prints it:
 * protobuf field names, every field with its default, enums by name, and 64-bit integers as JSON
 * numbers (protobuf's own JSON mapping would quote them; Triton does not).
 */
public final class TritonModelConfig {
    private static final JsonFactory JSON = new JsonFactory();

    private TritonModelConfig() {
    }

    /** The configuration as Triton's protobuf message. */
    public static ModelConfig toProto(ModelConfiguration c) {
        ModelConfig.Builder b = ModelConfig.newBuilder()
                .setName(c.name())
                .setPlatform(c.platform())
                .setBackend(c.backend())
                .setVersionPolicy(versionPolicy(c.versionPolicy()))
                .setMaxBatchSize(c.maxBatchSize());
        for (ModelConfiguration.TensorConfig t : c.inputs()) {
            b.addInput(ModelInput.newBuilder().setName(t.name()).setDataType(dataType(t.datatype()))
                    .setFormat(ModelInput.Format.FORMAT_NONE).addAllDims(t.dims()));
        }
        for (ModelConfiguration.TensorConfig t : c.outputs()) {
            b.addOutput(ModelOutput.newBuilder().setName(t.name()).setDataType(dataType(t.datatype())).addAllDims(t.dims()));
        }
        c.dynamicBatching().ifPresent(d -> b.setDynamicBatching(ModelDynamicBatching.newBuilder()
                .setMaxQueueDelayMicroseconds(d.maxQueueDelayMicros())));
        // Triton names an unnamed group <model>_<group number>
        b.addInstanceGroup(ModelInstanceGroup.newBuilder().setName(c.name() + "_0")
                .setKind(ModelInstanceGroup.Kind.KIND_CPU).setCount(c.instanceCount()));
        return b.build();
    }

    /** The configuration as Triton's REST JSON. */
    public static byte[] toJson(ModelConfiguration c) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            write(g, toProto(c));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * Triton's name of a protocol datatype: {@code TYPE_} and the name, BYTES being {@code TYPE_STRING}.
     * (Triton's enum and the registry's share the simple name {@code DataType}; the proto one is spelled out.)
     */
    static dev.berth.registry.triton.DataType dataType(DataType type) {
        return dev.berth.registry.triton.DataType.valueOf(type == DataType.BYTES ? "TYPE_STRING" : "TYPE_" + type.name());
    }

    private static ModelVersionPolicy versionPolicy(VersionPolicy p) {
        ModelVersionPolicy.Builder b = ModelVersionPolicy.newBuilder();
        return switch (p.kind()) {
            case ALL -> b.setAll(ModelVersionPolicy.All.getDefaultInstance()).build();
            case LATEST -> b.setLatest(ModelVersionPolicy.Latest.newBuilder().setNumVersions(p.latest())).build();
            case SPECIFIC -> b.setSpecific(ModelVersionPolicy.Specific.newBuilder()
                    .addAllVersions(p.versions().stream().map(Integer::longValue).toList())).build();
        };
    }

    /** Every field in declaration order, defaults included; unset message fields (oneof members) are left out. */
    private static void write(JsonGenerator g, Message m) throws IOException {
        g.writeStartObject();
        for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
            if (!f.isRepeated() && f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !m.hasField(f)) {
                continue;
            }
            g.writeFieldName(f.getName());
            if (f.isRepeated()) {
                g.writeStartArray();
                for (int i = 0; i < m.getRepeatedFieldCount(f); i++) {
                    value(g, f, m.getRepeatedField(f, i));
                }
                g.writeEndArray();
            } else {
                value(g, f, m.getField(f));
            }
        }
        g.writeEndObject();
    }

    private static void value(JsonGenerator g, FieldDescriptor f, Object v) throws IOException {
        switch (f.getJavaType()) {
            case MESSAGE -> write(g, (Message) v);
            case ENUM -> g.writeString(((EnumValueDescriptor) v).getName());
            case STRING -> g.writeString((String) v);
            case BOOLEAN -> g.writeBoolean((Boolean) v);
            case INT -> {
                int i = (Integer) v;
                g.writeNumber(isUnsigned(f) ? Integer.toUnsignedLong(i) : i);
            }
            case LONG -> {
                long l = (Long) v;
                if (isUnsigned(f) && l < 0) {
                    g.writeNumber(new BigInteger(Long.toUnsignedString(l)));
                } else {
                    g.writeNumber(l);
                }
            }
            case FLOAT -> g.writeNumber((Float) v);
            case DOUBLE -> g.writeNumber((Double) v);
            case BYTE_STRING -> g.writeBinary(((ByteString) v).toByteArray());
        }
    }

    private static boolean isUnsigned(FieldDescriptor f) {
        return switch (f.getType()) {
            case UINT32, UINT64, FIXED32, FIXED64 -> true;
            default -> false;
        };
    }
}

package dev.berth.server.codec;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.berth.registry.DataType;
import dev.berth.registry.TensorSpec;
import dev.berth.runtime.InferenceRequest;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.ModelMetadata;
import dev.berth.runtime.Tensor;
import dev.berth.server.grpc.proto.InferParameter;
import dev.berth.server.grpc.proto.InferTensorContents;
import dev.berth.server.grpc.proto.ModelInferRequest;
import dev.berth.server.grpc.proto.ModelInferResponse;
import dev.berth.server.grpc.proto.ModelMetadataResponse;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Open Inference Protocol's protobuf encoding (gRPC): typed {@code contents} and
 * {@code raw_input_contents} / {@code raw_output_contents}.
 *
 * <p>Output form: Triton always answers raw; berth answers raw when the request came raw (what
 * Triton's own clients send) or had no inputs, and typed when the request used typed contents, so
 * that clients that only speak typed contents read their answer too. FP16 and BF16 have no typed
 * form, so a response holding one is raw whatever the request used (the protocol forbids mixing).
 */
public final class OipProto {
    private OipProto() {
    }

    /**
     * A decoded gRPC request: the core's request, whether the response goes raw, and the
     * {@code classification} count of each requested output that set one.
     */
    public record Decoded(InferenceRequest request, boolean rawResponse, Map<String, Integer> classification) {
        public Decoded {
            classification = Map.copyOf(classification);
        }
    }

    /** Decodes a ModelInferRequest into the core's request. */
    public static Decoded readInferRequest(ModelInferRequest m) {
        int raw = m.getRawInputContentsCount();
        if (raw > 0 && raw != m.getInputsCount()) {
            throw Elements.invalid("raw_input_contents has " + raw + " entries for " + m.getInputsCount()
                    + " inputs; give one per input, in the order of inputs");
        }
        List<Tensor> inputs = new ArrayList<>(m.getInputsCount());
        for (int i = 0; i < m.getInputsCount(); i++) {
            ModelInferRequest.InferInputTensor in = m.getInputs(i);
            String name = in.getName();
            if (name.isEmpty()) {
                throw Elements.invalid("input " + i + " has no name");
            }
            Elements.refuseSharedMemory("input '" + name + "'", in.containsParameters(Elements.SHARED_MEMORY_REGION));
            DataType type = Elements.datatype(name, in.getDatatype());
            long[] shape = new long[in.getShapeCount()];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = in.getShape(d);
            }
            if (raw > 0) {
                if (in.hasContents()) {
                    throw Elements.invalid("input '" + name + "' has contents while raw_input_contents is used;"
                            + " the protocol allows one form per request");
                }
                inputs.add(Elements.fromRaw(name, type, shape, m.getRawInputContents(i).asReadOnlyByteBuffer()));
            } else {
                inputs.add(typed(name, type, shape, in.getContents()));
            }
        }
        List<String> outputs = new ArrayList<>(m.getOutputsCount());
        Map<String, Integer> classification = new LinkedHashMap<>();
        for (ModelInferRequest.InferRequestedOutputTensor o : m.getOutputsList()) {
            Elements.refuseSharedMemory("output '" + o.getName() + "'", o.containsParameters(Elements.SHARED_MEMORY_REGION));
            InferParameter classes = o.getParametersMap().get(Classification.PARAMETER);
            if (classes != null) {
                Object value = switch (classes.getParameterChoiceCase()) {
                    case INT64_PARAM -> classes.getInt64Param();
                    case UINT64_PARAM -> classes.getUint64Param();
                    default -> classes.toString().trim();
                };
                classification.put(o.getName(), Classification.count(o.getName(), value));
            }
            outputs.add(o.getName());
        }
        String version = m.getModelVersion().isEmpty() ? null : m.getModelVersion();
        String id = m.getId().isEmpty() ? null : m.getId();
        InferenceRequest request = new InferenceRequest(m.getModelName(), version, id, inputs, outputs,
                parameters(m.getParametersMap()));
        return new Decoded(request, raw > 0 || m.getInputsCount() == 0, classification);
    }

    private static Map<String, Object> parameters(Map<String, InferParameter> in) {
        Map<String, Object> out = new LinkedHashMap<>();
        in.forEach((k, v) -> {
            switch (v.getParameterChoiceCase()) {
                case BOOL_PARAM -> out.put(k, v.getBoolParam());
                case INT64_PARAM -> out.put(k, v.getInt64Param());
                case STRING_PARAM -> out.put(k, v.getStringParam());
                case DOUBLE_PARAM -> out.put(k, v.getDoubleParam());
                case UINT64_PARAM -> out.put(k, v.getUint64Param());
                default -> { }
            }
        });
        return out;
    }

    private static Tensor typed(String name, DataType type, long[] shape, InferTensorContents c) {
        int given = switch (type) {
            case BOOL -> c.getBoolContentsCount();
            case INT8, INT16, INT32 -> c.getIntContentsCount();
            case INT64 -> c.getInt64ContentsCount();
            case UINT8, UINT16, UINT32 -> c.getUintContentsCount();
            case UINT64 -> c.getUint64ContentsCount();
            case FP32 -> c.getFp32ContentsCount();
            case FP64 -> c.getFp64ContentsCount();
            case BYTES -> c.getBytesContentsCount();
            case FP16, BF16 -> throw Elements.invalid("input '" + name + "' is " + type
                    + ", which has no typed contents; send it in raw_input_contents");
        };
        refuseOtherFields(name, type, c, given);
        long count = Elements.checkedCount(name, shape, Long.MAX_VALUE);
        if (count != given) {
            throw Elements.invalid("input '" + name + "' has shape " + Arrays.toString(shape) + " (" + count + " elements) but "
                    + given + " " + field(type) + " values");
        }
        int n = given;
        if (type == DataType.BYTES) {
            List<byte[]> elements = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                elements.add(c.getBytesContents(i).toByteArray());
            }
            return Tensor.ofBytes(name, shape, elements);
        }
        ByteBuffer b = Elements.allocate(type, n);
        switch (type) {
            case BOOL -> { for (int i = 0; i < n; i++) b.put((byte) (c.getBoolContents(i) ? 1 : 0)); }
            case INT8, INT16, INT32 -> {
                for (int i = 0; i < n; i++) {
                    Elements.putInteger(b, type, Elements.checkSigned(name, type, c.getIntContents(i)));
                }
            }
            case INT64 -> { for (int i = 0; i < n; i++) b.putLong(c.getInt64Contents(i)); }
            case UINT8, UINT16, UINT32 -> {
                for (int i = 0; i < n; i++) {
                    Elements.putInteger(b, type, Elements.checkSigned(name, type, Integer.toUnsignedLong(c.getUintContents(i))));
                }
            }
            case UINT64 -> { for (int i = 0; i < n; i++) b.putLong(c.getUint64Contents(i)); }
            case FP32 -> { for (int i = 0; i < n; i++) b.putFloat(c.getFp32Contents(i)); }
            case FP64 -> { for (int i = 0; i < n; i++) b.putDouble(c.getFp64Contents(i)); }
            default -> throw new IllegalStateException("unexpected datatype " + type);
        }
        b.flip();
        return Tensor.ofRaw(name, type, shape, b);
    }

    /**
     * Values in a contents field that is not the datatype's would otherwise be ignored without a word:
     * the client meant them as the tensor's data, and the model would run on other values.
     */
    private static void refuseOtherFields(String name, DataType type, InferTensorContents c, int given) {
        int[] counts = {c.getBoolContentsCount(), c.getIntContentsCount(), c.getInt64ContentsCount(), c.getUintContentsCount(),
                c.getUint64ContentsCount(), c.getFp32ContentsCount(), c.getFp64ContentsCount(), c.getBytesContentsCount()};
        int all = 0;
        for (int n : counts) {
            all += n;
        }
        if (all == given) {
            return;
        }
        String[] fields = {"bool_contents", "int_contents", "int64_contents", "uint_contents", "uint64_contents",
                "fp32_contents", "fp64_contents", "bytes_contents"};
        List<String> others = new ArrayList<>();
        for (int i = 0; i < fields.length; i++) {
            if (counts[i] > 0 && !fields[i].equals(field(type))) {
                others.add(fields[i]);
            }
        }
        throw Elements.invalid("input '" + name + "' is " + type + ", whose values go in " + field(type) + ", but "
                + String.join(" and ", others) + " also hold values");
    }

    private static String field(DataType type) {
        return switch (type) {
            case BOOL -> "bool_contents";
            case INT8, INT16, INT32 -> "int_contents";
            case INT64 -> "int64_contents";
            case UINT8, UINT16, UINT32 -> "uint_contents";
            case UINT64 -> "uint64_contents";
            case FP32 -> "fp32_contents";
            case FP64 -> "fp64_contents";
            default -> "bytes_contents";
        };
    }

    /** Encodes the core's response, raw or typed (see the class comment for the choice). */
    public static ModelInferResponse writeInferResponse(InferenceResponse r, boolean rawRequested) {
        boolean raw = rawRequested || r.outputs().stream()
                .anyMatch(t -> t.datatype() == DataType.FP16 || t.datatype() == DataType.BF16);
        ModelInferResponse.Builder b = ModelInferResponse.newBuilder()
                .setModelName(r.model())
                .setModelVersion(Integer.toString(r.version()));
        if (r.id() != null) {
            b.setId(r.id());
        }
        for (Tensor t : r.outputs()) {
            ModelInferResponse.InferOutputTensor.Builder o = ModelInferResponse.InferOutputTensor.newBuilder()
                    .setName(t.name())
                    .setDatatype(t.datatype().name());
            for (long d : t.shape()) {
                o.addShape(d);
            }
            if (raw) {
                b.addRawOutputContents(rawBytes(t));
            } else {
                o.setContents(contents(t));
            }
            b.addOutputs(o);
        }
        return b.build();
    }

    /** The raw form of a tensor; fixed-width buffers are wrapped, not copied (tensors are immutable). */
    public static ByteString rawBytes(Tensor t) {
        if (t.datatype() == DataType.BYTES) {
            return UnsafeByteOperations.unsafeWrap(Elements.prefixed(t.bytesElements()));
        }
        return UnsafeByteOperations.unsafeWrap(t.data());
    }

    private static InferTensorContents contents(Tensor t) {
        InferTensorContents.Builder c = InferTensorContents.newBuilder();
        if (t.datatype() == DataType.BYTES) {
            for (byte[] e : t.bytesElements()) {
                c.addBytesContents(ByteString.copyFrom(e));
            }
            return c.build();
        }
        ByteBuffer b = t.data();
        switch (t.datatype()) {
            case BOOL -> { while (b.hasRemaining()) c.addBoolContents(b.get() != 0); }
            case INT8 -> { while (b.hasRemaining()) c.addIntContents(b.get()); }
            case INT16 -> { while (b.hasRemaining()) c.addIntContents(b.getShort()); }
            case INT32 -> { while (b.hasRemaining()) c.addIntContents(b.getInt()); }
            case INT64 -> { while (b.hasRemaining()) c.addInt64Contents(b.getLong()); }
            case UINT8 -> { while (b.hasRemaining()) c.addUintContents(b.get() & 0xFF); }
            case UINT16 -> { while (b.hasRemaining()) c.addUintContents(b.getShort() & 0xFFFF); }
            case UINT32 -> { while (b.hasRemaining()) c.addUintContents(b.getInt()); }
            case UINT64 -> { while (b.hasRemaining()) c.addUint64Contents(b.getLong()); }
            case FP32 -> { while (b.hasRemaining()) c.addFp32Contents(b.getFloat()); }
            case FP64 -> { while (b.hasRemaining()) c.addFp64Contents(b.getDouble()); }
            default -> throw new IllegalStateException("no typed contents for " + t.datatype());
        }
        return c.build();
    }

    public static ModelMetadataResponse modelMetadata(ModelMetadata m) {
        ModelMetadataResponse.Builder b = ModelMetadataResponse.newBuilder()
                .setName(m.name())
                .addAllVersions(m.versions())
                .setPlatform(m.platform());
        for (TensorSpec s : m.inputs()) {
            b.addInputs(tensorMetadata(s));
        }
        for (TensorSpec s : m.outputs()) {
            b.addOutputs(tensorMetadata(s));
        }
        return b.build();
    }

    private static ModelMetadataResponse.TensorMetadata tensorMetadata(TensorSpec s) {
        return ModelMetadataResponse.TensorMetadata.newBuilder()
                .setName(s.name())
                .setDatatype(s.datatype().name())
                .addAllShape(s.shape())
                .build();
    }
}

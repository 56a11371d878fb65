package dev.berth.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.google.protobuf.ByteString;
import dev.berth.registry.DataType;
import dev.berth.registry.InvalidArgumentException;
import dev.berth.registry.Signature;
import dev.berth.registry.TensorSpec;
import dev.berth.server.grpc.proto.ModelInferRequest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One request for {@code berth perf}, built once from a version's signature and replayed: every
 * input filled with seeded random values of its datatype, the batch axis set to the batch size and
 * any other dynamic axis to 1. Held in each front end's wire form (OIP JSON, the binary tensor
 * extension, a gRPC message with raw contents) and as raw tensors for the in-process ceiling, so
 * that all four carry the same numbers.
 */
final class PerfPayload {
    /** One input: name, datatype, concrete shape and its little-endian bytes. */
    record Input(String name, DataType datatype, long[] shape, byte[] raw) {
        long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private static final JsonFactory JSON = new JsonFactory();

    private final List<Input> inputs;
    private final List<String> outputs;
    private final int batch;

    private PerfPayload(List<Input> inputs, List<String> outputs, int batch) {
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        this.batch = batch;
    }

    /** Whether every input has a dynamic first axis, so that batch sizes other than 1 can be sent. */
    static boolean batchable(Signature signature) {
        return !signature.inputs().isEmpty() && signature.inputs().stream().allMatch(TensorSpec::hasDynamicBatchAxis);
    }

    /**
     * A request of {@code batch} rows for {@code signature}.
     *
     * @throws InvalidArgumentException for an input perf cannot fill (BYTES) or a signature without inputs
     */
    static PerfPayload of(Signature signature, int batch) {
        if (signature.inputs().isEmpty()) {
            throw new InvalidArgumentException("the model declares no inputs: nothing to send");
        }
        SplittableRandom random = new SplittableRandom(42);
        List<Input> inputs = new ArrayList<>();
        for (TensorSpec t : signature.inputs()) {
            if (!t.datatype().isFixedWidth()) {
                throw new InvalidArgumentException("input '" + t.name() + "' is " + t.datatype()
                        + ": berth perf fills numeric and BOOL inputs only");
            }
            long[] shape = new long[t.shape().size()];
            for (int i = 0; i < shape.length; i++) {
                long d = t.shape().get(i);
                shape[i] = d >= 0 ? d : i == 0 ? batch : 1;
            }
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            if (n * t.datatype().byteSize() > (64L << 20)) {
                throw new InvalidArgumentException("input '" + t.name() + "' of batch " + batch + " is over 64 MiB");
            }
            inputs.add(new Input(t.name(), t.datatype(), shape, fill(t.datatype(), (int) n, random)));
        }
        List<String> outputs = signature.outputs().stream().map(TensorSpec::name).toList();
        return new PerfPayload(inputs, outputs, batch);
    }

    private static byte[] fill(DataType type, int n, SplittableRandom random) {
        ByteBuffer b = ByteBuffer.allocate(n * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            switch (type) {
                case FP32 -> b.putFloat((float) random.nextDouble());
                case FP64 -> b.putDouble(random.nextDouble());
                case FP16 -> b.putShort(Float.floatToFloat16((float) random.nextDouble()));
                case BF16 -> b.putShort((short) (Float.floatToRawIntBits((float) random.nextDouble()) >>> 16));
                case BOOL -> b.put((byte) random.nextInt(2));
                case INT8, UINT8 -> b.put((byte) random.nextInt(10));
                case INT16, UINT16 -> b.putShort((short) random.nextInt(10));
                case INT32, UINT32 -> b.putInt(random.nextInt(10));
                case INT64, UINT64 -> b.putLong(random.nextInt(10));
                default -> throw new IllegalStateException(type.name());
            }
        }
        return b.array();
    }

    List<Input> inputs() {
        return inputs;
    }

    int batch() {
        return batch;
    }

    /** The OIP JSON request body: every input's values as JSON numbers (or booleans). */
    byte[] json() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(bytes)) {
            g.writeStartObject();
            g.writeArrayFieldStart("inputs");
            for (Input in : inputs) {
                header(g, in);
                g.writeArrayFieldStart("data");
                ByteBuffer b = ByteBuffer.wrap(in.raw()).order(ByteOrder.LITTLE_ENDIAN);
                for (long i = 0; i < in.elements(); i++) {
                    switch (in.datatype()) {
                        case FP32 -> g.writeNumber(b.getFloat());
                        case FP64 -> g.writeNumber(b.getDouble());
                        case FP16 -> g.writeNumber(Float.float16ToFloat(b.getShort()));
                        case BF16 -> g.writeNumber(Float.intBitsToFloat((b.getShort() & 0xffff) << 16));
                        case BOOL -> g.writeBoolean(b.get() != 0);
                        case INT8, UINT8 -> g.writeNumber(b.get());
                        case INT16, UINT16 -> g.writeNumber(b.getShort());
                        case INT32, UINT32 -> g.writeNumber(b.getInt());
                        default -> g.writeNumber(b.getLong());
                    }
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * The binary tensor extension's body: a JSON header naming each input's
     * {@code binary_data_size} and asking for binary outputs, then the raw tensors in order.
     * {@link #binaryHeaderLength()} is the {@code Inference-Header-Content-Length}.
     */
    byte[] binary() {
        byte[] header = binaryHeader();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes(header);
        for (Input in : inputs) {
            bytes.writeBytes(in.raw());
        }
        return bytes.toByteArray();
    }

    int binaryHeaderLength() {
        return binaryHeader().length;
    }

    private byte[] binaryHeader() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(bytes)) {
            g.writeStartObject();
            g.writeArrayFieldStart("inputs");
            for (Input in : inputs) {
                header(g, in);
                g.writeObjectFieldStart("parameters");
                g.writeNumberField("binary_data_size", in.raw().length);
                g.writeEndObject();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeArrayFieldStart("outputs");
            for (String out : outputs) {
                g.writeStartObject();
                g.writeStringField("name", out);
                g.writeObjectFieldStart("parameters");
                g.writeBooleanField("binary_data", true);
                g.writeEndObject();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void header(JsonGenerator g, Input in) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", in.name());
        g.writeStringField("datatype", in.datatype().name());
        g.writeArrayFieldStart("shape");
        for (long d : in.shape()) {
            g.writeNumber(d);
        }
        g.writeEndArray();
    }

    /** The gRPC request: inputs as {@code raw_input_contents}, as Triton's clients send them. */
    ModelInferRequest grpc(String model, String version) {
        ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(model).setModelVersion(version);
        for (Input in : inputs) {
            ModelInferRequest.InferInputTensor.Builder t = ModelInferRequest.InferInputTensor.newBuilder()
                    .setName(in.name()).setDatatype(in.datatype().name());
            for (long d : in.shape()) {
                t.addShape(d);
            }
            b.addInputs(t);
            b.addRawInputContents(ByteString.copyFrom(in.raw()));
        }
        return b.build();
    }
}

package dev.berth.runtime.onnx;

import dev.berth.registry.DataType;
import dev.berth.registry.Signature;
import dev.berth.registry.TensorSpec;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The inputs of a version's warm-up run: its registered example request where it has one that
 * fits the signature, else generated inputs that avoid zeros (a zero divisor is the first thing a
 * model can refuse).
 */
final class WarmUp {
    private static final System.Logger LOG = System.getLogger(WarmUp.class.getName());

    /** The inputs, and where they came from ({@value ExampleRequest#FILE} or "generated inputs") for messages. */
    record Inputs(List<Tensor> tensors, String source) {
        boolean fromExample() {
            return source.equals(ExampleRequest.FILE);
        }
    }

    private WarmUp() {
    }

    /** The inputs for {@code label}'s warm-up, validated by {@code validator} when read from the example. */
    static Inputs inputs(String label, Path versionDir, Signature signature, InputValidator validator) {
        try {
            List<Tensor> example = ExampleRequest.read(versionDir);
            if (!example.isEmpty()) {
                return new Inputs(validator.validate(example), ExampleRequest.FILE);
            }
        } catch (IllegalArgumentException | InferenceException e) {
            LOG.log(System.Logger.Level.WARNING, label + ": " + ExampleRequest.FILE + " is not used for warm-up: " + e.getMessage());
        }
        return new Inputs(generated(signature), "generated inputs");
    }

    /** Dynamic dimensions 1, every number 1 (true for BOOL), every string "1". */
    static List<Tensor> generated(Signature signature) {
        List<Tensor> inputs = new ArrayList<>();
        for (TensorSpec spec : signature.inputs()) {
            long[] shape = spec.shape().stream().mapToLong(d -> d < 0 ? 1 : d).toArray();
            int count = Math.toIntExact(Tensor.elementCount(shape));
            if (spec.datatype() == DataType.BYTES) {
                List<byte[]> elements = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    elements.add(new byte[] {'1'});
                }
                inputs.add(Tensor.ofBytes(spec.name(), shape, elements));
                continue;
            }
            ByteBuffer data = ByteBuffer.allocateDirect(count * spec.datatype().byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i++) {
                switch (spec.datatype()) {
                    case BOOL, UINT8, INT8 -> data.put((byte) 1);
                    case UINT16, INT16 -> data.putShort((short) 1);
                    case FP16 -> data.putShort(Float.floatToFloat16(1f));
                    case BF16 -> data.putShort((short) (Float.floatToRawIntBits(1f) >>> 16));
                    case UINT32, INT32 -> data.putInt(1);
                    case UINT64, INT64 -> data.putLong(1);
                    case FP32 -> data.putFloat(1f);
                    case FP64 -> data.putDouble(1d);
                    case BYTES -> throw new IllegalStateException("handled above");
                }
            }
            data.flip();
            inputs.add(Tensor.ofRaw(spec.name(), spec.datatype(), shape, data));
        }
        return inputs;
    }

    /**
     * The inputs with their rows repeated {@code times} times along the first axis (BYTES inputs
     * too), as a merged batch of that many copies of the request would carry them. Inputs without
     * an axis are returned as they are.
     */
    static List<Tensor> repeatRows(List<Tensor> inputs, int times) {
        if (times <= 1 || inputs.stream().anyMatch(t -> t.rank() == 0)) {
            return inputs;
        }
        List<Tensor> out = new ArrayList<>(inputs.size());
        for (Tensor t : inputs) {
            long[] shape = t.shape();
            shape[0] *= times;
            if (t.datatype() == DataType.BYTES) {
                List<byte[]> elements = new ArrayList<>();
                for (int i = 0; i < times; i++) {
                    elements.addAll(t.bytesElements());
                }
                out.add(Tensor.ofBytes(t.name(), shape, elements));
                continue;
            }
            ByteBuffer one = t.data();
            ByteBuffer all = ByteBuffer.allocateDirect(Math.multiplyExact(one.remaining(), times)).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < times; i++) {
                all.put(one.duplicate());
            }
            all.flip();
            out.add(Tensor.ofRaw(t.name(), t.datatype(), shape, all));
        }
        return out;
    }
}

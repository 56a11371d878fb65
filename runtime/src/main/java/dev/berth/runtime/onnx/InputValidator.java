package dev.berth.runtime.onnx;

import dev.berth.registry.DataType;
import dev.berth.registry.Signature;
import dev.berth.registry.TensorSpec;
import dev.berth.runtime.InferenceException.InvalidInput;
import dev.berth.runtime.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a request against a version's signature before anything reaches ONNX Runtime, so every
 * client mistake becomes an {@link InvalidInput} naming the input and what was expected; ONNX
 * Runtime's own messages are written for model authors, not for API clients.
 */
final class InputValidator {
    private final String modelLabel;
    private final Signature signature;
    private final long maxElements;

    InputValidator(String modelLabel, Signature signature, long maxElements) {
        this.modelLabel = modelLabel;
        this.signature = signature;
        this.maxElements = maxElements;
    }

    /** The inputs in the signature's order, each checked; throws {@link InvalidInput} on the first problem. */
    List<Tensor> validate(List<Tensor> inputs) {
        Map<String, Tensor> byName = new HashMap<>();
        for (Tensor t : inputs) {
            if (byName.putIfAbsent(t.name(), t) != null) {
                throw new InvalidInput("input '" + t.name() + "' is given more than once");
            }
            if (signature.input(t.name()).isEmpty()) {
                throw new InvalidInput(modelLabel + " has no input '" + t.name() + "'; its inputs are " + inputNames());
            }
        }
        List<Tensor> ordered = new ArrayList<>(signature.inputs().size());
        List<String> missing = new ArrayList<>();
        for (TensorSpec spec : signature.inputs()) {
            Tensor t = byName.get(spec.name());
            if (t == null) {
                missing.add(spec.name());
            } else {
                check(spec, t);
                ordered.add(t);
            }
        }
        if (!missing.isEmpty()) {
            throw new InvalidInput(modelLabel + " needs input" + (missing.size() > 1 ? "s " : " ")
                    + String.join(", ", missing.stream().map(n -> "'" + n + "'").toList())
                    + ", missing from the request (it has " + quoted(inputs.stream().map(Tensor::name).toList()) + ")");
        }
        return ordered;
    }

    /** Checks that every requested output exists. */
    void validateOutputs(List<String> requested) {
        Set<String> seen = new HashSet<>();
        for (String name : requested) {
            if (signature.output(name).isEmpty()) {
                throw new InvalidInput(modelLabel + " has no output '" + name + "'; its outputs are "
                        + quoted(signature.outputs().stream().map(TensorSpec::name).toList()));
            }
            if (!seen.add(name)) {
                throw new InvalidInput("output '" + name + "' is requested more than once");
            }
        }
    }

    private void check(TensorSpec spec, Tensor t) {
        String name = "input '" + spec.name() + "'";
        if (t.datatype() != spec.datatype()) {
            throw new InvalidInput(name + ": expected datatype " + spec.datatype() + ", got " + t.datatype());
        }
        long[] shape = t.shape();
        if (shape.length != spec.rank()) {
            throw new InvalidInput(name + ": expected rank " + spec.rank() + " (shape " + shapeText(spec.shape())
                    + "), got rank " + shape.length + " (shape " + Arrays.toString(shape) + ")");
        }
        for (int axis = 0; axis < shape.length; axis++) {
            if (shape[axis] < 0) {
                throw new InvalidInput(name + ": dimension " + axis + " is negative in shape " + Arrays.toString(shape));
            }
            long expected = spec.shape().get(axis);
            if (expected >= 0 && expected != shape[axis]) {
                throw new InvalidInput(name + ": expected shape " + shapeText(spec.shape()) + ", got "
                        + Arrays.toString(shape) + " (dimension " + axis + " must be " + expected + ")");
            }
        }
        long count;
        try {
            count = Tensor.elementCount(shape);
        } catch (ArithmeticException e) {
            throw new InvalidInput(name + ": shape " + Arrays.toString(shape) + " has more elements than can be counted");
        }
        if (count > maxElements) {
            throw new InvalidInput(name + ": shape " + Arrays.toString(shape) + " has " + count
                    + " elements, more than the limit of " + maxElements);
        }
        if (spec.datatype() == DataType.BYTES) {
            int got = t.bytesElements().size();
            if (got != count) {
                throw new InvalidInput(name + ": shape " + Arrays.toString(shape) + " needs " + count
                        + " elements, got " + got);
            }
        } else {
            long expectedBytes = count * spec.datatype().byteSize();
            long got = t.byteSize();
            if (got != expectedBytes) {
                throw new InvalidInput(name + ": shape " + Arrays.toString(shape) + " of " + spec.datatype() + " needs "
                        + count + " elements (" + expectedBytes + " bytes), got " + got + " bytes"
                        + (got % spec.datatype().byteSize() == 0 ? " (" + got / spec.datatype().byteSize() + " elements)" : ""));
            }
        }
    }

    private String inputNames() {
        return quoted(signature.inputs().stream().map(TensorSpec::name).toList());
    }

    private static String quoted(List<String> names) {
        return names.stream().map(n -> "'" + n + "'").toList().toString();
    }

    static String shapeText(List<Long> shape) {
        return shape.toString();
    }
}

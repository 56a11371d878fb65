package dev.berth.server.codec;

import dev.berth.registry.DataType;
import dev.berth.registry.TensorSpec;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Triton's classification extension: an output requested with the parameter
 * {@code classification: k} comes back as a BYTES tensor of the k highest-valued classes, each
 * element {@code "<value>:<index>"} or {@code "<value>:<index>:<label>"} when the registry's
 * signature names the output's class labels.
 *
 * <p>Classes are counted along everything after the batch axis: a rank-1 output is one set of
 * classes (answer shape {@code [k]}), a rank-2 or higher output has one set per row of its first
 * axis (answer shape {@code [rows, k]}). k above the number of classes is cut to that number; ties
 * keep the lower index first. Values are compared in the output's own datatype.
 */
public final class Classification {
    /** The output parameter that asks for classification. */
    public static final String PARAMETER = "classification";

    private Classification() {
    }

    /**
     * Reads the parameter's value: a positive integer.
     *
     * @param output the output it was given for
     * @param value  the parameter value as decoded (Long, BigInteger, Double, Boolean or String)
     */
    public static int count(String output, Object value) {
        long k = switch (value) {
            case Long l -> l;
            case Double d when d == Math.rint(d) && !d.isInfinite() -> d.longValue();
            default -> 0;
        };
        if (k < 1 || k > Integer.MAX_VALUE) {
            throw Elements.invalid("output '" + output + "': parameter 'classification' must be a positive integer"
                    + " (the number of top classes to return), got " + value);
        }
        return (int) k;
    }

    /**
     * Replaces each output named in {@code counts} by its top classes.
     *
     * @param response the core's answer
     * @param counts   output name to k; empty when the request asked for no classification
     * @param outputSpecs the answering version's output specs by name, consulted only when counts is non-empty
     */
    public static InferenceResponse apply(InferenceResponse response, Map<String, Integer> counts,
                                          Function<InferenceResponse, List<TensorSpec>> outputSpecs) {
        if (counts.isEmpty()) {
            return response;
        }
        List<TensorSpec> specs;
        try {
            specs = outputSpecs.apply(response);
        } catch (RuntimeException e) {
            // the version may have been unloaded since it answered: its labels are only a nicety
            specs = List.of();
        }
        List<Tensor> outputs = new ArrayList<>(response.outputs().size());
        for (Tensor t : response.outputs()) {
            Integer k = counts.get(t.name());
            if (k == null) {
                outputs.add(t);
                continue;
            }
            List<String> labels = specs.stream().filter(s -> s.name().equals(t.name())).findFirst()
                    .map(TensorSpec::labels).orElse(List.of());
            outputs.add(topK(t, k, labels));
        }
        return new InferenceResponse(response.model(), response.version(), response.id(), outputs,
                response.queueNanos(), response.computeNanos(), response.batchRows());
    }

    /** The top {@code k} classes of one output (see the class comment for the layout). */
    public static Tensor topK(Tensor t, int k, List<String> labels) {
        if (t.datatype() == DataType.BYTES || t.datatype() == DataType.BOOL) {
            throw Elements.invalid("output '" + t.name() + "' is " + t.datatype()
                    + ": classification needs a numeric output");
        }
        if (t.rank() == 0) {
            throw Elements.invalid("output '" + t.name() + "' is a scalar: classification needs a vector of class scores");
        }
        long rows = t.rank() == 1 ? 1 : t.dim(0);
        long total = t.elementCount();
        int classes = rows == 0 ? 0 : (int) (total / rows);
        int n = Math.min(k, classes);
        // absolute reads below count from the first element
        ByteBuffer data = t.data().slice().order(ByteOrder.LITTLE_ENDIAN);
        int width = t.datatype().byteSize();
        List<byte[]> elements = new ArrayList<>((int) (rows * n));
        Integer[] order = new Integer[classes];
        double[] values = new double[classes];
        long[] integers = new long[classes];
        for (long r = 0; r < rows; r++) {
            int base = (int) (r * classes);
            for (int c = 0; c < classes; c++) {
                int at = (base + c) * width;
                order[c] = c;
                switch (t.datatype()) {
                    case FP32 -> values[c] = data.getFloat(at);
                    case FP64 -> values[c] = data.getDouble(at);
                    case FP16 -> values[c] = Elements.fromFp16(data.getShort(at));
                    case BF16 -> values[c] = Elements.fromBf16(data.getShort(at));
                    default -> integers[c] = integer(t.datatype(), data, at);
                }
            }
            Arrays.sort(order, (a, b) -> compareDescending(t.datatype(), values, integers, a, b));
            for (int i = 0; i < n; i++) {
                int c = order[i];
                String value = switch (t.datatype()) {
                    case FP32, FP16, BF16 -> Float.toString((float) values[c]);
                    case FP64 -> Double.toString(values[c]);
                    case UINT64 -> Long.toUnsignedString(integers[c]);
                    default -> Long.toString(integers[c]);
                };
                String text = value + ":" + c + (c < labels.size() ? ":" + labels.get(c) : "");
                elements.add(text.getBytes(StandardCharsets.UTF_8));
            }
        }
        long[] shape = t.rank() == 1 ? new long[]{n} : new long[]{rows, n};
        return Tensor.ofBytes(t.name(), shape, elements);
    }

    private static long integer(DataType type, ByteBuffer data, int at) {
        return switch (type) {
            case INT8 -> data.get(at);
            case UINT8 -> data.get(at) & 0xFF;
            case INT16 -> data.getShort(at);
            case UINT16 -> data.getShort(at) & 0xFFFF;
            case INT32 -> data.getInt(at);
            case UINT32 -> data.getInt(at) & 0xFFFF_FFFFL;
            case INT64, UINT64 -> data.getLong(at);
            default -> throw new IllegalStateException("not an integer type: " + type);
        };
    }

    private static int compareDescending(DataType type, double[] values, long[] integers, int a, int b) {
        int byValue = switch (type) {
            case FP32, FP64, FP16, BF16 -> Double.compare(values[b], values[a]);
            case UINT64 -> Long.compareUnsigned(integers[b], integers[a]);
            default -> Long.compare(integers[b], integers[a]);
        };
        return byValue != 0 ? byValue : Integer.compare(a, b);
    }
}

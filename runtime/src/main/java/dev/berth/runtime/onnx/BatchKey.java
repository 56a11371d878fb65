package dev.berth.runtime.onnx;

import dev.berth.runtime.Tensor;

import java.util.Arrays;
import java.util.List;

/**
 * Requests merge only when every input has the same dimensions past the first axis, and a request
 * merges at all only when its inputs agree on the first (batch) axis. Without that second rule a
 * request with one row of {@code ids} and two of {@code mask} (an error when run alone) merged
 * with another whose counts are the other way round would run "fine" and shift rows between the
 * two callers. A request whose inputs disagree runs alone and gets ONNX Runtime's own verdict.
 */
record BatchKey(long[] trailing) {
    /** The key of these (validated) inputs, or null when the request must run alone. */
    static BatchKey of(List<Tensor> inputs) {
        for (Tensor t : inputs) {
            if (t.rank() == 0 || t.dim(0) != inputs.get(0).dim(0)) {
                return null;
            }
        }
        int n = 0;
        for (Tensor t : inputs) {
            n += t.rank();
        }
        long[] dims = new long[n + inputs.size()];
        int at = 0;
        for (Tensor t : inputs) {
            dims[at++] = t.rank();
            for (int axis = 1; axis < t.rank(); axis++) {
                dims[at++] = t.dim(axis);
            }
        }
        return new BatchKey(Arrays.copyOf(dims, at));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BatchKey k && Arrays.equals(trailing, k.trailing);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(trailing);
    }

    @Override
    public String toString() {
        return Arrays.toString(trailing);
    }
}

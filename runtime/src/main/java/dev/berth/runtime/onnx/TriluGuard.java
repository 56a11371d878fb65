package dev.berth.runtime.onnx;

import dev.berth.runtime.onnx.Protobuf.Field;

import java.util.List;

import static dev.berth.runtime.onnx.OnnxFields.INT64;
import static dev.berth.runtime.onnx.OnnxNode.constant;
import static dev.berth.runtime.onnx.OnnxNode.node;

/**
 * {@code Trilu} with {@code k} near {@code Long.MIN_VALUE} reads wild memory (SIGSEGV): {@code k} is
 * clamped to +-2^40, which selects the same elements for every tensor that fits in memory.
 */
final class TriluGuard {
    static final long TRILU_K_LIMIT = 1L << 40;

    private TriluGuard() {
    }

    /** Whether the node's {@code k} is given and not a constant known to be in range. */
    static boolean needed(OnnxNode node, GraphView scope) {
        if (node.input(1).isEmpty()) {
            return false;
        }
        List<Field> k = scope.constantTensor(node.input(1));
        long[] values = k == null ? null : GraphView.integerValues(k);
        // not Math.abs: it leaves Long.MIN_VALUE negative, which would pass as in range
        return !(values != null && values.length == 1 && values[0] >= -TRILU_K_LIMIT && values[0] <= TRILU_K_LIMIT);
    }

    static boolean guard(GuardRewriter rewriter, String id, OnnxNode node, List<String> inputs, List<byte[]> before) {
        String k = node.input(1);
        before.add(constant(id + "low", INT64, -TRILU_K_LIMIT));
        before.add(constant(id + "high", INT64, TRILU_K_LIMIT));
        before.add(node("Max", id + "k_low", List.of(k, id + "low"), id + "k_low"));
        before.add(node("Min", id + "k", List.of(id + "k_low", id + "high"), id + "k"));
        inputs.set(1, id + "k");
        rewriter.applied.add(node.label() + ": k clamped to +-2^40");
        return true;
    }
}

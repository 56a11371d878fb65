package dev.berth.runtime.onnx;

import dev.berth.runtime.onnx.Protobuf.Field;

import java.util.List;

import static dev.berth.runtime.onnx.OnnxFields.INT64;
import static dev.berth.runtime.onnx.OnnxNode.constant;
import static dev.berth.runtime.onnx.OnnxNode.node;

/**
 * {@code STFT} with {@code frame_length} 0 traps (SIGFPE): a non-positive frame length fails the
 * run, through a division by 0 in a node named with the explanation.
 */
final class StftGuard {
    private StftGuard() {
    }

    /** Whether the node's frame length is given and not a constant known to be positive. */
    static boolean needed(OnnxNode node, GraphView scope) {
        if (node.input(3).isEmpty()) {
            return false;
        }
        List<Field> length = scope.constantTensor(node.input(3));
        long[] values = length == null ? null : GraphView.integerValues(length);
        return !(values != null && values.length == 1 && values[0] > 0);
    }

    static boolean guard(GuardRewriter rewriter, String id, OnnxNode node, List<String> inputs, List<byte[]> before) {
        String length = node.input(3);
        before.add(constant(id + "zero", INT64, 0));
        before.add(node("CastLike", id + "zero_like", List.of(id + "zero", length), id + "zero_like"));
        before.add(node("Greater", id + "positive", List.of(length, id + "zero_like"), id + "positive"));
        before.add(node("CastLike", id + "positive_as_number", List.of(id + "positive", length), id + "positive_as_number"));
        String message = ModelGuards.GUARD_PREFIX + "frame_length of " + node.label() + " must be positive";
        before.add(node("Div", message, List.of(length, id + "positive_as_number"), id + "frame_length"));
        inputs.set(3, id + "frame_length");
        rewriter.applied.add(node.label() + ": frame_length below 1 fails the run");
        return true;
    }
}

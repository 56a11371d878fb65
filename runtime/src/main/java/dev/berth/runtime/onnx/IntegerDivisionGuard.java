package dev.berth.runtime.onnx;

import dev.berth.runtime.onnx.Protobuf.Field;

import java.util.List;
import java.util.Set;

import static dev.berth.runtime.onnx.OnnxFields.INT32;
import static dev.berth.runtime.onnx.OnnxFields.INT64;
import static dev.berth.runtime.onnx.OnnxNode.constant;
import static dev.berth.runtime.onnx.OnnxNode.intAttributeBytes;
import static dev.berth.runtime.onnx.OnnxNode.node;

/**
 * The integer division family: {@code Div} and {@code Mod} (fmod=0) on int32/int64, where
 * {@code MIN / -1} and {@code MIN % -1} trap in x86's {@code idiv}. A division that overflows fails
 * the run (its divisor is divided by 0 there, in a node named with the explanation); a remainder
 * by -1 is computed by 1, which gives the same remainder for every dividend.
 */
final class IntegerDivisionGuard {
    private IntegerDivisionGuard() {
    }

    /**
     * The guard a Div or Mod node needs, or null. Where neither operand's type is known, the
     * operands are added to {@code ask} (when given) and the answer is null for now.
     */
    static GuardRewriter.Kind kind(OnnxNode node, GraphView scope, Set<String> ask) {
        if (node.opType().equals("Mod") && node.intAttribute("fmod", 0) != 0) {
            return null;
        }
        Integer type = scope.type(node.input(0));
        if (type == null) {
            type = scope.type(node.input(1));
        }
        if (type == null) {
            if (ask != null) {
                ask.add(node.input(0));
                ask.add(node.input(1));
            }
            return null;
        }
        if (type != INT32 && type != INT64) {
            return null;
        }
        List<Field> divisor = scope.constantTensor(node.input(1));
        long[] values = divisor == null ? null : GraphView.integerValues(divisor);
        if (values != null && !GraphView.contains(values, -1)) {
            return null;
        }
        return node.opType().equals("Div") ? GuardRewriter.Kind.INT_DIV : GuardRewriter.Kind.INT_MOD;
    }

    /** Whether the node is an integer-capable Div or Mod whose operand types nobody could tell. */
    static boolean isUnresolved(OnnxNode node, GraphView scope) {
        return node.standard() && (node.opType().equals("Div") || (node.opType().equals("Mod") && node.intAttribute("fmod", 0) == 0))
                && scope.type(node.input(0)) == null && scope.type(node.input(1)) == null;
    }

    static boolean guardDiv(GuardRewriter rewriter, String id, OnnxNode node, GraphView scope, List<String> inputs,
                            List<byte[]> before) {
        if (rewriter.opset < 7) {
            rewriter.unguarded.add(node.label() + ": opset " + rewriter.opset + " is older than the guard's operators (7)");
            return false;
        }
        int type = scope.type(node.input(0)) != null ? scope.type(node.input(0)) : scope.type(node.input(1));
        long min = type == INT32 ? Integer.MIN_VALUE : Long.MIN_VALUE;
        String a = node.input(0);
        String b = node.input(1);
        before.add(constant(id + "min", type, min));
        before.add(constant(id + "minus_one", type, -1));
        before.add(node("Equal", id + "a_is_min", List.of(a, id + "min"), id + "a_is_min"));
        before.add(node("Equal", id + "b_is_minus_one", List.of(b, id + "minus_one"), id + "b_is_minus_one"));
        before.add(node("And", id + "overflow", List.of(id + "a_is_min", id + "b_is_minus_one"), id + "overflow"));
        before.add(node("Not", id + "fits", List.of(id + "overflow"), id + "fits"));
        before.add(node("Cast", id + "fits_as_number", List.of(id + "fits"), id + "fits_as_number", intAttributeBytes("to", type)));
        String message = ModelGuards.GUARD_PREFIX + "integer overflow in " + node.label() + ": " + min + " / -1 does not fit in "
                + (type == INT32 ? "int32" : "int64");
        before.add(node("Div", message, List.of(b, id + "fits_as_number"), id + "divisor"));
        inputs.set(1, id + "divisor");
        rewriter.applied.add(node.label() + ": " + (type == INT32 ? "int32" : "int64") + " MIN / -1 fails the run");
        return true;
    }

    static boolean guardMod(GuardRewriter rewriter, String id, OnnxNode node, GraphView scope, List<String> inputs,
                            List<byte[]> before) {
        int type = scope.type(node.input(0)) != null ? scope.type(node.input(0)) : scope.type(node.input(1));
        String b = node.input(1);
        before.add(constant(id + "minus_one", type, -1));
        before.add(constant(id + "one", type, 1));
        before.add(node("Equal", id + "b_is_minus_one", List.of(b, id + "minus_one"), id + "b_is_minus_one"));
        before.add(node("Where", id + "divisor", List.of(id + "b_is_minus_one", id + "one", b), id + "divisor"));
        inputs.set(1, id + "divisor");
        rewriter.applied.add(node.label() + ": divisor -1 computed as 1 (same remainder, no trap)");
        return true;
    }
}

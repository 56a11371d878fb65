package dev.berth.runtime.onnx;

import dev.berth.runtime.onnx.Protobuf.Field;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static dev.berth.runtime.onnx.OnnxFields.GRAPH_NODE;
import static dev.berth.runtime.onnx.OnnxFields.INT32;
import static dev.berth.runtime.onnx.OnnxFields.INT64;
import static dev.berth.runtime.onnx.OnnxFields.MODEL_GRAPH;
import static dev.berth.runtime.onnx.OnnxNode.constant;
import static dev.berth.runtime.onnx.OnnxNode.intAttributeBytes;
import static dev.berth.runtime.onnx.OnnxNode.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each guard family's decision on its own, on graphs written in protobuf here (no ONNX Runtime):
 * which nodes need a guard, and what the rewriter inserts. NativeSafetyTest runs the guarded models.
 */
class GuardFamiliesTest {
    /** A main graph of these nodes; the last one is the node under test. */
    private static GraphView graph(byte[]... nodes) {
        Protobuf.Writer graph = new Protobuf.Writer();
        for (byte[] n : nodes) {
            graph.bytes(GRAPH_NODE, n);
        }
        byte[] model = new Protobuf.Writer().bytes(MODEL_GRAPH, graph.toByteArray()).toByteArray();
        return GraphView.of(Protobuf.parse(model).get(0), null);
    }

    private static List<OnnxNode> nodes(GraphView graph) {
        List<OnnxNode> out = new ArrayList<>();
        for (Field f : graph.fields) {
            if (f.number() == GRAPH_NODE) {
                out.add(OnnxNode.of(f));
            }
        }
        return out;
    }

    private static OnnxNode last(GraphView graph) {
        List<OnnxNode> all = nodes(graph);
        return all.get(all.size() - 1);
    }

    @Test
    void triluNeedsTheClampUnlessItsKIsAConstantInRange() {
        byte[] trilu = node("Trilu", "t", List.of("x", "k"), "y");
        assertFalse(TriluGuard.needed(last(graph(constant("k", INT64, 3), trilu)), graph(constant("k", INT64, 3), trilu)));
        GraphView far = graph(constant("k", INT64, Long.MIN_VALUE), trilu);
        assertTrue(TriluGuard.needed(last(far), far));
        GraphView fed = graph(trilu);
        assertTrue(TriluGuard.needed(last(fed), fed), "a k fed at run time may be anything");
        GraphView absent = graph(node("Trilu", "t", List.of("x"), "y"));
        assertFalse(TriluGuard.needed(last(absent), absent), "no k is k = 0");
    }

    @Test
    void stftNeedsTheCheckUnlessItsFrameLengthIsAPositiveConstant() {
        byte[] stft = node("STFT", "s", List.of("signal", "step", "window", "len"), "y");
        GraphView zero = graph(constant("len", INT64, 0), stft);
        assertTrue(StftGuard.needed(last(zero), zero));
        GraphView sixteen = graph(constant("len", INT64, 16), stft);
        assertFalse(StftGuard.needed(last(sixteen), sixteen));
        GraphView absent = graph(node("STFT", "s", List.of("signal", "step", "window"), "y"));
        assertFalse(StftGuard.needed(last(absent), absent));
    }

    @Test
    void integerDivisionIsGuardedWhereTheDivisorMayBeMinusOne() {
        byte[] div = node("Div", "d", List.of("a", "b"), "y");
        GraphView two = graph(constant("a", INT32, 7), constant("b", INT32, 2), div);
        assertNull(IntegerDivisionGuard.kind(last(two), two, null), "a constant divisor other than -1 cannot trap");
        GraphView minusOne = graph(constant("a", INT32, 7), constant("b", INT32, -1), div);
        assertEquals(GuardRewriter.Kind.INT_DIV, IntegerDivisionGuard.kind(last(minusOne), minusOne, null));
        GraphView fed = graph(constant("a", INT64, 7), div);
        assertEquals(GuardRewriter.Kind.INT_DIV, IntegerDivisionGuard.kind(last(fed), fed, null));
        byte[] mod = node("Mod", "m", List.of("a", "b"), "y");
        GraphView modFed = graph(constant("a", INT64, 7), mod);
        assertEquals(GuardRewriter.Kind.INT_MOD, IntegerDivisionGuard.kind(last(modFed), modFed, null));
        GraphView fmod = graph(constant("a", INT64, 7), node("Mod", "m", List.of("a", "b"), "y", intAttributeBytes("fmod", 1)));
        assertNull(IntegerDivisionGuard.kind(last(fmod), fmod, null), "fmod=1 is the floating remainder, no idiv");
    }

    @Test
    void untypedOperandsAreAskedForAndReportedWhenNobodyCouldTell() {
        GraphView untyped = graph(node("Div", "d", List.of("a", "b"), "y"));
        Set<String> ask = new LinkedHashSet<>();
        assertNull(IntegerDivisionGuard.kind(last(untyped), untyped, ask));
        assertEquals(List.of("a", "b"), List.copyOf(ask));
        assertTrue(IntegerDivisionGuard.isUnresolved(last(untyped), untyped));
        GraphView typed = graph(constant("a", INT64, 1), node("Div", "d", List.of("a", "b"), "y"));
        assertFalse(IntegerDivisionGuard.isUnresolved(last(typed), typed));
    }

    @Test
    void dftLosesOnlyTrailingEmptyInputs() {
        List<String> inputs = new ArrayList<>(List.of("x", "", "len", "", ""));
        DftGuard.dropTrailingEmptyInputs(last(graph(node("DFT", "f", inputs, "y"))), inputs);
        assertEquals(List.of("x", "", "len"), inputs);
        List<String> other = new ArrayList<>(List.of("x", ""));
        DftGuard.dropTrailingEmptyInputs(last(graph(node("Resize", "r", other, "y"))), other);
        assertEquals(List.of("x", ""), other, "an empty trailing input means something to other operators");
    }

    @Test
    void theRewriterInsertsTheFamilysNodesWithNamesNoModelValueUses() {
        GraphView g = graph(node("Identity", "i", List.of("x"), "berth_guard_taken"), node("Trilu", "t", List.of("x", "k"), "y"));
        GuardRewriter rewriter = new GuardRewriter(17);
        rewriter.collectNames(g);
        byte[] rewritten = rewriter.rewrite(g);
        byte[] model = new Protobuf.Writer().bytes(MODEL_GRAPH, rewritten).toByteArray();
        List<OnnxNode> out = nodes(GraphView.of(Protobuf.parse(model).get(0), null));
        assertEquals(List.of("Identity", "Constant", "Constant", "Max", "Min", "Trilu"),
                out.stream().map(OnnxNode::opType).toList());
        OnnxNode trilu = out.get(out.size() - 1);
        assertEquals("_berth_guard_0_k", trilu.input(1), "the prefix steps aside from a name the model already uses");
        assertEquals("t", trilu.name());
        assertEquals(List.of("Trilu node \"t\": k clamped to +-2^40"), rewriter.applied);
        assertNull(new GuardRewriter(17).rewrite(graph(node("Identity", "i", List.of("x"), "y"))), "nothing to guard");
    }
}

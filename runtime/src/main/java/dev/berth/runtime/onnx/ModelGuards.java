package dev.berth.runtime.onnx;

import dev.berth.runtime.onnx.Protobuf.Field;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.berth.runtime.onnx.OnnxFields.GRAPH_OUTPUT;
import static dev.berth.runtime.onnx.OnnxFields.MODEL_FUNCTIONS;
import static dev.berth.runtime.onnx.OnnxFields.MODEL_GRAPH;
import static dev.berth.runtime.onnx.OnnxFields.MODEL_OPSET;
import static dev.berth.runtime.onnx.OnnxFields.NODE_OP_TYPE;
import static dev.berth.runtime.onnx.OnnxFields.OPSET_DOMAIN;
import static dev.berth.runtime.onnx.OnnxFields.OPSET_VERSION;
import static dev.berth.runtime.onnx.OnnxFields.VALUE_INFO_NAME;

/**
 * Rewrites an ONNX model, before ONNX Runtime loads it, so that input values on which ONNX
 * Runtime's CPU kernels crash the process (a CPU trap or a wild memory access in native code,
 * which no Java code can catch) fail the run with an error instead, or give the exact result by
 * another route. Found by probing ONNX Runtime 1.29.0 (docs/native-safety.md has the table):
 *
 * <ul>
 *   <li>{@code Div} on int32/int64 with {@code MIN / -1}: the x86 {@code idiv} instruction traps
 *       (SIGFPE). The result does not fit the type, so the run fails: the divisor passes through a
 *       guard node that divides it by 0 where the overflow would happen, and ONNX Runtime reports an
 *       integer division by zero from a node whose name carries berth's explanation
 *       ({@value #GUARD_PREFIX}...). {@link #explain(String)} turns that back into the message.</li>
 *   <li>{@code Mod} (fmod=0) on int32/int64 with a divisor of -1: same trap for {@code MIN % -1},
 *       although the answer (0) exists; a divisor of -1 is replaced by 1, which gives the same
 *       remainder for every dividend.</li>
 *   <li>{@code Trilu} with {@code k} near {@code Long.MIN_VALUE}: SIGSEGV. {@code k} is clamped to
 *       +-2^40, which selects the same elements for every tensor that fits in memory.</li>
 *   <li>{@code STFT} with {@code frame_length} 0: SIGFPE. A non-positive frame length fails the run.</li>
 *   <li>{@code DFT} (opset 20) given an empty name for its optional {@code axis} input: SIGSEGV on
 *       every run. A trailing empty input means "absent" in ONNX, so it is dropped.</li>
 * </ul>
 *
 * <p>The integer guards need the element type of the operands. Graph inputs, initializers,
 * {@code Constant} outputs and {@code value_info} declare it; for other values of the main graph
 * the caller's {@link TypeOracle} asks ONNX Runtime (which infers the type of a graph output that
 * declares none). A value defined inside a subgraph whose type is not declared cannot be asked for;
 * such a node is reported in {@link Result#unguarded()} and left as it is. Model-local functions are
 * not looked into.
 *
 * <p>The rewrite keeps every other byte of the model: fields are copied as read, guard nodes are
 * inserted right before the node they protect, and the protected node keeps its name and outputs.
 *
 * <p>Where each part lives: this class is the entry point (parse, ask the oracle, reassemble the
 * model); {@link GuardRewriter} walks the graphs and keeps added names unique; each guard family
 * is its own class ({@link IntegerDivisionGuard}, {@link TriluGuard}, {@link StftGuard},
 * {@link DftGuard}); {@link GraphView} and {@link OnnxNode} read and write the protobuf messages,
 * whose numbers are in {@link OnnxFields}.
 */
final class ModelGuards {
    /** Starts the name of every guard node that can fail a run. */
    static final String GUARD_PREFIX = "berth-guard: ";

    private ModelGuards() {
    }

    /** Asks ONNX Runtime for the element types of values of the main graph. */
    interface TypeOracle {
        /**
         * @param probeModel the model with {@code names} added as graph outputs without a declared type
         * @return ONNX element type by name, for those it could tell
         */
        Map<String, Integer> elementTypes(byte[] probeModel, Set<String> names);
    }

    /**
     * What {@link #apply} did.
     *
     * @param model     the rewritten model, or null where nothing needed changing
     * @param applied   one line per guard, for the load log
     * @param unguarded one line per node that could need a guard but was left alone, and why
     */
    record Result(byte[] model, List<String> applied, List<String> unguarded) {
        boolean changed() {
            return model != null;
        }
    }

    /**
     * Guards {@code model}. Bytes that are not a readable ONNX model are left to ONNX Runtime to
     * refuse: the result is then unchanged.
     */
    static Result apply(byte[] model, TypeOracle oracle) {
        List<Field> top;
        try {
            top = Protobuf.parse(model);
        } catch (IllegalArgumentException e) {
            return new Result(null, List.of(), List.of());
        }
        List<Field> graphs = top.stream().filter(f -> f.number() == MODEL_GRAPH && f.wireType() == Protobuf.LENGTH_DELIMITED).toList();
        if (graphs.size() != 1) {
            return new Result(null, List.of(), List.of());
        }
        long opset = defaultOpset(top);
        GuardRewriter ctx = new GuardRewriter(opset);
        try {
            Field graphField = graphs.get(0);
            GraphView main = GraphView.of(graphField, null);
            ctx.collectNames(main);
            // pass 1: which values of the main graph need their type asked for
            Set<String> ask = new LinkedHashSet<>();
            ctx.inspect(main, ask);
            ask.removeIf(name -> !main.nodeOutputs.contains(name));
            if (!ask.isEmpty()) {
                Map<String, Integer> told = oracle.elementTypes(withOutputs(top, graphField, ask), ask);
                main.types.putAll(told);
            }
            // pass 2: rewrite
            byte[] graph = ctx.rewrite(main);
            for (Field f : top) {
                if (f.number() == MODEL_FUNCTIONS && ctx.mentionsGuardedOp(f)) {
                    ctx.unguarded.add("model-local functions are not checked");
                    break;
                }
            }
            if (graph == null) {
                return new Result(null, List.copyOf(ctx.applied), List.copyOf(ctx.unguarded));
            }
            Protobuf.Writer out = new Protobuf.Writer(model.length + 4096);
            for (Field f : top) {
                if (f == graphField) {
                    out.bytes(MODEL_GRAPH, graph);
                } else {
                    out.field(f);
                }
            }
            return new Result(out.toByteArray(), List.copyOf(ctx.applied), List.copyOf(ctx.unguarded));
        } catch (IllegalArgumentException e) {
            // a model this reader cannot follow: leave it to ONNX Runtime as it is
            return new Result(null, List.of(), List.of("the model could not be read for guards: " + e.getMessage()));
        }
    }

    /** Operator names of the nodes {@link #apply} may change, as a NodeProto spells its op_type field. */
    private static final List<byte[]> GUARDED_OPS = List.of(opTypeField("Div"), opTypeField("Mod"), opTypeField("Trilu"),
            opTypeField("STFT"), opTypeField("DFT"));

    private static byte[] opTypeField(String op) {
        byte[] name = op.getBytes(StandardCharsets.US_ASCII);
        byte[] field = new byte[name.length + 2];
        field[0] = (byte) (NODE_OP_TYPE << 3 | Protobuf.LENGTH_DELIMITED);
        field[1] = (byte) name.length;
        System.arraycopy(name, 0, field, 2, name.length);
        return field;
    }

    /**
     * Whether the model file may hold a node that {@link #apply} would change: a scan of the file
     * for the encoded operator names, without reading it onto the heap. A false "yes" (weights that
     * happen to hold those bytes) only costs a parse.
     */
    static boolean mayNeedGuards(Path modelFile) throws IOException {
        try (FileChannel channel = FileChannel.open(modelFile, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size > Integer.MAX_VALUE - 64) {
                return false; // larger than a protobuf message can be; ONNX Runtime will say so
            }
            MappedByteBuffer map = channel.map(FileChannel.MapMode.READ_ONLY, 0, size);
            int end = (int) size - 4;
            byte tag = GUARDED_OPS.get(0)[0];
            for (int i = 0; i < end; i++) {
                if (map.get(i) != tag) {
                    continue;
                }
                for (byte[] op : GUARDED_OPS) {
                    if (i + op.length <= size && matches(map, i, op)) {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    private static boolean matches(MappedByteBuffer map, int at, byte[] pattern) {
        for (int j = 1; j < pattern.length; j++) {
            if (map.get(at + j) != pattern[j]) {
                return false;
            }
        }
        return true;
    }

    /**
     * The text of a guard that failed a run, from ONNX Runtime's error message, or null when the
     * message is not about a guard.
     */
    static String explain(String ortMessage) {
        if (ortMessage == null) {
            return null;
        }
        int at = ortMessage.indexOf("Name:'" + GUARD_PREFIX);
        if (at < 0) {
            return null;
        }
        int start = at + 6 + GUARD_PREFIX.length();
        int end = ortMessage.indexOf("' Status Message:", start);
        return end < 0 ? null : ortMessage.substring(start, end);
    }

    private static long defaultOpset(List<Field> top) {
        for (Field f : top) {
            if (f.number() == MODEL_OPSET && f.wireType() == Protobuf.LENGTH_DELIMITED) {
                String domain = "";
                long version = 0;
                for (Field g : f.message()) {
                    if (g.number() == OPSET_DOMAIN) {
                        domain = g.string();
                    } else if (g.number() == OPSET_VERSION) {
                        version = g.varint();
                    }
                }
                if (domain.isEmpty() || domain.equals("ai.onnx")) {
                    return version;
                }
            }
        }
        return 0;
    }

    /** The model with {@code names} appended to the main graph's outputs (no type: ONNX Runtime infers it). */
    private static byte[] withOutputs(List<Field> top, Field graphField, Set<String> names) {
        Protobuf.Writer graph = new Protobuf.Writer(graphField.length() + 64 * names.size());
        for (Field f : graphField.message()) {
            graph.field(f);
        }
        for (String name : names) {
            graph.message(GRAPH_OUTPUT, new Protobuf.Writer().string(VALUE_INFO_NAME, name));
        }
        Protobuf.Writer out = new Protobuf.Writer();
        for (Field f : top) {
            if (f == graphField) {
                out.bytes(MODEL_GRAPH, graph.toByteArray());
            } else {
                out.field(f);
            }
        }
        return out.toByteArray();
    }

    // ---- reading --------------------------------------------------------------------------------

}

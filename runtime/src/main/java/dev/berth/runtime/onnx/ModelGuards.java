package dev.berth.runtime.onnx;

import dev.berth.runtime.onnx.Protobuf.Field;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
 * <p>Why one long class: every guard is a rewrite of the same protobuf walk (find the node, add
 * or replace a few nodes, keep names unique), and each needs the shared walk and naming helpers;
 * split per operator the pieces would only call each other.
 */
final class ModelGuards {
    /** Starts the name of every guard node that can fail a run. */
    static final String GUARD_PREFIX = "berth-guard: ";
    // ONNX TensorProto.DataType
    static final int INT32 = 6;
    static final int INT64 = 7;
    static final int BOOL = 9;
    private static final long TRILU_K_LIMIT = 1L << 40;

    // ModelProto, GraphProto, NodeProto, AttributeProto, ValueInfoProto, TypeProto, TensorProto field numbers (onnx.proto)
    private static final int MODEL_GRAPH = 7;
    private static final int MODEL_OPSET = 8;
    private static final int MODEL_FUNCTIONS = 25;
    private static final int GRAPH_NODE = 1;
    private static final int GRAPH_INITIALIZER = 5;
    private static final int GRAPH_INPUT = 11;
    private static final int GRAPH_OUTPUT = 12;
    private static final int GRAPH_VALUE_INFO = 13;
    private static final int NODE_INPUT = 1;
    private static final int NODE_OUTPUT = 2;
    private static final int NODE_NAME = 3;
    private static final int NODE_OP_TYPE = 4;
    private static final int NODE_ATTRIBUTE = 5;
    private static final int NODE_DOMAIN = 7;
    private static final int ATTR_NAME = 1;
    private static final int ATTR_I = 3;
    private static final int ATTR_T = 5;
    private static final int ATTR_G = 6;
    private static final int ATTR_INTS = 8;
    private static final int ATTR_GRAPHS = 11;
    private static final int ATTR_TYPE = 20;
    private static final int ATTR_TYPE_INT = 2;
    private static final int ATTR_TYPE_TENSOR = 4;
    private static final int VALUE_INFO_NAME = 1;
    private static final int VALUE_INFO_TYPE = 2;
    private static final int TYPE_TENSOR = 1;
    private static final int TENSOR_TYPE_ELEM = 1;
    private static final int TENSOR_DATA_TYPE = 2;
    private static final int TENSOR_INT32_DATA = 5;
    private static final int TENSOR_INT64_DATA = 7;
    private static final int TENSOR_NAME = 8;
    private static final int TENSOR_RAW_DATA = 9;
    private static final int TENSOR_DATA_LOCATION = 14;
    private static final int OPSET_DOMAIN = 1;
    private static final int OPSET_VERSION = 2;

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
        Context ctx = new Context(opset);
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

    /** One node, read. */
    private record Node(List<Field> fields, List<String> inputs, List<String> outputs, String name, String opType,
                        String domain, List<Field> attributes) {
        static Node of(Field f) {
            List<Field> fields = f.message();
            List<String> inputs = new ArrayList<>();
            List<String> outputs = new ArrayList<>();
            List<Field> attributes = new ArrayList<>();
            String name = "";
            String op = "";
            String domain = "";
            for (Field g : fields) {
                switch (g.number()) {
                    case NODE_INPUT -> inputs.add(g.string());
                    case NODE_OUTPUT -> outputs.add(g.string());
                    case NODE_NAME -> name = g.string();
                    case NODE_OP_TYPE -> op = g.string();
                    case NODE_DOMAIN -> domain = g.string();
                    case NODE_ATTRIBUTE -> attributes.add(g);
                    default -> {
                    }
                }
            }
            return new Node(fields, inputs, outputs, name, op, domain, attributes);
        }

        boolean standard() {
            return domain.isEmpty() || domain.equals("ai.onnx");
        }

        String input(int i) {
            return i < inputs.size() ? inputs.get(i) : "";
        }

        long intAttribute(String attr, long fallback) {
            for (Field a : attributes) {
                List<Field> af = a.message();
                if (attrName(af).equals(attr)) {
                    for (Field g : af) {
                        if (g.number() == ATTR_I) {
                            return g.varint();
                        }
                    }
                }
            }
            return fallback;
        }

        String label() {
            return opType + " node \"" + (name.isEmpty() ? String.join(",", outputs) : name) + "\"";
        }
    }

    private static String attrName(List<Field> attribute) {
        for (Field g : attribute) {
            if (g.number() == ATTR_NAME) {
                return g.string();
            }
        }
        return "";
    }

    /** A graph with what it declares: element types and constant tensors by value name. */
    private static final class GraphView {
        final List<Field> fields;
        final GraphView parent;
        final Map<String, Integer> types = new HashMap<>();
        final Map<String, List<Field>> constants = new HashMap<>();
        final Set<String> nodeOutputs = new HashSet<>();

        private GraphView(List<Field> fields, GraphView parent) {
            this.fields = fields;
            this.parent = parent;
        }

        static GraphView of(Field graph, GraphView parent) {
            GraphView view = new GraphView(graph.message(), parent);
            for (Field f : view.fields) {
                switch (f.number()) {
                    case GRAPH_INPUT, GRAPH_OUTPUT, GRAPH_VALUE_INFO -> view.declare(f.message());
                    case GRAPH_INITIALIZER -> {
                        List<Field> tensor = f.message();
                        String name = "";
                        int type = 0;
                        for (Field g : tensor) {
                            if (g.number() == TENSOR_NAME) {
                                name = g.string();
                            } else if (g.number() == TENSOR_DATA_TYPE) {
                                type = (int) g.varint();
                            }
                        }
                        view.types.put(name, type);
                        view.constants.put(name, tensor);
                    }
                    case GRAPH_NODE -> {
                        Node node = Node.of(f);
                        view.nodeOutputs.addAll(node.outputs);
                        if (node.standard() && node.opType.equals("Constant") && node.outputs.size() == 1) {
                            view.constant(node);
                        }
                    }
                    default -> {
                    }
                }
            }
            return view;
        }

        private void declare(List<Field> valueInfo) {
            String name = "";
            int type = 0;
            for (Field g : valueInfo) {
                if (g.number() == VALUE_INFO_NAME) {
                    name = g.string();
                } else if (g.number() == VALUE_INFO_TYPE) {
                    for (Field t : g.message()) {
                        if (t.number() == TYPE_TENSOR) {
                            for (Field e : t.message()) {
                                if (e.number() == TENSOR_TYPE_ELEM) {
                                    type = (int) e.varint();
                                }
                            }
                        }
                    }
                }
            }
            if (!name.isEmpty() && type != 0) {
                types.put(name, type);
            }
        }

        private void constant(Node node) {
            String out = node.outputs.get(0);
            for (Field a : node.attributes) {
                List<Field> af = a.message();
                String attr = attrName(af);
                for (Field g : af) {
                    if (attr.equals("value") && g.number() == ATTR_T) {
                        List<Field> tensor = g.message();
                        constants.put(out, tensor);
                        for (Field t : tensor) {
                            if (t.number() == TENSOR_DATA_TYPE) {
                                types.put(out, (int) t.varint());
                            }
                        }
                    } else if ((attr.equals("value_int") && g.number() == ATTR_I) || (attr.equals("value_ints") && g.number() == ATTR_INTS)) {
                        types.put(out, INT64);
                        constants.put(out, int64Tensor(Protobuf.int64s(af, g.number())));
                    }
                }
            }
        }

        Integer type(String name) {
            for (GraphView g = this; g != null; g = g.parent) {
                Integer t = g.types.get(name);
                if (t != null && t != 0) {
                    return t;
                }
            }
            return null;
        }

        List<Field> constantTensor(String name) {
            for (GraphView g = this; g != null; g = g.parent) {
                if (g.constants.containsKey(name)) {
                    return g.constants.get(name);
                }
                if (g.nodeOutputs.contains(name) || g.types.containsKey(name)) {
                    return null; // a value of this scope shadows outer ones
                }
            }
            return null;
        }
    }

    /** A TensorProto (fields) holding int64 values, for Constant nodes given as value_int(s). */
    private static List<Field> int64Tensor(List<Long> values) {
        Protobuf.Writer w = new Protobuf.Writer();
        w.varint(TENSOR_DATA_TYPE, INT64);
        ByteBuffer raw = ByteBuffer.allocate(values.size() * 8).order(ByteOrder.LITTLE_ENDIAN);
        values.forEach(raw::putLong);
        w.bytes(TENSOR_RAW_DATA, raw.array());
        return Protobuf.parse(w.toByteArray());
    }

    /**
     * The integer values of a constant tensor, or null where they are not in the model itself
     * (external data) or not integers.
     */
    static long[] integerValues(List<Field> tensor) {
        int type = 0;
        Field raw = null;
        boolean external = false;
        for (Field f : tensor) {
            switch (f.number()) {
                case TENSOR_DATA_TYPE -> type = (int) f.varint();
                case TENSOR_RAW_DATA -> raw = f;
                case TENSOR_DATA_LOCATION -> external = f.varint() == 1;
                default -> {
                }
            }
        }
        if (external || (type != INT32 && type != INT64)) {
            return null;
        }
        if (raw != null) {
            int width = type == INT32 ? 4 : 8;
            ByteBuffer b = ByteBuffer.wrap(raw.buf(), raw.offset(), raw.length()).slice().order(ByteOrder.LITTLE_ENDIAN);
            long[] out = new long[raw.length() / width];
            for (int i = 0; i < out.length; i++) {
                out[i] = width == 4 ? b.getInt(i * 4) : b.getLong(i * 8);
            }
            return out;
        }
        List<Long> values = Protobuf.int64s(tensor, type == INT32 ? TENSOR_INT32_DATA : TENSOR_INT64_DATA);
        long[] out = new long[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = type == INT32 ? (int) (long) values.get(i) : values.get(i);
        }
        return out;
    }

    // ---- deciding and writing ---------------------------------------------------------------------

    private enum Kind { INT_DIV, INT_MOD, TRILU_K, STFT_FRAME_LENGTH }

    private static final class Context {
        final long opset;
        final List<String> applied = new ArrayList<>();
        final List<String> unguarded = new ArrayList<>();
        final Set<String> allNames = new HashSet<>();
        String prefix = "berth_guard_";
        int counter;

        Context(long opset) {
            this.opset = opset;
        }

        void collectNames(GraphView graph) {
            for (Field f : graph.fields) {
                if (f.number() == GRAPH_NODE) {
                    Node node = Node.of(f);
                    allNames.addAll(node.outputs);
                    for (Field a : node.attributes) {
                        for (Field sub : subgraphs(a)) {
                            collectNames(GraphView.of(sub, graph));
                        }
                    }
                }
            }
            while (prefixUsed()) {
                prefix = "_" + prefix;
            }
        }

        private boolean prefixUsed() {
            for (String n : allNames) {
                if (n.startsWith(prefix)) {
                    return true;
                }
            }
            return false;
        }

        boolean mentionsGuardedOp(Field function) {
            String text = function.string();
            return text.contains("Div") || text.contains("Mod") || text.contains("Trilu") || text.contains("STFT");
        }

        /** Which guard a node needs, or null. Adds to {@code ask} the names whose type would decide. */
        Kind kind(Node node, GraphView scope, Set<String> ask) {
            if (!node.standard()) {
                return null;
            }
            switch (node.opType) {
                case "Div", "Mod" -> {
                    if (node.opType.equals("Mod") && node.intAttribute("fmod", 0) != 0) {
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
                    long[] values = divisor == null ? null : integerValues(divisor);
                    if (values != null && !contains(values, -1)) {
                        return null;
                    }
                    return node.opType.equals("Div") ? Kind.INT_DIV : Kind.INT_MOD;
                }
                case "Trilu" -> {
                    if (node.input(1).isEmpty()) {
                        return null;
                    }
                    List<Field> k = scope.constantTensor(node.input(1));
                    long[] values = k == null ? null : integerValues(k);
                    return values != null && values.length == 1 && Math.abs(values[0]) <= TRILU_K_LIMIT ? null : Kind.TRILU_K;
                }
                case "STFT" -> {
                    if (node.input(3).isEmpty()) {
                        return null;
                    }
                    List<Field> length = scope.constantTensor(node.input(3));
                    long[] values = length == null ? null : integerValues(length);
                    return values != null && values.length == 1 && values[0] > 0 ? null : Kind.STFT_FRAME_LENGTH;
                }
                default -> {
                    return null;
                }
            }
        }

        void inspect(GraphView graph, Set<String> ask) {
            for (Field f : graph.fields) {
                if (f.number() == GRAPH_NODE) {
                    Node node = Node.of(f);
                    kind(node, graph, ask);
                    for (Field a : node.attributes) {
                        for (Field sub : subgraphs(a)) {
                            inspect(GraphView.of(sub, graph), ask);
                        }
                    }
                }
            }
        }

        /** The graph's bytes with its guards, or null when nothing in it (or below it) changed. */
        byte[] rewrite(GraphView graph) {
            Protobuf.Writer out = null;
            List<Field> fields = graph.fields;
            for (int i = 0; i < fields.size(); i++) {
                Field f = fields.get(i);
                byte[][] replacement = f.number() == GRAPH_NODE ? rewriteNode(Node.of(f), graph) : null;
                if (replacement != null && out == null) {
                    out = new Protobuf.Writer(totalLength(fields) + 1024);
                    for (int j = 0; j < i; j++) {
                        out.field(fields.get(j));
                    }
                }
                if (out != null) {
                    if (replacement != null) {
                        for (byte[] node : replacement) {
                            out.bytes(GRAPH_NODE, node);
                        }
                    } else {
                        out.field(f);
                    }
                }
            }
            return out == null ? null : out.toByteArray();
        }

        private static int totalLength(List<Field> fields) {
            long n = 0;
            for (Field f : fields) {
                n += f.length() + 6;
            }
            return (int) Math.min(Integer.MAX_VALUE - 16, n);
        }

        /** The nodes that replace {@code node} (guards, then the node), or null to keep it as it is. */
        private byte[][] rewriteNode(Node node, GraphView scope) {
            // subgraphs first: their rewrite changes this node's attributes
            Map<Field, byte[]> newAttributes = new HashMap<>();
            for (Field a : node.attributes) {
                byte[] rewritten = rewriteAttribute(a, scope);
                if (rewritten != null) {
                    newAttributes.put(a, rewritten);
                }
            }
            List<String> inputs = new ArrayList<>(node.inputs);
            if (node.standard() && node.opType.equals("DFT")) {
                while (!inputs.isEmpty() && inputs.get(inputs.size() - 1).isEmpty()) {
                    inputs.remove(inputs.size() - 1);
                }
            }
            boolean dropped = inputs.size() != node.inputs.size();
            if (dropped) {
                applied.add(node.label() + ": trailing empty inputs removed");
            }
            Kind kind = kind(node, scope, null);
            if (kind == null && isUnresolvedIntegerOp(node, scope)) {
                unguarded.add(node.label() + ": element type of its operands unknown, not guarded");
            }
            List<byte[]> before = new ArrayList<>();
            if (kind != null && !guard(kind, node, scope, inputs, before)) {
                kind = null;
            }
            if (kind == null && !dropped && newAttributes.isEmpty()) {
                return null;
            }
            before.add(writeNode(node, inputs, newAttributes));
            return before.toArray(byte[][]::new);
        }

        private boolean isUnresolvedIntegerOp(Node node, GraphView scope) {
            return node.standard() && (node.opType.equals("Div") || (node.opType.equals("Mod") && node.intAttribute("fmod", 0) == 0))
                    && scope.type(node.input(0)) == null && scope.type(node.input(1)) == null;
        }

        private byte[] rewriteAttribute(Field attribute, GraphView scope) {
            List<Field> af = attribute.message();
            boolean changed = false;
            Protobuf.Writer w = new Protobuf.Writer(attribute.length() + 256);
            for (Field g : af) {
                if ((g.number() == ATTR_G || g.number() == ATTR_GRAPHS) && g.wireType() == Protobuf.LENGTH_DELIMITED) {
                    byte[] sub = rewrite(GraphView.of(g, scope));
                    if (sub != null) {
                        w.bytes(g.number(), sub);
                        changed = true;
                        continue;
                    }
                }
                w.field(g);
            }
            return changed ? w.toByteArray() : null;
        }

        /**
         * Adds the guard nodes for {@code kind} to {@code before} and points the node's input at the
         * guarded value. Returns false where the model's opset is too old for the guard's operators.
         */
        private boolean guard(Kind kind, Node node, GraphView scope, List<String> inputs, List<byte[]> before) {
            String id = prefix + (counter++) + "_";
            switch (kind) {
                case INT_DIV -> {
                    if (opset < 7) {
                        unguarded.add(node.label() + ": opset " + opset + " is older than the guard's operators (7)");
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
                    before.add(node("Cast", id + "fits_as_number", List.of(id + "fits"), id + "fits_as_number", intAttribute("to", type)));
                    String message = GUARD_PREFIX + "integer overflow in " + node.label() + ": " + min + " / -1 does not fit in "
                            + (type == INT32 ? "int32" : "int64");
                    before.add(node("Div", message, List.of(b, id + "fits_as_number"), id + "divisor"));
                    inputs.set(1, id + "divisor");
                    applied.add(node.label() + ": " + (type == INT32 ? "int32" : "int64") + " MIN / -1 fails the run");
                    return true;
                }
                case INT_MOD -> {
                    int type = scope.type(node.input(0)) != null ? scope.type(node.input(0)) : scope.type(node.input(1));
                    String b = node.input(1);
                    before.add(constant(id + "minus_one", type, -1));
                    before.add(constant(id + "one", type, 1));
                    before.add(node("Equal", id + "b_is_minus_one", List.of(b, id + "minus_one"), id + "b_is_minus_one"));
                    before.add(node("Where", id + "divisor", List.of(id + "b_is_minus_one", id + "one", b), id + "divisor"));
                    inputs.set(1, id + "divisor");
                    applied.add(node.label() + ": divisor -1 computed as 1 (same remainder, no trap)");
                    return true;
                }
                case TRILU_K -> {
                    String k = node.input(1);
                    before.add(constant(id + "low", INT64, -TRILU_K_LIMIT));
                    before.add(constant(id + "high", INT64, TRILU_K_LIMIT));
                    before.add(node("Max", id + "k_low", List.of(k, id + "low"), id + "k_low"));
                    before.add(node("Min", id + "k", List.of(id + "k_low", id + "high"), id + "k"));
                    inputs.set(1, id + "k");
                    applied.add(node.label() + ": k clamped to +-2^40");
                    return true;
                }
                case STFT_FRAME_LENGTH -> {
                    String length = node.input(3);
                    before.add(constant(id + "zero", INT64, 0));
                    before.add(node("CastLike", id + "zero_like", List.of(id + "zero", length), id + "zero_like"));
                    before.add(node("Greater", id + "positive", List.of(length, id + "zero_like"), id + "positive"));
                    before.add(node("CastLike", id + "positive_as_number", List.of(id + "positive", length), id + "positive_as_number"));
                    String message = GUARD_PREFIX + "frame_length of " + node.label() + " must be positive";
                    before.add(node("Div", message, List.of(length, id + "positive_as_number"), id + "frame_length"));
                    inputs.set(3, id + "frame_length");
                    applied.add(node.label() + ": frame_length below 1 fails the run");
                    return true;
                }
                default -> throw new IllegalStateException(kind.name());
            }
        }
    }

    private static boolean contains(long[] values, long v) {
        for (long x : values) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    private static List<Field> subgraphs(Field attribute) {
        List<Field> out = new ArrayList<>();
        for (Field g : attribute.message()) {
            if ((g.number() == ATTR_G || g.number() == ATTR_GRAPHS) && g.wireType() == Protobuf.LENGTH_DELIMITED) {
                out.add(g);
            }
        }
        return out;
    }

    /** The node with new inputs and attributes, every other field as it was, in its order. */
    private static byte[] writeNode(Node node, List<String> inputs, Map<Field, byte[]> newAttributes) {
        Protobuf.Writer w = new Protobuf.Writer(256);
        int input = 0;
        for (Field f : node.fields) {
            if (f.number() == NODE_INPUT) {
                if (input < inputs.size()) {
                    w.string(NODE_INPUT, inputs.get(input));
                }
                input++;
            } else if (f.number() == NODE_ATTRIBUTE && newAttributes.containsKey(f)) {
                w.bytes(NODE_ATTRIBUTE, newAttributes.get(f));
            } else {
                w.field(f);
            }
        }
        return w.toByteArray();
    }

    private static byte[] node(String op, String name, List<String> inputs, String output, byte[]... attributes) {
        Protobuf.Writer w = new Protobuf.Writer(128);
        for (String in : inputs) {
            w.string(NODE_INPUT, in);
        }
        w.string(NODE_OUTPUT, output);
        w.string(NODE_NAME, name);
        w.string(NODE_OP_TYPE, op);
        for (byte[] a : attributes) {
            w.bytes(NODE_ATTRIBUTE, a);
        }
        return w.toByteArray();
    }

    private static byte[] intAttribute(String name, long value) {
        return new Protobuf.Writer().string(ATTR_NAME, name).varint(ATTR_I, value).varint(ATTR_TYPE, ATTR_TYPE_INT).toByteArray();
    }

    /** A Constant node holding a scalar of ONNX type INT32 or INT64. */
    private static byte[] constant(String output, int type, long value) {
        ByteBuffer raw = ByteBuffer.allocate(type == INT32 ? 4 : 8).order(ByteOrder.LITTLE_ENDIAN);
        if (type == INT32) {
            raw.putInt((int) value);
        } else {
            raw.putLong(value);
        }
        Protobuf.Writer tensor = new Protobuf.Writer().varint(TENSOR_DATA_TYPE, type).bytes(TENSOR_RAW_DATA, raw.array());
        byte[] attr = new Protobuf.Writer().string(ATTR_NAME, "value").message(ATTR_T, tensor)
                .varint(ATTR_TYPE, ATTR_TYPE_TENSOR).toByteArray();
        return node("Constant", output, List.of(), output, attr);
    }
}

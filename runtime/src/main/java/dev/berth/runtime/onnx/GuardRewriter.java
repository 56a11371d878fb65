package dev.berth.runtime.onnx;

import dev.berth.runtime.onnx.Protobuf.Field;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.berth.runtime.onnx.OnnxFields.ATTR_G;
import static dev.berth.runtime.onnx.OnnxFields.ATTR_GRAPHS;
import static dev.berth.runtime.onnx.OnnxFields.GRAPH_NODE;

/**
 * The walk that {@link ModelGuards#apply} runs over the main graph and every subgraph: it asks each
 * guard family ({@link IntegerDivisionGuard}, {@link TriluGuard}, {@link StftGuard},
 * {@link DftGuard}) whether a node needs it, inserts the family's nodes before the node, and keeps
 * the names it adds unique in the whole model.
 */
final class GuardRewriter {
    /** The guard a node needs. */
    enum Kind { INT_DIV, INT_MOD, TRILU_K, STFT_FRAME_LENGTH }

    final long opset;
    final List<String> applied = new ArrayList<>();
    final List<String> unguarded = new ArrayList<>();
    private final Set<String> allNames = new HashSet<>();
    private String prefix = "berth_guard_";
    private int counter;

    GuardRewriter(long opset) {
        this.opset = opset;
    }

    void collectNames(GraphView graph) {
        for (Field f : graph.fields) {
            if (f.number() == GRAPH_NODE) {
                OnnxNode node = OnnxNode.of(f);
                allNames.addAll(node.outputs());
                for (Field a : node.attributes()) {
                    for (Field sub : GraphView.subgraphs(a)) {
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
    Kind kind(OnnxNode node, GraphView scope, Set<String> ask) {
        if (!node.standard()) {
            return null;
        }
        return switch (node.opType()) {
            case "Div", "Mod" -> IntegerDivisionGuard.kind(node, scope, ask);
            case "Trilu" -> TriluGuard.needed(node, scope) ? Kind.TRILU_K : null;
            case "STFT" -> StftGuard.needed(node, scope) ? Kind.STFT_FRAME_LENGTH : null;
            default -> null;
        };
    }

    void inspect(GraphView graph, Set<String> ask) {
        for (Field f : graph.fields) {
            if (f.number() == GRAPH_NODE) {
                OnnxNode node = OnnxNode.of(f);
                kind(node, graph, ask);
                for (Field a : node.attributes()) {
                    for (Field sub : GraphView.subgraphs(a)) {
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
            byte[][] replacement = f.number() == GRAPH_NODE ? rewriteNode(OnnxNode.of(f), graph) : null;
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
    private byte[][] rewriteNode(OnnxNode node, GraphView scope) {
        // subgraphs first: their rewrite changes this node's attributes
        Map<Field, byte[]> newAttributes = new HashMap<>();
        for (Field a : node.attributes()) {
            byte[] rewritten = rewriteAttribute(a, scope);
            if (rewritten != null) {
                newAttributes.put(a, rewritten);
            }
        }
        List<String> inputs = new ArrayList<>(node.inputs());
        DftGuard.dropTrailingEmptyInputs(node, inputs);
        boolean dropped = inputs.size() != node.inputs().size();
        if (dropped) {
            applied.add(node.label() + ": trailing empty inputs removed");
        }
        Kind kind = kind(node, scope, null);
        if (kind == null && IntegerDivisionGuard.isUnresolved(node, scope)) {
            unguarded.add(node.label() + ": element type of its operands unknown, not guarded");
        }
        List<byte[]> before = new ArrayList<>();
        if (kind != null && !guard(kind, node, scope, inputs, before)) {
            kind = null;
        }
        if (kind == null && !dropped && newAttributes.isEmpty()) {
            return null;
        }
        before.add(OnnxNode.writeNode(node, inputs, newAttributes));
        return before.toArray(byte[][]::new);
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
    private boolean guard(Kind kind, OnnxNode node, GraphView scope, List<String> inputs, List<byte[]> before) {
        String id = prefix + (counter++) + "_";
        return switch (kind) {
            case INT_DIV -> IntegerDivisionGuard.guardDiv(this, id, node, scope, inputs, before);
            case INT_MOD -> IntegerDivisionGuard.guardMod(this, id, node, scope, inputs, before);
            case TRILU_K -> TriluGuard.guard(this, id, node, inputs, before);
            case STFT_FRAME_LENGTH -> StftGuard.guard(this, id, node, inputs, before);
        };
    }
}

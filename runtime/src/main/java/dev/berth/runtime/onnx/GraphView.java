package dev.berth.runtime.onnx;

import dev.berth.runtime.onnx.Protobuf.Field;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.berth.runtime.onnx.OnnxFields.ATTR_G;
import static dev.berth.runtime.onnx.OnnxFields.ATTR_GRAPHS;
import static dev.berth.runtime.onnx.OnnxFields.ATTR_I;
import static dev.berth.runtime.onnx.OnnxFields.ATTR_INTS;
import static dev.berth.runtime.onnx.OnnxFields.ATTR_T;
import static dev.berth.runtime.onnx.OnnxFields.GRAPH_INITIALIZER;
import static dev.berth.runtime.onnx.OnnxFields.GRAPH_INPUT;
import static dev.berth.runtime.onnx.OnnxFields.GRAPH_NODE;
import static dev.berth.runtime.onnx.OnnxFields.GRAPH_OUTPUT;
import static dev.berth.runtime.onnx.OnnxFields.GRAPH_VALUE_INFO;
import static dev.berth.runtime.onnx.OnnxFields.INT32;
import static dev.berth.runtime.onnx.OnnxFields.INT64;
import static dev.berth.runtime.onnx.OnnxFields.TENSOR_DATA_LOCATION;
import static dev.berth.runtime.onnx.OnnxFields.TENSOR_DATA_TYPE;
import static dev.berth.runtime.onnx.OnnxFields.TENSOR_INT32_DATA;
import static dev.berth.runtime.onnx.OnnxFields.TENSOR_INT64_DATA;
import static dev.berth.runtime.onnx.OnnxFields.TENSOR_NAME;
import static dev.berth.runtime.onnx.OnnxFields.TENSOR_RAW_DATA;
import static dev.berth.runtime.onnx.OnnxFields.TENSOR_TYPE_ELEM;
import static dev.berth.runtime.onnx.OnnxFields.TYPE_TENSOR;
import static dev.berth.runtime.onnx.OnnxFields.VALUE_INFO_NAME;
import static dev.berth.runtime.onnx.OnnxFields.VALUE_INFO_TYPE;

/** A graph with what it declares: element types and constant tensors by value name. */
final class GraphView {
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
                    OnnxNode node = OnnxNode.of(f);
                    view.nodeOutputs.addAll(node.outputs());
                    if (node.standard() && node.opType().equals("Constant") && node.outputs().size() == 1) {
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

    private void constant(OnnxNode node) {
        String out = node.outputs().get(0);
        for (Field a : node.attributes()) {
            List<Field> af = a.message();
            String attr = OnnxNode.attrName(af);
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

    /** A TensorProto (fields) holding int64 values, for Constant nodes given as value_int(s). */
    static List<Field> int64Tensor(List<Long> values) {
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

    /** Whether {@code values} holds {@code v}. */
    static boolean contains(long[] values, long v) {
        for (long x : values) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    /** The graphs an attribute holds (an If's branches, a Loop's or Scan's body). */
    static List<Field> subgraphs(Field attribute) {
        List<Field> out = new ArrayList<>();
        for (Field g : attribute.message()) {
            if ((g.number() == ATTR_G || g.number() == ATTR_GRAPHS) && g.wireType() == Protobuf.LENGTH_DELIMITED) {
                out.add(g);
            }
        }
        return out;
    }
}

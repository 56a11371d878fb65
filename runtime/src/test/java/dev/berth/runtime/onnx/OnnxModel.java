package dev.berth.runtime.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes small ONNX models for tests: graphs of any nodes, with typed inputs and outputs
 * (fixed or named dimensions, or no type at all), initializers and subgraph attributes. The
 * protobuf is encoded with the field numbers of onnx.proto, so the tests need no Python.
 */
final class OnnxModel {
    // TensorProto.DataType
    static final int FLOAT = 1;
    static final int UINT8 = 2;
    static final int INT8 = 3;
    static final int INT16 = 5;
    static final int INT32 = 6;
    static final int INT64 = 7;
    static final int STRING = 8;
    static final int BOOL = 9;
    static final int DOUBLE = 11;
    static final int UINT32 = 12;
    static final int UINT64 = 13;

    private OnnxModel() {
    }

    /** A model of {@code graph} importing the default domain at {@code opset}. */
    static byte[] model(int opset, Graph graph) {
        Protobuf.Writer opsetId = new Protobuf.Writer().string(1, "").varint(2, opset);
        return new Protobuf.Writer().varint(1, 9).string(2, "berth-tests").message(7, graph.writer())
                .message(8, opsetId).toByteArray();
    }

    static Graph graph(String name) {
        return new Graph(name);
    }

    /** One graph (also a subgraph of If/Loop). */
    static final class Graph {
        private final String name;
        private final List<Protobuf.Writer> nodes = new ArrayList<>();
        private final List<Protobuf.Writer> inputs = new ArrayList<>();
        private final List<Protobuf.Writer> outputs = new ArrayList<>();
        private final List<Protobuf.Writer> initializers = new ArrayList<>();

        private Graph(String name) {
            this.name = name;
        }

        /**
         * A graph input; each dimension is a Long (fixed), a String (named, dynamic); {@code dims}
         * null for a tensor of unknown rank.
         */
        Graph input(String value, int type, Object... dims) {
            inputs.add(valueInfo(value, type, dims));
            return this;
        }

        Graph output(String value, int type, Object... dims) {
            outputs.add(valueInfo(value, type, dims));
            return this;
        }

        /** A graph output with no type: ONNX Runtime infers it. */
        Graph untypedOutput(String value) {
            outputs.add(new Protobuf.Writer().string(1, value));
            return this;
        }

        Graph node(String op, List<String> in, List<String> out, Protobuf.Writer... attributes) {
            Protobuf.Writer n = new Protobuf.Writer();
            in.forEach(i -> n.string(1, i));
            out.forEach(o -> n.string(2, o));
            n.string(3, op + "_" + nodes.size());
            n.string(4, op);
            for (Protobuf.Writer a : attributes) {
                n.message(5, a);
            }
            nodes.add(n);
            return this;
        }

        /** An int32 or int64 initializer. */
        Graph initializer(String value, int type, long[] dims, long... values) {
            initializers.add(tensor(value, type, dims, values));
            return this;
        }

        Protobuf.Writer writer() {
            Protobuf.Writer g = new Protobuf.Writer();
            nodes.forEach(n -> g.message(1, n));
            g.string(2, name);
            initializers.forEach(t -> g.message(5, t));
            inputs.forEach(i -> g.message(11, i));
            outputs.forEach(o -> g.message(12, o));
            return g;
        }
    }

    static Protobuf.Writer intAttr(String name, long value) {
        return new Protobuf.Writer().string(1, name).varint(3, value).varint(20, 2);
    }

    static Protobuf.Writer stringAttr(String name, String value) {
        return new Protobuf.Writer().string(1, name).string(4, value).varint(20, 3);
    }

    static Protobuf.Writer graphAttr(String name, Graph graph) {
        return new Protobuf.Writer().string(1, name).message(6, graph.writer()).varint(20, 5);
    }

    static Protobuf.Writer tensorAttr(String name, int type, long[] dims, long... values) {
        return new Protobuf.Writer().string(1, name).message(5, tensor(null, type, dims, values)).varint(20, 4);
    }

    private static Protobuf.Writer tensor(String name, int type, long[] dims, long... values) {
        Protobuf.Writer t = new Protobuf.Writer();
        for (long d : dims) {
            t.varint(1, d);
        }
        t.varint(2, type);
        if (name != null) {
            t.string(8, name);
        }
        int width = type == INT32 ? 4 : type == INT64 ? 8 : 0;
        if (width == 0) {
            throw new IllegalArgumentException("initializers here are int32 or int64");
        }
        ByteBuffer raw = ByteBuffer.allocate(values.length * width).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            if (width == 4) {
                raw.putInt((int) v);
            } else {
                raw.putLong(v);
            }
        }
        t.bytes(9, raw.array());
        return t;
    }

    private static Protobuf.Writer valueInfo(String value, int type, Object... dims) {
        Protobuf.Writer tensorType = new Protobuf.Writer().varint(1, type);
        if (dims != null) {
            Protobuf.Writer shape = new Protobuf.Writer();
            for (Object d : dims) {
                Protobuf.Writer dim = new Protobuf.Writer();
                if (d instanceof String s) {
                    dim.string(2, s);
                } else {
                    dim.varint(1, ((Number) d).longValue());
                }
                shape.message(1, dim);
            }
            tensorType.message(2, shape);
        }
        Protobuf.Writer typeProto = new Protobuf.Writer().message(1, tensorType);
        return new Protobuf.Writer().string(1, value).message(2, typeProto);
    }
}

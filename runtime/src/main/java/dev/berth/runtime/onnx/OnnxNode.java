package dev.berth.runtime.onnx;

import dev.berth.runtime.onnx.Protobuf.Field;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.berth.runtime.onnx.OnnxFields.ATTR_I;
import static dev.berth.runtime.onnx.OnnxFields.ATTR_NAME;
import static dev.berth.runtime.onnx.OnnxFields.ATTR_T;
import static dev.berth.runtime.onnx.OnnxFields.ATTR_TYPE;
import static dev.berth.runtime.onnx.OnnxFields.ATTR_TYPE_INT;
import static dev.berth.runtime.onnx.OnnxFields.ATTR_TYPE_TENSOR;
import static dev.berth.runtime.onnx.OnnxFields.INT32;
import static dev.berth.runtime.onnx.OnnxFields.INT64;
import static dev.berth.runtime.onnx.OnnxFields.NODE_ATTRIBUTE;
import static dev.berth.runtime.onnx.OnnxFields.NODE_DOMAIN;
import static dev.berth.runtime.onnx.OnnxFields.NODE_INPUT;
import static dev.berth.runtime.onnx.OnnxFields.NODE_NAME;
import static dev.berth.runtime.onnx.OnnxFields.NODE_OP_TYPE;
import static dev.berth.runtime.onnx.OnnxFields.NODE_OUTPUT;
import static dev.berth.runtime.onnx.OnnxFields.TENSOR_DATA_TYPE;
import static dev.berth.runtime.onnx.OnnxFields.TENSOR_RAW_DATA;

/** One NodeProto, read; and the writers for the nodes the guards insert. */
record OnnxNode(List<Field> fields, List<String> inputs, List<String> outputs, String name, String opType,
                String domain, List<Field> attributes) {
    static OnnxNode of(Field f) {
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
        return new OnnxNode(fields, inputs, outputs, name, op, domain, attributes);
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

    static String attrName(List<Field> attribute) {
        for (Field g : attribute) {
            if (g.number() == ATTR_NAME) {
                return g.string();
            }
        }
        return "";
    }

    /** The node with new inputs and attributes, every other field as it was, in its order. */
    static byte[] writeNode(OnnxNode node, List<String> inputs, Map<Field, byte[]> newAttributes) {
        Protobuf.Writer w = new Protobuf.Writer(256);
        int input = 0;
        for (Field f : node.fields()) {
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

    /** A new NodeProto of the default domain. */
    static byte[] node(String op, String name, List<String> inputs, String output, byte[]... attributes) {
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

    /** An AttributeProto holding one int. */
    static byte[] intAttributeBytes(String name, long value) {
        return new Protobuf.Writer().string(ATTR_NAME, name).varint(ATTR_I, value).varint(ATTR_TYPE, ATTR_TYPE_INT).toByteArray();
    }

    /** A Constant node holding a scalar of ONNX type INT32 or INT64. */
    static byte[] constant(String output, int type, long value) {
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

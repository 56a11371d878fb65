package dev.berth.runtime.onnx;

/** The onnx.proto numbers the model guards read and write: element types and message field numbers. */
final class OnnxFields {
    // ONNX TensorProto.DataType
    static final int INT32 = 6;
    static final int INT64 = 7;

    // ModelProto, GraphProto, NodeProto, AttributeProto, ValueInfoProto, TypeProto, TensorProto field numbers (onnx.proto)
    static final int MODEL_GRAPH = 7;
    static final int MODEL_OPSET = 8;
    static final int MODEL_FUNCTIONS = 25;
    static final int GRAPH_NODE = 1;
    static final int GRAPH_INITIALIZER = 5;
    static final int GRAPH_INPUT = 11;
    static final int GRAPH_OUTPUT = 12;
    static final int GRAPH_VALUE_INFO = 13;
    static final int NODE_INPUT = 1;
    static final int NODE_OUTPUT = 2;
    static final int NODE_NAME = 3;
    static final int NODE_OP_TYPE = 4;
    static final int NODE_ATTRIBUTE = 5;
    static final int NODE_DOMAIN = 7;
    static final int ATTR_NAME = 1;
    static final int ATTR_I = 3;
    static final int ATTR_T = 5;
    static final int ATTR_G = 6;
    static final int ATTR_INTS = 8;
    static final int ATTR_GRAPHS = 11;
    static final int ATTR_TYPE = 20;
    static final int ATTR_TYPE_INT = 2;
    static final int ATTR_TYPE_TENSOR = 4;
    static final int VALUE_INFO_NAME = 1;
    static final int VALUE_INFO_TYPE = 2;
    static final int TYPE_TENSOR = 1;
    static final int TENSOR_TYPE_ELEM = 1;
    static final int TENSOR_DATA_TYPE = 2;
    static final int TENSOR_INT32_DATA = 5;
    static final int TENSOR_INT64_DATA = 7;
    static final int TENSOR_NAME = 8;
    static final int TENSOR_RAW_DATA = 9;
    static final int TENSOR_DATA_LOCATION = 14;
    static final int OPSET_DOMAIN = 1;
    static final int OPSET_VERSION = 2;

    private OnnxFields() {
    }
}

package dev.berth.bench;

/**
 * Writes small ONNX models for benchmarks where no sample model fits, by encoding the ONNX
 * protobuf messages directly (field numbers from onnx.proto). The large-tensor case needs a model
 * whose cost is the tensor's size, not its compute: a single Identity node over FP32
 * {@code [batch, 3, 224, 224]}.
 */
public final class OnnxModelWriter {
    /** ONNX TensorProto.DataType.FLOAT. */
    private static final int ONNX_FLOAT = 1;
    private static final int IR_VERSION = 8;
    private static final int OPSET = 17;

    private OnnxModelWriter() {
    }

    /**
     * An FP32 model {@code output = Identity(input)}.
     *
     * @param shape the shape of both tensors; a negative dimension is dynamic (named {@code batch})
     */
    public static byte[] identity(String input, String output, long[] shape) {
        ProtoWriter node = new ProtoWriter()
                .string(1, input)          // NodeProto.input
                .string(2, output)         // NodeProto.output
                .string(3, "identity")     // NodeProto.name
                .string(4, "Identity");    // NodeProto.op_type
        ProtoWriter graph = new ProtoWriter()
                .message(1, node)          // GraphProto.node
                .string(2, "large_identity")
                .message(11, valueInfo(input, shape))   // GraphProto.input
                .message(12, valueInfo(output, shape)); // GraphProto.output
        ProtoWriter opset = new ProtoWriter()
                .string(1, "")             // OperatorSetIdProto.domain: the default ai.onnx
                .varint(2, OPSET);
        return new ProtoWriter()
                .varint(1, IR_VERSION)     // ModelProto.ir_version
                .string(2, "berth-benchmarks") // producer_name
                .message(7, graph)         // ModelProto.graph
                .message(8, opset)         // ModelProto.opset_import
                .toByteArray();
    }

    private static ProtoWriter valueInfo(String name, long[] shape) {
        ProtoWriter dims = new ProtoWriter();
        for (long d : shape) {
            ProtoWriter dim = d < 0
                    ? new ProtoWriter().string(2, "batch")   // Dimension.dim_param
                    : new ProtoWriter().varint(1, d);        // Dimension.dim_value
            dims.message(1, dim);                            // TensorShapeProto.dim
        }
        ProtoWriter tensorType = new ProtoWriter()
                .varint(1, ONNX_FLOAT)                       // TypeProto.Tensor.elem_type
                .message(2, dims);                           // TypeProto.Tensor.shape
        ProtoWriter type = new ProtoWriter().message(1, tensorType); // TypeProto.tensor_type
        return new ProtoWriter().string(1, name).message(2, type);  // ValueInfoProto
    }
}

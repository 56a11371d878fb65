package dev.berth.runtime.onnx;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** ONNX Runtime 1.29.0's messages (copied from real failures) shortened to node and cause. */
class OrtMessagesTest {
    private static final String PREFIX = "Error code - ORT_FAIL - message: Non-zero status code returned while running ";

    @Test
    void nodeAndCauseWithoutLocationsAndSignatures() {
        assertEquals("Div node: Integer division by zero", OrtMessages.cause(PREFIX
                + "Div node. Name:'' Status Message: element_wise_ops.cc:692 Compute Integer division by zero"));
        assertEquals("Reshape node 'r': input_shape_size == requested_shape_size was false. The input tensor cannot be reshaped"
                        + " to the requested shape. Input shape:{8}, requested shape:{3,5}",
                OrtMessages.cause(PREFIX + "Reshape node. Name:'r' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/"
                        + "tensor/reshape_helper.h:91 onnxruntime::ReshapeHelper::ReshapeHelper(const onnxruntime::TensorShape&,"
                        + " onnxruntime::TensorShapeVector&, bool) input_shape_size == requested_shape_size was false. The input tensor"
                        + " cannot be reshaped to the requested shape. Input shape:{8}, requested shape:{3,5}"));
        assertEquals("GatherElements node: GatherElements op: Out of range value in index tensor", OrtMessages.cause(PREFIX
                + "GatherElements node. Name:'' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/tensor/gather_elements.cc:150"
                + " void onnxruntime::core_impl(const Tensor*, const Tensor*, Tensor*, int64_t, concurrency::ThreadPool*)"
                + " [with Tin = long int; int64_t = long int] GatherElements op: Out of range value in index tensor"));
        assertEquals("Expand node: Integer overflow", OrtMessages.cause(PREFIX + "Expand node. Name:'' Status Message:"
                + " /onnxruntime_src/onnxruntime/core/common/safeint.h:17 static void SafeIntExceptionHandler"
                + "<onnxruntime::OnnxRuntimeException>::SafeIntOnOverflow() Integer overflow"));
        assertEquals("Pad node: Tensor shape.Size() must be >= 0", OrtMessages.cause(PREFIX + "Pad node. Name:'' Status Message:"
                + " /onnxruntime_src/onnxruntime/core/framework/op_kernel.cc:83 virtual OrtValue* onnxruntime::OpKernelContext::"
                + "OutputMLValue(int, const onnxruntime::TensorShape&) [ONNXRuntimeError] : 1 : FAIL : tensor.cc:57"
                + " CalculateTensorStorageSize Tensor shape.Size() must be >= 0"));
        assertEquals("OneHot node: Failed to allocate memory for requested buffer of size 4398046511104", OrtMessages.cause(PREFIX
                + "OneHot node. Name:'' Status Message: /onnxruntime_src/onnxruntime/core/framework/bfc_arena.cc:359 void*"
                + " onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*) Failed to allocate memory for"
                + " requested buffer of size 4398046511104"));
        assertEquals("STFT node: window size mismatch", OrtMessages.cause(PREFIX + "STFT node. Name:'' Status Message:"
                + " /onnxruntime_src/onnxruntime/core/providers/cpu/signal/dft.cc:574 onnxruntime::common::Status"
                + " onnxruntime::short_time_fourier_transform(OpKernelContext*, bool, bool) [with T = float; U = float] window size mismatch"));
    }

    @Test
    void messagesWithoutANodeKeepTheirText() {
        assertEquals("Unexpected input data type. Actual: (tensor(int32)) , expected: (tensor(uint32))",
                OrtMessages.cause("Error code - ORT_INVALID_ARGUMENT - message: Unexpected input data type. Actual: (tensor(int32)) ,"
                        + " expected: (tensor(uint32))"));
        assertEquals("Exception during initialization: Failed to construct locale", OrtMessages.cause(
                "Error code - ORT_FAIL - message: Exception during initialization: Failed to construct locale"));
        assertEquals("ArgMax node: no details given", OrtMessages.cause("Error code - ORT_RUNTIME_EXCEPTION - message: Non-zero status"
                + " code returned while running ArgMax node. Name:'' Status Message: "));
        assertEquals("unknown error", OrtMessages.cause(null));
    }

    @Test
    void aGuardThatFiredIsExplainedInItsOwnWords() {
        String message = PREFIX + "Div node. Name:'berth-guard: integer overflow in Div node \"d\": -2147483648 / -1 does not fit in int32'"
                + " Status Message: element_wise_ops.cc:692 Compute Integer division by zero";
        assertEquals("integer overflow in Div node \"d\": -2147483648 / -1 does not fit in int32", ModelGuards.explain(message));
        assertNull(ModelGuards.explain(PREFIX + "Div node. Name:'' Status Message: element_wise_ops.cc:692 Compute Integer division by zero"));
    }
}

package dev.berth.runtime.onnx;

import ai.onnxruntime.OrtException;
import dev.berth.runtime.InferenceException;

/** What a failed ONNX Runtime run or load means for the caller: a one-line reason and the core's error kind. */
final class RunFailures {
    private static final System.Logger LOG = System.getLogger(RunFailures.class.getName());

    private RunFailures() {
    }

    /** The cause of a failed run in one line: a guard's explanation, or ONNX Runtime's message without its noise. */
    static String reason(Throwable t) {
        if (t instanceof OrtException e) {
            String guard = ModelGuards.explain(e.getMessage());
            return guard != null ? guard : OrtMessages.cause(e.getMessage());
        }
        return t.getMessage() == null ? t.toString() : firstLine(t.getMessage());
    }

    /**
     * The core's error for a run of {@code label} (as {@code model 'm' version 3}) that failed with
     * {@code t}.
     */
    static RuntimeException map(String label, Throwable t) {
        if (t instanceof InferenceException e) {
            return e;
        }
        if (t instanceof OrtException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> label + " run failed: " + e.getMessage());
            String reason = reason(e);
            if (isAllocationFailure(e.getMessage())) {
                return new InferenceException.TooLarge(label + " could not allocate the memory these inputs need: " + reason);
            }
            return switch (e.getCode()) {
                // with names, types, ranks and fixed dims checked, what ONNX Runtime still rejects is a
                // combination of inputs the graph cannot compute (mismatched dynamic dims, values out of
                // range, a zero divisor, a guard of ModelGuards)
                case ORT_INVALID_ARGUMENT, ORT_RUNTIME_EXCEPTION, ORT_FAIL -> new InferenceException.InvalidInput(
                        label + " cannot run these inputs: " + reason);
                default -> new InferenceException.Internal(label + " failed: " + reason, e);
            };
        }
        return new InferenceException.Internal(label + " failed: " + t, t);
    }

    /** ONNX Runtime's words for an allocation that failed (the arena, or the system allocator). */
    static boolean isAllocationFailure(String message) {
        return message != null && (message.contains("Failed to allocate memory") || message.contains("bad_alloc")
                || message.contains("bad allocation") || message.contains("std::bad_array_new_length"));
    }

    static String firstLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}

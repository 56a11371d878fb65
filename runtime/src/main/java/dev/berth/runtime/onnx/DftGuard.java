package dev.berth.runtime.onnx;

import java.util.List;

/**
 * {@code DFT} (opset 20) given an empty name for its optional {@code axis} input reads wild memory
 * (SIGSEGV) on every run. A trailing empty input means "absent" in ONNX, so it is dropped.
 */
final class DftGuard {
    private DftGuard() {
    }

    /** Removes the trailing empty names from a standard DFT node's {@code inputs}; other nodes keep theirs. */
    static void dropTrailingEmptyInputs(OnnxNode node, List<String> inputs) {
        if (node.standard() && node.opType().equals("DFT")) {
            while (!inputs.isEmpty() && inputs.get(inputs.size() - 1).isEmpty()) {
                inputs.remove(inputs.size() - 1);
            }
        }
    }
}

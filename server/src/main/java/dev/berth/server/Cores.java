package dev.berth.server;

import dev.berth.runtime.InferenceObserver;
import dev.berth.runtime.InferenceService;

import java.nio.file.Path;

/** Builds berth's ONNX Runtime core over a registry folder. */
final class Cores {
    private Cores() {
    }

    static InferenceService onnx(Path models, InferenceObserver observer) {
        throw new UnsupportedOperationException("the ONNX Runtime core is not merged yet");
    }
}

package dev.berth.server;

import dev.berth.registry.LocalRegistry;
import dev.berth.runtime.InferenceObserver;
import dev.berth.runtime.InferenceService;
import dev.berth.runtime.onnx.OnnxInferenceService;

import java.nio.file.Path;

/** Builds berth's ONNX Runtime core over a registry folder. */
final class Cores {
    private Cores() {
    }

    static InferenceService onnx(Path models, InferenceObserver observer, int maxQueueSize, long maxTensorBytes,
                                 boolean strictReadiness, boolean allowEmpty) {
        return OnnxInferenceService.builder()
                .registry(LocalRegistry.open(models))
                .observer(observer)
                .maxQueueSize(maxQueueSize)
                .maxTensorBytes(maxTensorBytes)
                .strictReadiness(strictReadiness)
                .allowEmpty(allowEmpty)
                .build();
    }
}

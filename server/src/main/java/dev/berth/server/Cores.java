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

    /**
     * The core with the server's settings that concern it: the queue and tensor limits, readiness,
     * the registry's poll interval, and the server's drain timeout (one timeout for the whole stop).
     */
    static InferenceService onnx(Path models, InferenceObserver observer, BerthServer.Builder settings) {
        OnnxInferenceService.Builder b = OnnxInferenceService.builder()
                .registry(LocalRegistry.open(models))
                .observer(observer)
                .maxQueueSize(settings.maxQueueSize())
                .maxTensorBytes(settings.maxTensorBytes())
                .strictReadiness(settings.strictReadiness())
                .allowEmpty(settings.allowEmpty())
                .drainTimeout(settings.drainTimeout());
        settings.pollInterval().ifPresent(b::pollInterval);
        return b.build();
    }
}

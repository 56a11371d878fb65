package dev.berth.runtime.onnx;

import dev.berth.registry.ModelInfo;

import java.util.Map;
import java.util.TreeMap;

/**
 * One model as the core serves it, published as a whole: its {@code model.json} (aliases, policy,
 * serving config) and every version the registry holds, in version order. Immutable once
 * published; a change publishes a new view.
 *
 * @param <R> the loaded copy's type ({@link VersionRunner} in the core)
 */
record ModelView<R>(String name, ModelInfo info, Fingerprint infoFingerprint, TreeMap<Integer, VersionSlot<R>> versions) {
    ModelView<R> withVersions(Map<Integer, VersionSlot<R>> slots) {
        return new ModelView<>(name, info, infoFingerprint, new TreeMap<>(slots));
    }
}

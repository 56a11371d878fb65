package dev.berth.runtime.onnx;

import dev.berth.registry.ServingConfig;
import dev.berth.runtime.ModelState;

/**
 * One version of a model as the core serves it: its state and reason (as the repository index shows
 * them), the loaded copy that answers requests, and what it was loaded from.
 *
 * @param runner      the loaded copy, or null when none serves; a READY slot always has one
 * @param fingerprint the files the slot was loaded (or last tried) from
 * @param config      the serving config it was loaded (or last tried) with; null when never tried
 * @param failed      the last load of these files failed (the version is retried when they change)
 * @param <R>         the loaded copy's type ({@link VersionRunner} in the core)
 */
record VersionSlot<R>(int version, ModelState state, String reason, R runner, Fingerprint fingerprint,
                      ServingConfig config, boolean failed) {
    boolean serving() {
        return runner != null;
    }

    boolean ready() {
        return state == ModelState.READY;
    }

    /** The state and reason as the index and errors spell them: {@code READY}, {@code UNAVAILABLE: why}. */
    String stateText() {
        return state + (reason == null || reason.isEmpty() ? "" : ": " + reason);
    }
}

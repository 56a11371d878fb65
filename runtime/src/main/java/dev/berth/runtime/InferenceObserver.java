package dev.berth.runtime;

import java.util.List;

/**
 * What the core tells monitoring. Called on the request path, so implementations must be cheap
 * and must not throw.
 */
public interface InferenceObserver {
    InferenceObserver NOOP = new InferenceObserver() {
    };

    /** A request finished in the core (successfully or not); inputs are the validated tensors (null on failure before validation). */
    default void requestCompleted(String model, int version, List<Tensor> inputs, InferenceResponse response, Throwable failure) {
    }

    /** One ONNX Runtime run executed {@code rows} rows for {@code requests} merged requests. */
    default void batchExecuted(String model, int version, int rows, int requests, long computeNanos) {
    }

    /** A version finished loading (or failed to). */
    default void modelLoaded(String model, int version, long nanos, Throwable failure) {
    }

    /**
     * A changed model file of a version that is serving failed to load: the version keeps serving the
     * copy it had (so it is still ready), and the attempt is not retried until the files change again.
     */
    default void modelReloadRefused(String model, int version, long nanos, Throwable failure) {
    }

    /** A version was unloaded. */
    default void modelUnloaded(String model, int version) {
    }

    /** The server re-read the registry after a change. */
    default void registryReloaded() {
    }
}

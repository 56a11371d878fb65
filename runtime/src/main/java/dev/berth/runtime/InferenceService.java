package dev.berth.runtime;

import java.util.List;
import java.util.Optional;

/**
 * The one inference core behind every protocol front end. Front ends translate their wire format
 * into these calls and map {@link InferenceException} subtypes to their status codes; they open no
 * files and no sessions themselves.
 */
public interface InferenceService extends AutoCloseable {
    /** True once the process is up. */
    boolean live();

    /** True once every model marked to load is loaded and warmed up, and until shutdown begins. */
    boolean ready();

    /**
     * True once the first load of every model marked to load has been tried, whether it succeeded or
     * not: what a start-up waits for before it says whether the server is ready. The default is
     * {@link #ready()}.
     */
    default boolean loadsTried() {
        return ready();
    }

    /**
     * Why {@link #ready()} is false, for a person (the readiness endpoints' error); empty while ready.
     */
    default Optional<String> notReadyReason() {
        return ready() ? Optional.empty() : Optional.of("models are still loading");
    }

    /** Metadata of a model version; {@code version} null (or blank) means the model's default version. */
    ModelMetadata modelMetadata(String model, String version);

    /**
     * The configuration of a model version in Triton's terms; {@code version} as for
     * {@link #modelMetadata}. Fails as {@link #modelMetadata} does (unknown model or version, version
     * not ready). The default says what metadata alone tells ({@link ModelConfiguration#fromMetadata}).
     */
    default ModelConfiguration modelConfig(String model, String version) {
        return ModelConfiguration.fromMetadata(modelMetadata(model, version));
    }

    /** Whether a model version is loaded and ready; throws {@link InferenceException.NotFound} for unknown models. */
    boolean modelReady(String model, String version);

    /** Runs one request; blocks the calling (virtual) thread until the answer is there. */
    InferenceResponse infer(InferenceRequest request);

    /** Every model version the registry holds with its state (the repository index). */
    List<ModelStatus> repositoryIndex();

    /** Loads (or reloads) every selected version of a model. */
    void load(String model);

    /** Unloads every version of a model; requests in flight finish first. */
    void unload(String model);

    /** Stops accepting work, finishes what is in flight, closes sessions. */
    @Override
    void close();
}

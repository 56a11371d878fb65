package dev.berth.registry;

/**
 * How the server runs one model: ONNX Runtime threads and sessions, graph optimisation, dynamic
 * batching and warm-up. Stored in the registry (model level in {@code model.json}, overridable
 * per version in its manifest); {@link #defaults()} applies where nothing is stored.
 *
 * @param intraOpThreads     ONNX Runtime threads inside one operator (0: ONNX Runtime decides)
 * @param interOpThreads     threads across independent operators (0: ONNX Runtime decides)
 * @param sessions           ONNX Runtime sessions run side by side for this version
 * @param optimizationLevel  one of {@code disabled, basic, extended, all}
 * @param dynamicBatching    merge concurrent requests along the first axis where it is dynamic
 * @param maxBatchSize       upper bound on rows in one merged run
 * @param maxQueueDelayMicros how long a request may wait for others to join its batch
 * @param warmup             run the version's example request (else inputs of ones) once at load
 * @param maxQueueSize       most requests waiting for a session of this version; one more is refused
 *                           (HTTP 429, gRPC RESOURCE_EXHAUSTED). 0, or absent from the file, means the
 *                           server's default ({@code berth serve --max-queue-size}). Triton's name for it.
 */
public record ServingConfig(int intraOpThreads, int interOpThreads, int sessions, String optimizationLevel,
                            boolean dynamicBatching, int maxBatchSize, long maxQueueDelayMicros, boolean warmup,
                            int maxQueueSize) {
    public ServingConfig {
        if (intraOpThreads < 0 || interOpThreads < 0) {
            throw new InvalidArgumentException("thread counts must be 0 (automatic) or more");
        }
        if (sessions < 1) {
            throw new InvalidArgumentException("sessions must be 1 or more, got " + sessions);
        }
        if (maxBatchSize < 1) {
            throw new InvalidArgumentException("max_batch_size must be 1 or more, got " + maxBatchSize);
        }
        if (maxQueueDelayMicros < 0) {
            throw new InvalidArgumentException("max_queue_delay_micros must be 0 or more");
        }
        if (maxQueueSize < 0) {
            throw new InvalidArgumentException("max_queue_size must be 0 (the server's default) or more, got " + maxQueueSize);
        }
        if (optimizationLevel == null) {
            optimizationLevel = "all";
        }
        if (!java.util.List.of("disabled", "basic", "extended", "all").contains(optimizationLevel)) {
            throw new InvalidArgumentException("optimization_level must be disabled, basic, extended or all, got '" + optimizationLevel + "'");
        }
    }

    /** What a version gets when neither it nor its model configures serving. */
    public static ServingConfig defaults() {
        return new ServingConfig(1, 1, 1, "all", true, 32, 500, true, 0);
    }

    /** A builder starting from these values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** A builder starting from {@link #defaults()}. */
    public static Builder builder() {
        return new Builder(defaults());
    }

    /** Builder for the many options; starts from {@link #defaults()}. */
    public static final class Builder {
        private int intraOpThreads;
        private int interOpThreads;
        private int sessions;
        private String optimizationLevel;
        private boolean dynamicBatching;
        private int maxBatchSize;
        private long maxQueueDelayMicros;
        private boolean warmup;
        private int maxQueueSize;

        private Builder(ServingConfig from) {
            intraOpThreads = from.intraOpThreads;
            interOpThreads = from.interOpThreads;
            sessions = from.sessions;
            optimizationLevel = from.optimizationLevel;
            dynamicBatching = from.dynamicBatching;
            maxBatchSize = from.maxBatchSize;
            maxQueueDelayMicros = from.maxQueueDelayMicros;
            warmup = from.warmup;
            maxQueueSize = from.maxQueueSize;
        }

        public Builder intraOpThreads(int v) { intraOpThreads = v; return this; }
        public Builder interOpThreads(int v) { interOpThreads = v; return this; }
        public Builder sessions(int v) { sessions = v; return this; }
        public Builder optimizationLevel(String v) { optimizationLevel = v; return this; }
        public Builder dynamicBatching(boolean v) { dynamicBatching = v; return this; }
        public Builder maxBatchSize(int v) { maxBatchSize = v; return this; }
        public Builder maxQueueDelayMicros(long v) { maxQueueDelayMicros = v; return this; }
        public Builder warmup(boolean v) { warmup = v; return this; }
        public Builder maxQueueSize(int v) { maxQueueSize = v; return this; }

        public ServingConfig build() {
            return new ServingConfig(intraOpThreads, interOpThreads, sessions, optimizationLevel, dynamicBatching,
                    maxBatchSize, maxQueueDelayMicros, warmup, maxQueueSize);
        }
    }
}

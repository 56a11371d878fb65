package dev.berth.registry;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

import java.util.ArrayList;
import java.util.List;

/**
 * How the server runs one model: ONNX Runtime threads and sessions, graph optimisation, dynamic
 * batching and warm-up. Stored in the registry (model level in {@code model.json}, overridable
 * per version in its manifest) or read from a Triton {@code config.pbtxt} beside the model
 * ({@link TritonConfig}); {@link #defaults()} applies where nothing is stored. Each key is
 * documented in docs/registry-format.md; {@link ServingConfigJson} reads it, naming the key and
 * its allowed values when one is wrong, and filling keys that are absent from {@link #defaults()}.
 *
 * @param intraOpThreads      ONNX Runtime threads inside one operator (0: ONNX Runtime decides)
 * @param interOpThreads      threads across independent operators (0: ONNX Runtime decides)
 * @param sessions            ONNX Runtime sessions run side by side for this version (Triton's instance count)
 * @param optimizationLevel   one of {@code disabled, basic, extended, all}
 * @param dynamicBatching     merge concurrent requests along the first axis where it is dynamic
 * @param maxBatchSize        upper bound on rows in one merged run
 * @param maxQueueDelayMicros how long a request may wait for others to join its batch
 * @param warmup              run the version's example request (else inputs of ones) once at load
 * @param maxQueueSize        most requests waiting for a session of this version; one more is refused
 *                            (HTTP 429, gRPC RESOURCE_EXHAUSTED). 0, or absent from the file, means the
 *                            server's default ({@code berth serve --max-queue-size}). Triton's name for it.
 * @param preferredBatchSizes batch sizes the batcher should prefer (Triton's {@code preferred_batch_size});
 *                            each between 1 and {@code maxBatchSize}; empty when none
 * @param inputs              declared inputs the model must have (Triton's {@code input}); empty: not checked
 * @param outputs             declared outputs the model must have (Triton's {@code output}); empty: not checked
 * @param layout              {@value #LAYOUT_AUTO}: the server may replace {@code sessions} and {@code intraOpThreads}
 *                            by a layout it measured faster for this model on its machine (the values here are
 *                            then the cheap default it starts from); {@value #LAYOUT_FIXED}: exactly these values.
 *                            A file that sets {@code sessions}, {@code intra_op_threads} or {@code inter_op_threads}
 *                            without {@code layout} is fixed: a user's explicit layout always wins
 */
@JsonDeserialize(using = ServingConfigJson.class)
public record ServingConfig(int intraOpThreads, int interOpThreads, int sessions, String optimizationLevel,
                            boolean dynamicBatching, int maxBatchSize, long maxQueueDelayMicros, boolean warmup,
                            int maxQueueSize,
                            @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Integer> preferredBatchSizes,
                            @JsonInclude(JsonInclude.Include.NON_EMPTY) List<DeclaredTensor> inputs,
                            @JsonInclude(JsonInclude.Include.NON_EMPTY) List<DeclaredTensor> outputs,
                            String layout) {
    /** The values {@code optimization_level} takes. */
    public static final List<String> OPTIMIZATION_LEVELS = List.of("disabled", "basic", "extended", "all");
    /** {@code layout}: sessions and intra-op threads chosen by a short measurement when the version loads. */
    public static final String LAYOUT_AUTO = "auto";
    /** {@code layout}: sessions and threads exactly as configured. */
    public static final String LAYOUT_FIXED = "fixed";
    /** The values {@code layout} takes. */
    public static final List<String> LAYOUTS = List.of(LAYOUT_AUTO, LAYOUT_FIXED);

    /**
     * A tensor the configuration declares.
     *
     * @param name     the tensor's name in the model
     * @param datatype its element type
     * @param shape    its full shape as the model states it ({@code -1}: any size), the batch axis included
     */
    public record DeclaredTensor(String name, DataType datatype, List<Long> shape) {
        public DeclaredTensor {
            if (name == null || name.isBlank()) {
                throw new InvalidArgumentException("a declared tensor needs a name");
            }
            if (datatype == null) {
                throw new InvalidArgumentException("tensor '" + name + "' needs a datatype");
            }
            shape = shape == null ? List.of() : List.copyOf(shape);
        }
    }

    public ServingConfig {
        if (intraOpThreads < 0) {
            throw new InvalidArgumentException("intra_op_threads must be 0 (automatic) or more, got " + intraOpThreads);
        }
        if (interOpThreads < 0) {
            throw new InvalidArgumentException("inter_op_threads must be 0 (automatic) or more, got " + interOpThreads);
        }
        if (sessions < 1) {
            throw new InvalidArgumentException("sessions must be 1 or more, got " + sessions);
        }
        if (maxBatchSize < 1) {
            throw new InvalidArgumentException("max_batch_size must be 1 or more, got " + maxBatchSize);
        }
        if (maxQueueDelayMicros < 0) {
            throw new InvalidArgumentException("max_queue_delay_micros must be 0 or more, got " + maxQueueDelayMicros);
        }
        if (maxQueueSize < 0) {
            throw new InvalidArgumentException("max_queue_size must be 0 (the server's default) or more, got " + maxQueueSize);
        }
        if (optimizationLevel == null) {
            optimizationLevel = "all";
        }
        if (!OPTIMIZATION_LEVELS.contains(optimizationLevel)) {
            throw new InvalidArgumentException("optimization_level must be one of " + String.join(", ", OPTIMIZATION_LEVELS)
                    + ", got '" + optimizationLevel + "'");
        }
        preferredBatchSizes = preferredBatchSizes == null ? List.of() : List.copyOf(preferredBatchSizes);
        for (int size : preferredBatchSizes) {
            if (size < 1 || size > maxBatchSize) {
                throw new InvalidArgumentException("preferred_batch_sizes must lie between 1 and max_batch_size (" + maxBatchSize
                        + "), got " + size);
            }
        }
        inputs = inputs == null ? List.of() : List.copyOf(inputs);
        outputs = outputs == null ? List.of() : List.copyOf(outputs);
        if (layout == null) {
            layout = LAYOUT_AUTO;
        }
        if (!LAYOUTS.contains(layout)) {
            throw new InvalidArgumentException("layout must be one of " + String.join(", ", LAYOUTS) + ", got '" + layout + "'");
        }
    }

    /** Whether the server may choose sessions and intra-op threads by measuring ({@code layout: auto}). */
    public boolean autoLayout() {
        return LAYOUT_AUTO.equals(layout);
    }

    /** This configuration with {@code sessions} sessions of {@code intraOpThreads} threads each, the rest (layout too) unchanged. */
    public ServingConfig withLayout(int sessions, int intraOpThreads) {
        return toBuilder().sessions(sessions).intraOpThreads(intraOpThreads).layout(layout).build();
    }

    /** What a version gets when neither it nor its model configures serving. */
    public static ServingConfig defaults() {
        return new ServingConfig(1, 1, 1, "all", true, 32, 500, true, 0, List.of(), List.of(), List.of(), LAYOUT_AUTO);
    }

    /**
     * Every way the model's signature contradicts the declared inputs and outputs: a declared
     * tensor the model lacks, another datatype, another rank or a fixed size that differs
     * ({@code -1} on either side matches any size). Tensors the configuration does not declare
     * are not a contradiction (Triton completes them from the model). Empty when it all fits.
     */
    public List<String> contradictions(Signature signature) {
        List<String> problems = new ArrayList<>();
        check("input", inputs, signature.inputs(), problems);
        check("output", outputs, signature.outputs(), problems);
        return problems;
    }

    private static void check(String kind, List<DeclaredTensor> declared, List<TensorSpec> actual, List<String> problems) {
        for (DeclaredTensor d : declared) {
            TensorSpec spec = actual.stream().filter(t -> t.name().equals(d.name())).findFirst().orElse(null);
            if (spec == null) {
                problems.add("declared " + kind + " '" + d.name() + "' is not in the model (its " + kind + "s: "
                        + actual.stream().map(TensorSpec::name).toList() + ")");
                continue;
            }
            if (spec.datatype() != d.datatype()) {
                problems.add(kind + " '" + d.name() + "' is declared " + d.datatype() + ", the model has " + spec.datatype());
            }
            boolean fits = spec.shape().size() == d.shape().size();
            for (int i = 0; fits && i < d.shape().size(); i++) {
                long a = spec.shape().get(i);
                long b = d.shape().get(i);
                fits = a == b || a < 0 || b < 0;
            }
            if (!fits) {
                problems.add(kind + " '" + d.name() + "' is declared with shape " + d.shape() + " (batch axis included), the model has "
                        + spec.shape());
            }
        }
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
        private List<Integer> preferredBatchSizes;
        private List<DeclaredTensor> inputs;
        private List<DeclaredTensor> outputs;
        private String layout;

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
            preferredBatchSizes = from.preferredBatchSizes;
            inputs = from.inputs;
            outputs = from.outputs;
            layout = from.layout;
        }

        // setting a thread or session count is choosing the layout: it is fixed unless layout(auto) follows
        public Builder intraOpThreads(int v) { intraOpThreads = v; layout = LAYOUT_FIXED; return this; }
        public Builder interOpThreads(int v) { interOpThreads = v; layout = LAYOUT_FIXED; return this; }
        public Builder sessions(int v) { sessions = v; layout = LAYOUT_FIXED; return this; }
        public Builder optimizationLevel(String v) { optimizationLevel = v; return this; }
        public Builder dynamicBatching(boolean v) { dynamicBatching = v; return this; }
        public Builder maxBatchSize(int v) { maxBatchSize = v; return this; }
        public Builder maxQueueDelayMicros(long v) { maxQueueDelayMicros = v; return this; }
        public Builder warmup(boolean v) { warmup = v; return this; }
        public Builder maxQueueSize(int v) { maxQueueSize = v; return this; }
        public Builder preferredBatchSizes(List<Integer> v) { preferredBatchSizes = v; return this; }
        public Builder inputs(List<DeclaredTensor> v) { inputs = v; return this; }
        public Builder outputs(List<DeclaredTensor> v) { outputs = v; return this; }
        public Builder layout(String v) { layout = v; return this; }

        public ServingConfig build() {
            return new ServingConfig(intraOpThreads, interOpThreads, sessions, optimizationLevel, dynamicBatching,
                    maxBatchSize, maxQueueDelayMicros, warmup, maxQueueSize, preferredBatchSizes, inputs, outputs, layout);
        }
    }
}

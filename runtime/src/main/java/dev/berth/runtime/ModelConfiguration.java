package dev.berth.runtime;

import dev.berth.registry.DataType;
import dev.berth.registry.ServingConfig;
import dev.berth.registry.Signature;
import dev.berth.registry.TensorSpec;
import dev.berth.registry.VersionPolicy;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How a served model version is configured, in the terms of Triton's model configuration (what
 * Triton's {@code ModelConfig} RPC and {@code GET /v2/models/{m}/config} return). Protocol-neutral:
 * each front end writes it in its own wire form.
 *
 * @param name            the model's name
 * @param platform        {@value ModelMetadata#ONNX_PLATFORM} for berth's models
 * @param backend         {@value #ONNX_BACKEND} for berth's models
 * @param versionPolicy   which versions of the model the server loads
 * @param maxBatchSize    rows one request may carry along a batch axis; 0 when the model has no batch
 *                        axis (some input or output has a fixed first dimension, or none at all)
 * @param inputs          the inputs, {@link TensorConfig#dims() dims} without the batch axis when
 *                        {@code maxBatchSize > 0}
 * @param outputs         the outputs, likewise
 * @param dynamicBatching how concurrent requests are merged; empty when they are run one by one
 * @param instanceCount   ONNX Runtime sessions serving the version side by side, on the CPU
 */
public record ModelConfiguration(String name, String platform, String backend, VersionPolicy versionPolicy,
                                 int maxBatchSize, List<TensorConfig> inputs, List<TensorConfig> outputs,
                                 Optional<DynamicBatching> dynamicBatching, int instanceCount) {
    /** Triton's backend name for ONNX Runtime. */
    public static final String ONNX_BACKEND = "onnxruntime";

    public ModelConfiguration {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(versionPolicy, "versionPolicy");
        Objects.requireNonNull(dynamicBatching, "dynamicBatching");
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /**
     * One input or output as a model configuration lists it.
     *
     * @param dims the shape without the batch axis where the model has one; -1 marks a dynamic dimension
     */
    public record TensorConfig(String name, DataType datatype, List<Long> dims) {
        public TensorConfig {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(datatype, "datatype");
            dims = List.copyOf(dims);
        }
    }

    /** Dynamic batching: how long a request may wait for others to join its batch. */
    public record DynamicBatching(long maxQueueDelayMicros) {
    }

    /**
     * The configuration of a loaded ONNX Runtime version.
     *
     * @param batching whether the version merges concurrent requests (dynamic batching on and usable)
     */
    public static ModelConfiguration onnx(String name, Signature signature, ServingConfig serving, boolean batching,
                                          VersionPolicy policy) {
        boolean batchAxis = !signature.inputs().isEmpty()
                && signature.inputs().stream().allMatch(TensorSpec::hasDynamicBatchAxis)
                && signature.outputs().stream().allMatch(TensorSpec::hasDynamicBatchAxis);
        return new ModelConfiguration(name, ModelMetadata.ONNX_PLATFORM, ONNX_BACKEND, policy,
                batchAxis ? serving.maxBatchSize() : 0,
                tensors(signature.inputs(), batchAxis), tensors(signature.outputs(), batchAxis),
                batching ? Optional.of(new DynamicBatching(serving.maxQueueDelayMicros())) : Optional.empty(),
                serving.sessions());
    }

    /**
     * What can be said from metadata alone: no batch axis, no dynamic batching, every version, one
     * instance. For cores that know no more; berth's ONNX Runtime core gives {@link #onnx}.
     */
    public static ModelConfiguration fromMetadata(ModelMetadata metadata) {
        return new ModelConfiguration(metadata.name(), metadata.platform(), ONNX_BACKEND, VersionPolicy.all(), 0,
                tensors(metadata.inputs(), false), tensors(metadata.outputs(), false), Optional.empty(), 1);
    }

    private static List<TensorConfig> tensors(List<TensorSpec> specs, boolean dropBatchAxis) {
        return specs.stream()
                .map(s -> new TensorConfig(s.name(), s.datatype(),
                        (dropBatchAxis ? s.shape().subList(1, s.shape().size()) : s.shape()).stream()
                                .map(d -> d < 0 ? -1L : d)
                                .toList()))
                .toList();
    }
}

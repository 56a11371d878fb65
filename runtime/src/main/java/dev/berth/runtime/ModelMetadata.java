package dev.berth.runtime;

import dev.berth.registry.TensorSpec;

import java.util.List;

/** Model metadata as the protocol returns it; platform is {@value #ONNX_PLATFORM}. */
public record ModelMetadata(String name, List<String> versions, String platform,
                            List<TensorSpec> inputs, List<TensorSpec> outputs) {
    /** The platform name the Open Inference Protocol metadata gives for ONNX Runtime models. */
    public static final String ONNX_PLATFORM = "onnxruntime_onnx";

    public ModelMetadata {
        versions = List.copyOf(versions);
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }
}

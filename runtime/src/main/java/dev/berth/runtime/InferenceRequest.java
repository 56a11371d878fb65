package dev.berth.runtime;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One inference call as the core sees it, whatever protocol carried it.
 *
 * @param model            model name
 * @param version          version number or alias as the client wrote it; null for the model's default
 * @param id               the client's request id, echoed back; may be null
 * @param inputs           input tensors
 * @param requestedOutputs names of the outputs to return; empty for all
 * @param parameters       request parameters (protocol extensions), never null
 */
public record InferenceRequest(String model, String version, String id, List<Tensor> inputs,
                               List<String> requestedOutputs, Map<String, Object> parameters) {
    public InferenceRequest {
        Objects.requireNonNull(model, "model");
        inputs = List.copyOf(inputs);
        requestedOutputs = requestedOutputs == null ? List.of() : List.copyOf(requestedOutputs);
        parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
    }
}

package dev.berth.runtime;

import java.time.Duration;
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
 * @param timeout          how long the core may take from the moment it receives the request, queueing
 *                         and running included; {@link Duration#ZERO} (the default) for no limit. Past it
 *                         the request fails with {@link InferenceException.DeadlineExceeded}: not run when
 *                         still queued, its run cancelled when running.
 */
public record InferenceRequest(String model, String version, String id, List<Tensor> inputs,
                               List<String> requestedOutputs, Map<String, Object> parameters, Duration timeout) {
    public InferenceRequest {
        Objects.requireNonNull(model, "model");
        inputs = List.copyOf(inputs);
        requestedOutputs = requestedOutputs == null ? List.of() : List.copyOf(requestedOutputs);
        parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
        timeout = timeout == null ? Duration.ZERO : timeout;
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative, got " + timeout);
        }
    }

    /** A request without a timeout. */
    public InferenceRequest(String model, String version, String id, List<Tensor> inputs,
                            List<String> requestedOutputs, Map<String, Object> parameters) {
        this(model, version, id, inputs, requestedOutputs, parameters, Duration.ZERO);
    }

    /** This request with another timeout ({@link Duration#ZERO}: none). */
    public InferenceRequest withTimeout(Duration newTimeout) {
        return new InferenceRequest(model, version, id, inputs, requestedOutputs, parameters, newTimeout);
    }

    /** Whether the request has a timeout. */
    public boolean hasTimeout() {
        return !timeout.isZero();
    }
}

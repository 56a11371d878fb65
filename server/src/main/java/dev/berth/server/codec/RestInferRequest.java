package dev.berth.server.codec;

import dev.berth.runtime.InferenceRequest;

import java.util.Map;

/**
 * A decoded REST inference request: the core's request plus how each output is to be returned
 * (Triton's binary tensor data extension).
 *
 * @param request          the protocol-neutral request
 * @param binaryByDefault  the request parameter {@code binary_data_output}
 * @param binaryPerOutput  the {@code binary_data} parameter of each requested output that set one
 * @param classification   the {@code classification} count of each requested output that set one
 */
public record RestInferRequest(InferenceRequest request, boolean binaryByDefault, Map<String, Boolean> binaryPerOutput,
                               Map<String, Integer> classification) {
    public RestInferRequest {
        binaryPerOutput = Map.copyOf(binaryPerOutput);
        classification = Map.copyOf(classification);
    }

    /** Whether output {@code name} goes back as binary data after the JSON header. */
    public boolean binary(String name) {
        Boolean own = binaryPerOutput.get(name);
        return own != null ? own : binaryByDefault;
    }
}

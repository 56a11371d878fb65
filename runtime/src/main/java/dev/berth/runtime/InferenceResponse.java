package dev.berth.runtime;

import java.util.List;

/**
 * The core's answer.
 *
 * @param model        model name
 * @param version      the version that answered (an alias may split traffic, so this is the fact)
 * @param id           the request's id, or null
 * @param outputs      output tensors, in the model's order, or the requested subset in the order requested
 * @param queueNanos   time spent waiting for a batch or a session
 * @param computeNanos time in the ONNX Runtime run that served this request
 * @param batchRows    rows in the run that served this request (1 for an unbatched single row)
 */
public record InferenceResponse(String model, int version, String id, List<Tensor> outputs,
                                long queueNanos, long computeNanos, int batchRows) {
    public InferenceResponse {
        outputs = List.copyOf(outputs);
    }
}

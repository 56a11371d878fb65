package dev.berth.runtime.onnx;

/**
 * What one request may cost a version, from the core's options.
 *
 * @param maxElements      most elements in one input tensor
 * @param maxTensorBytes   most bytes one request's decoded inputs may take, and separately its outputs
 * @param maxQueueSize     most requests waiting per version where its serving config sets none
 */
record RunLimits(long maxElements, long maxTensorBytes, int maxQueueSize) {
}

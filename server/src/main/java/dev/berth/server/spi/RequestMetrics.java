package dev.berth.server.spi;

import dev.berth.runtime.InferenceObserver;

import java.util.Locale;

/**
 * What the protocol front ends report about each inference request, on top of what the core reports
 * through {@link InferenceObserver}: the protocol, the end-to-end duration, payload sizes and the
 * outcome class. The server owns this interface and monitoring implements it, so the front ends need
 * no metrics library. Called on the request path: implementations must be cheap and must not throw.
 */
public interface RequestMetrics {
    RequestMetrics NOOP = new RequestMetrics() {
        @Override
        public void requestStarted(Protocol protocol) {
        }

        @Override
        public void requestFinished(Protocol protocol, String model, String version, Outcome outcome,
                                    long durationNanos, long requestBytes, long responseBytes) {
        }
    };

    /** The wire protocol a request came in on; its label value is the lower-case name. */
    enum Protocol {
        REST, GRPC;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** How a request ended, by whose fault. */
    enum Outcome {
        SUCCESS, CLIENT_ERROR, SERVER_ERROR;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** An inference request arrived (counts as in flight until {@link #requestFinished}). */
    void requestStarted(Protocol protocol);

    /**
     * An inference request finished.
     *
     * @param model         model name as resolved, or as the client wrote it when resolution failed
     * @param version       the version the request was resolved to, also when that version refused or
     *                      failed it; "" when the request failed before a version was chosen
     * @param requestBytes  the inference request as read (REST: the body once any Content-Encoding is
     *                      undone; gRPC: the serialized message); -1 when it was not read whole or did not
     *                      parse as a message of its protocol
     * @param responseBytes the inference response as encoded, before any compression; -1 for a failure,
     *                      whose answer is an error message, not a response
     */
    void requestFinished(Protocol protocol, String model, String version, Outcome outcome,
                         long durationNanos, long requestBytes, long responseBytes);
}

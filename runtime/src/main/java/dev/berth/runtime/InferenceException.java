package dev.berth.runtime;

/**
 * Base of the core's failures. Each subtype maps to one HTTP status and one gRPC status at the
 * protocol edge; messages are written for the client and never carry stack traces.
 */
public abstract class InferenceException extends RuntimeException {
    protected InferenceException(String message) {
        super(message);
    }

    protected InferenceException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The client sent something the model cannot take: HTTP 400, gRPC INVALID_ARGUMENT. */
    public static final class InvalidInput extends InferenceException {
        public InvalidInput(String message) {
            super(message);
        }
    }

    /** No such model, version or alias: HTTP 404, gRPC NOT_FOUND. */
    public static final class NotFound extends InferenceException {
        public NotFound(String message) {
            super(message);
        }
    }

    /** The model (or server) exists but is not ready: HTTP 503, gRPC UNAVAILABLE. */
    public static final class Unavailable extends InferenceException {
        public Unavailable(String message) {
            super(message);
        }
    }

    /** The server failed while the request was fine: HTTP 500, gRPC INTERNAL. */
    public static final class Internal extends InferenceException {
        public Internal(String message, Throwable cause) {
            super(message, cause);
        }
    }
}

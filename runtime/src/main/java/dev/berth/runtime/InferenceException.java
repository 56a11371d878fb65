package dev.berth.runtime;

import java.util.OptionalInt;

/**
 * Base of the core's failures. Each subtype maps to one HTTP status and one gRPC status at the
 * protocol edge; messages are written for the client and never carry stack traces.
 *
 * <p>A failure that happened after the core chose the version to serve a request (invalid input
 * for that version's signature, an ONNX Runtime error, a version whose sessions died) carries that
 * version in {@link #resolvedVersion()}, so monitoring files the failure under the version that
 * answered it rather than under no version.
 */
public abstract class InferenceException extends RuntimeException {
    // 0 = not resolved; versions are >= 1. Volatile because one failure of a merged batch is
    // rethrown on the threads of every request in it (all resolved to the same version).
    private volatile int resolvedVersion;

    protected InferenceException(String message) {
        super(message);
    }

    protected InferenceException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * The version the failed request was resolved to, or empty when it failed before a version was
     * chosen (unknown model, version or alias; no version ready; a malformed request).
     */
    public final OptionalInt resolvedVersion() {
        int v = resolvedVersion;
        return v > 0 ? OptionalInt.of(v) : OptionalInt.empty();
    }

    /**
     * Records the version the request had been resolved to when it failed; the first version
     * recorded stays. Called by the core only on the failure path.
     *
     * @param version a version number, at least 1
     * @return this exception, to be thrown
     * @throws IllegalArgumentException for a version below 1
     */
    public final InferenceException withResolvedVersion(int version) {
        if (version < 1) {
            throw new IllegalArgumentException("a model version is at least 1, got " + version);
        }
        if (resolvedVersion == 0) {
            resolvedVersion = version;
        }
        return this;
    }

    /**
     * The message for the client, naming the version that answered when one had been chosen and
     * the message does not name it already: behind a split alias the same bad request can reach
     * either version, and the client must be able to tell which one refused it.
     */
    public final String messageNamingVersion() {
        String message = getMessage();
        int v = resolvedVersion;
        if (v == 0 || message == null || message.matches("(?s).*\\bversion " + v + "\\b.*")) {
            return message;
        }
        return message + " (answered by version " + v + ")";
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

    /**
     * The request's timeout passed before it was answered: it was not run (it was still queued) or its
     * run was cancelled. HTTP 504, gRPC DEADLINE_EXCEEDED.
     */
    public static final class DeadlineExceeded extends InferenceException {
        public DeadlineExceeded(String message) {
            super(message);
        }
    }

    /**
     * The version's queue is full: the request was refused without being queued and may be retried
     * later. HTTP 429 with {@code Retry-After}, gRPC RESOURCE_EXHAUSTED.
     */
    public static final class QueueFull extends InferenceException {
        private final int retryAfterSeconds;

        public QueueFull(String message, int retryAfterSeconds) {
            super(message);
            this.retryAfterSeconds = retryAfterSeconds;
        }

        /** A hint of when the queue may have room again, in whole seconds (at least 1). */
        public int retryAfterSeconds() {
            return Math.max(1, retryAfterSeconds);
        }
    }

    /**
     * The request would make the server hold more memory than one request may (its decoded inputs or
     * the outputs the model made): HTTP 413, gRPC RESOURCE_EXHAUSTED. The message names the limit.
     */
    public static final class TooLarge extends InferenceException {
        public TooLarge(String message) {
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

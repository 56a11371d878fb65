package dev.berth.server;

import dev.berth.registry.InvalidArgumentException;
import dev.berth.registry.InvalidModelException;
import dev.berth.registry.ModelNotFoundException;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceService;
import dev.berth.server.spi.RequestMetrics;

import java.lang.System.Logger.Level;
import java.util.OptionalInt;

/**
 * The one classification of failures for both front ends: each throwable becomes a protocol-neutral
 * kind with a client-facing message; REST turns the kind into an HTTP status, gRPC into a status code.
 * Anything unexpected is an internal error whose details stay in the server log.
 */
record Failure(Kind kind, String message, int retryAfterSeconds, String allowed) {
    private static final System.Logger LOG = System.getLogger(Failure.class.getName());

    /**
     * TOO_LARGE is a request body over the limit (the rest of it stays unread, so the connection ends
     * with the answer); OVER_MEMORY_LIMIT a request whose tensors (decoded inputs or the outputs the
     * model made) are over the per-request ceiling, after a body read whole. BROKEN_BODY a body whose framing
     * failed half way (the client closed before its Content-Length was reached, a chunk size that is not
     * hexadecimal): a client's mistake, and the connection cannot carry another request after it.
     */
    enum Kind {
        INVALID(400), UNAUTHENTICATED(401), FORBIDDEN(403), NOT_FOUND(404), METHOD_NOT_ALLOWED(405), TOO_LARGE(413),
        OVER_MEMORY_LIMIT(413), BROKEN_BODY(400), TOO_MANY_REQUESTS(429), UNAVAILABLE(503), DEADLINE_EXCEEDED(504), INTERNAL(500);

        final int httpStatus;

        Kind(int httpStatus) {
            this.httpStatus = httpStatus;
        }

        RequestMetrics.Outcome outcome() {
            return httpStatus < 500 ? RequestMetrics.Outcome.CLIENT_ERROR : RequestMetrics.Outcome.SERVER_ERROR;
        }
    }

    Failure(Kind kind, String message) {
        this(kind, message, 0, "");
    }

    Failure(Kind kind, String message, int retryAfterSeconds) {
        this(kind, message, retryAfterSeconds, "");
    }

    /** A REST path asked with a method it does not take. */
    static final class MethodNotAllowed extends RuntimeException {
        final String allowed;

        MethodNotAllowed(String message, String allowed) {
            super(message, null, false, false);
            this.allowed = allowed;
        }
    }

    /** A request body over the configured limit. */
    static final class TooLarge extends RuntimeException {
        TooLarge(String message) {
            super(message, null, false, false);
        }
    }

    /** A request body whose framing broke while it was read (see {@link Kind#BROKEN_BODY}). */
    static final class BrokenBody extends RuntimeException {
        BrokenBody(String message) {
            super(message, null, false, false);
        }
    }

    /** A repository call without the configured bearer token. */
    static final class Unauthenticated extends RuntimeException {
        Unauthenticated(String message) {
            super(message, null, false, false);
        }
    }

    /** A repository call the server is not configured to accept from anyone (see {@link RepositoryAccess}). */
    static final class Forbidden extends RuntimeException {
        Forbidden(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * A malformed request to a model that does not exist is answered 404, not 400: the body is
     * decoded before the model is looked up (that keeps lookups off the success path), but the
     * client's first mistake is the model name, and a 400 would send it hunting in the wrong place.
     * Only the failure path pays for the extra lookup.
     */
    static Failure preferNotFound(Failure failure, InferenceService core, String model, String version) {
        if (failure.kind() != Kind.INVALID) {
            return failure;
        }
        try {
            core.modelMetadata(model, version);
        } catch (RuntimeException e) {
            Failure lookup = of(e);
            if (lookup.kind() == Kind.NOT_FOUND) {
                return lookup;
            }
        }
        return failure;
    }

    /**
     * The version label a failed inference request is counted under: the version the core had
     * resolved it to when it failed, or "" when it failed before any version was chosen.
     */
    static String versionLabel(Throwable t) {
        if (t instanceof InferenceException e) {
            OptionalInt v = e.resolvedVersion();
            if (v.isPresent()) {
                return Integer.toString(v.getAsInt());
            }
        }
        return "";
    }

    static Failure of(Throwable t) {
        return switch (t) {
            case InferenceException.InvalidInput e -> new Failure(Kind.INVALID, e.messageNamingVersion());
            case InferenceException.NotFound e -> new Failure(Kind.NOT_FOUND, e.messageNamingVersion());
            case InferenceException.Unavailable e -> new Failure(Kind.UNAVAILABLE, e.messageNamingVersion());
            case InferenceException.DeadlineExceeded e -> new Failure(Kind.DEADLINE_EXCEEDED, e.messageNamingVersion());
            case InferenceException.QueueFull e -> new Failure(Kind.TOO_MANY_REQUESTS, e.messageNamingVersion(), e.retryAfterSeconds());
            case InferenceException.TooLarge e -> new Failure(Kind.OVER_MEMORY_LIMIT, e.messageNamingVersion());
            case InferenceException.Internal e -> {
                LOG.log(Level.ERROR, "internal error: " + e.getMessage(), e.getCause());
                yield new Failure(Kind.INTERNAL, e.messageNamingVersion());
            }
            case ModelNotFoundException e -> new Failure(Kind.NOT_FOUND, e.getMessage());
            case InvalidArgumentException e -> new Failure(Kind.INVALID, e.getMessage());
            case InvalidModelException e -> new Failure(Kind.UNAVAILABLE, e.getMessage());
            case TooLarge e -> new Failure(Kind.TOO_LARGE, e.getMessage());
            case BrokenBody e -> new Failure(Kind.BROKEN_BODY, e.getMessage());
            case Unauthenticated e -> new Failure(Kind.UNAUTHENTICATED, e.getMessage());
            case Forbidden e -> new Failure(Kind.FORBIDDEN, e.getMessage());
            case MethodNotAllowed e -> new Failure(Kind.METHOD_NOT_ALLOWED, e.getMessage(), 0, e.allowed);
            default -> {
                LOG.log(Level.ERROR, "unexpected failure", t);
                yield new Failure(Kind.INTERNAL, "internal server error");
            }
        };
    }
}

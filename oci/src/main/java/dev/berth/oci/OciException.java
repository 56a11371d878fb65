package dev.berth.oci;

import dev.berth.registry.RegistryException;

/**
 * A registry operation failed: the registry refused or could not be reached, or what it sent is
 * not what was asked for. Extends the registry module's exception, so the command line maps it as
 * it maps every registry failure.
 */
public class OciException extends RegistryException {
    private final int status;

    /** A failure without an HTTP status (connection refused, a digest mismatch). */
    public OciException(String message) {
        this(message, 0, null);
    }

    /** A failure with its cause. */
    public OciException(String message, Throwable cause) {
        this(message, 0, cause);
    }

    OciException(String message, int status, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** The HTTP status the registry answered, 0 when there was no answer. */
    public int status() {
        return status;
    }
}

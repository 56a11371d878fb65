package dev.berth.registry;

/** A caller's mistake: a bad name, reference, tag, alias target or artifact file. */
public class InvalidArgumentException extends RegistryException {
    public InvalidArgumentException(String message) {
        super(message);
    }

    public InvalidArgumentException(String message, Throwable cause) {
        super(message, cause);
    }
}

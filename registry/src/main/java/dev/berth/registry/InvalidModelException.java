package dev.berth.registry;

/** A file offered as a model that is not a loadable model. */
public class InvalidModelException extends RegistryException {
    public InvalidModelException(String message, Throwable cause) {
        super(message, cause);
    }

    public InvalidModelException(String message) {
        super(message);
    }
}

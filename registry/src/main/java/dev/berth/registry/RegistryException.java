package dev.berth.registry;

/** Base of every failure the registry reports; subtypes say whose fault it was. */
public class RegistryException extends RuntimeException {
    public RegistryException(String message) {
        super(message);
    }

    public RegistryException(String message, Throwable cause) {
        super(message, cause);
    }
}

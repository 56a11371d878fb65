package dev.berth.registry;

/** A model, version or alias that the registry does not hold. */
public class ModelNotFoundException extends RegistryException {
    public ModelNotFoundException(String message) {
        super(message);
    }
}

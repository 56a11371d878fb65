package dev.berth.registry;

/**
 * A registration refused because an existing version holds exactly the same files (same paths,
 * same SHA-256); register with {@code allowDuplicate} to make a new version anyway.
 */
public class DuplicateVersionException extends RegistryException {
    private final String model;
    private final int existingVersion;

    public DuplicateVersionException(String model, int existingVersion) {
        super("identical content is already registered as " + model + ":" + existingVersion
                + " (same model and files); use --allow-duplicate to make a new version anyway");
        this.model = model;
        this.existingVersion = existingVersion;
    }

    /** The model that holds the identical version. */
    public String model() {
        return model;
    }

    /** The version with the same content. */
    public int existingVersion() {
        return existingVersion;
    }
}

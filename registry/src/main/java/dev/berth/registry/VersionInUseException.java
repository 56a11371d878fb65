package dev.berth.registry;

/** A change refused because an alias still points at the version (delete it with force, or move the alias first). */
public class VersionInUseException extends RegistryException {
    public VersionInUseException(String message) {
        super(message);
    }
}

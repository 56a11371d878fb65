package dev.berth.oci;

/** The registry has no such repository, tag, manifest or blob (HTTP 404). */
public final class OciNotFoundException extends OciException {
    OciNotFoundException(String message) {
        super(message, 404, null);
    }
}

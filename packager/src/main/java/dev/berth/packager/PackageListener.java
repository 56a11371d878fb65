package dev.berth.packager;

/**
 * Receives what {@link ImagePackager} reports while it works. The packager never prints; a
 * command line turns these calls into a progress line. Calls may come from several threads.
 */
public interface PackageListener {
    /** A listener that ignores everything. */
    PackageListener NONE = new PackageListener() {
    };

    /** Progress so far; called often, the latest call supersedes earlier ones. */
    default void progress(PackageProgress progress) {
    }

    /** A notable step, one line (for example which base image is used). */
    default void message(String line) {
    }
}

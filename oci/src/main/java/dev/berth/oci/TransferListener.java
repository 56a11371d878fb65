package dev.berth.oci;

/**
 * Hears what a push or pull moves, so that a command line can draw progress; the library itself
 * never prints.
 */
public interface TransferListener {
    /** Ignores everything. */
    TransferListener NONE = new TransferListener() { };

    /** Bytes of one file moved so far, of {@code total}. */
    default void progress(String path, long done, long total) {
    }

    /** One file finished: moved, or {@code skipped} because the other side already had its blob. */
    default void done(String path, long size, boolean skipped) {
    }
}

package dev.berth.oci;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/**
 * Blobs by digest in a folder ({@code <root>/sha256/<hex>}): a blob gets its name only after its
 * bytes were checked against it, so a name is a promise about the content. Shared by every version
 * and process using the folder; a lost rename race leaves the winner's identical file.
 */
public final class BlobCache {
    private final Path root;

    /** A cache in {@code root} (created when needed). */
    public BlobCache(Path root) {
        this.root = root;
    }

    /** Writes a blob's bytes to the given file, verifying them (as {@link OciClient#downloadBlob} does). */
    @FunctionalInterface
    public interface Download {
        void to(Path file) throws IOException;
    }

    /** Whether the blob is cached. */
    public boolean contains(String digest) {
        return Files.isRegularFile(path(digest));
    }

    /** The cached blob, downloaded first when missing. */
    public Path get(String digest, Download download) throws IOException {
        Path target = path(digest);
        if (Files.isRegularFile(target)) {
            return target;
        }
        Files.createDirectories(target.getParent());
        Path tmp = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            download.to(tmp);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return target;
    }

    private Path path(String digest) {
        if (!digest.matches("sha256:[0-9a-f]{64}")) {
            throw new OciException("unsupported digest '" + digest + "'");
        }
        return root.resolve("sha256").resolve(digest.substring("sha256:".length()));
    }
}

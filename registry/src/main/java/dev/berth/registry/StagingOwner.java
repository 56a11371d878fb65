package dev.berth.registry;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;

/**
 * Marks a staging folder as in use: an OS lock on {@code .owner} inside it, held while the
 * folder is filled, so a later writer can tell a live registration from one whose process died.
 */
final class StagingOwner implements AutoCloseable {
    static final String FILE = ".owner";
    /** A staging folder without an owner file yet is given this long before it counts as abandoned. */
    static final Duration GRACE = Duration.ofMinutes(10);

    private final Path file;
    private FileChannel channel;

    private StagingOwner(Path file, FileChannel channel) {
        this.file = file;
        this.channel = channel;
    }

    static StagingOwner claim(Path staging) throws IOException {
        Path file = staging.resolve(FILE);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            channel.lock();
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        return new StagingOwner(file, channel);
    }

    static boolean isAbandoned(Path staging) {
        Path file = staging.resolve(FILE);
        try {
            if (!Files.exists(file)) {
                Instant modified = Files.getLastModifiedTime(staging).toInstant();
                return modified.plus(GRACE).isBefore(Instant.now());
            }
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                FileLock lock = ch.tryLock();
                if (lock == null) {
                    return false;
                }
                lock.release();
                return true;
            }
        } catch (OverlappingFileLockException e) {
            return false; // held by a registration in this very process
        } catch (IOException e) {
            return false; // gone meanwhile, or unreadable: not ours to judge
        }
    }

    /** Drops the lock and the marker so the folder can become a version without it. */
    void release() throws IOException {
        if (channel != null) {
            channel.close();
            channel = null;
        }
        Files.deleteIfExists(file);
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
            channel = null;
        }
    }
}

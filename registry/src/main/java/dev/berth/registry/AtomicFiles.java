package dev.berth.registry;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.UUID;

/** File helpers that keep the registry whole: writes land complete or not at all. */
public final class AtomicFiles {
    private static final String TMP_SUFFIX = ".tmp";
    private AtomicFiles() {
    }

    /** A temporary file must be this old before {@link #removeAbandoned} looks at it (a write takes milliseconds). */
    static final Duration ABANDONED_AFTER = Duration.ofMinutes(1);

    /**
     * Writes {@code content} beside {@code target} under a hidden temporary name, syncs it, then renames
     * it over the target. The temporary file is locked from creation to rename, so that
     * {@link #removeAbandoned} can tell one a killed process left behind from one being written.
     */
    public static void write(Path target, byte[] content) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + TMP_SUFFIX);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.lock();
            OutputStream out = Channels.newOutputStream(ch);
            out.write(content);
            out.flush();
            ch.force(true);
            // renamed while the lock is held: an open file keeps its lock across a rename
            move(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Deletes the hidden temporary files {@link #write} left in {@code dir} when its process died
     * mid-write (SIGKILL, a node lost): those older than {@link #ABANDONED_AFTER} whose lock nobody
     * holds. Safe while other processes write into the same folder: a file being written is locked.
     *
     * @return how many were removed
     */
    public static int removeAbandoned(Path dir) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        int removed = 0;
        Instant cutoff = Instant.now().minus(ABANDONED_AFTER);
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                String name = p.getFileName().toString();
                if (!name.startsWith(".") || !name.endsWith(TMP_SUFFIX)) {
                    continue;
                }
                try {
                    if (Files.getLastModifiedTime(p).toInstant().isAfter(cutoff)) {
                        continue;
                    }
                    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                        FileLock lock = ch.tryLock();
                        if (lock != null) {
                            Files.deleteIfExists(p);
                            removed++;
                        }
                    }
                } catch (OverlappingFileLockException e) {
                    // being written by this very process
                } catch (IOException e) {
                    // gone meanwhile, or not ours to remove
                }
            }
        } catch (IOException e) {
            return removed;
        }
        return removed;
    }

    /** Renames atomically where the file system allows it (same folder or same file system). */
    public static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Hex sha256 of a file's content. */
    public static String sha256(Path file) throws IOException {
        MessageDigest digest = newDigest();
        byte[] buffer = new byte[1 << 16];
        try (var in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** The SHA-256 of {@code content}, lower-case hex. */
    public static String sha256(byte[] content) {
        return HexFormat.of().formatHex(newDigest().digest(content));
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
    }
}
